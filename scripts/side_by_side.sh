#!/usr/bin/env bash
# Run several commands side by side, each logging to _build/<name>.log; print each
# one's last line, and the whole log of any that failed. Exit 1 if any failed.
#   scripts/side_by_side.sh "name=command ..." "name2=command ..."
set -uo pipefail
mkdir -p _build
names=(); pids=()
for job in "$@"; do
	name=${job%%=*}; cmd=${job#*=}
	bash -c "$cmd" >"_build/$name.log" 2>&1 &
	names+=("$name"); pids+=($!)
done
status=0
for i in "${!names[@]}"; do
	name=${names[$i]}
	if wait "${pids[$i]}"; then
		echo "$name: $(tail -n 1 "_build/$name.log")"
	else
		status=1; cat "_build/$name.log"
		echo "$name: FAILED (log above: _build/$name.log)"
	fi
done
exit $status
