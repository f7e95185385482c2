"""The run environment of scripts/run.env as a dict, for the Python scripts.

Example:
    >>> RUN_ENV["DLBOOK_BUILD"]
    '1'
"""

from __future__ import annotations

from pathlib import Path

RUN_ENV_FILE = Path(__file__).with_name("run.env")


def read_run_env(path: Path = RUN_ENV_FILE) -> dict[str, str]:
    """``KEY=VALUE`` lines of ``path``; blank lines and ``#`` comments skipped."""
    env = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.isidentifier() or " " in value:
            raise ValueError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        env[key] = value
    return env


RUN_ENV = read_run_env()
