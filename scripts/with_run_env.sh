#!/usr/bin/env bash
# Run a command in the book's run environment (scripts/run.env), the one every
# notebook execution and check uses:  scripts/with_run_env.sh COMMAND [ARGS...]
set -euo pipefail
set -a
# shellcheck source=run.env
. "$(dirname "$0")/run.env"
set +a
exec "$@"
