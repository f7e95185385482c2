"""scripts/run.env is the one run environment: the shell and Python read it alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from run_env import RUN_ENV, read_run_env  # noqa: E402


def test_shell_and_python_read_the_same_environment():
    out = subprocess.run(
        [str(ROOT / "scripts/with_run_env.sh"), "env"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shell = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert {key: shell.get(key) for key in RUN_ENV} == RUN_ENV
    assert RUN_ENV["DLBOOK_BUILD"] == "1" and RUN_ENV["TQDM_DISABLE"] == "1"


def test_no_other_copy_of_the_run_environment():
    """The Makefile and scripts read run.env; none spells the settings out again."""
    for path in [
        ROOT / "Makefile",
        *ROOT.glob("scripts/*.py"),
        *ROOT.glob("scripts/*.sh"),
    ]:
        if path.name in ("run_env.py", "gpu_step_times.py"):
            continue
        text = path.read_text()
        assert "PYTHONHASHSEED=0" not in text and '"PYTHONHASHSEED"' not in text, path


def test_a_bad_line_is_named(tmp_path):
    env = tmp_path / "run.env"
    env.write_text("# fine\nA=1\nB = 2\n")
    with pytest.raises(ValueError, match=r"run.env:3: expected KEY=VALUE, got 'B = 2'"):
        read_run_env(env)
