"""Benchmarks: each prints its tables and the command that re-runs it (docs/benchmarks.md keeps the latest results)."""

from __future__ import annotations

import shlex
import sys

UVW = "./uvw run python -m"
# The cold start runs the deployed artifact on the Lambda runtime's Python, which must be on PATH.
WITH_313 = 'PATH="$(pyenv prefix 3.13.0)/bin:$PATH" ./uvw run python -m'
PYTHON_313 = 'PATH="$(pyenv prefix 3.13.0)/bin:$PATH" ./uvw run --isolated --python python3.13 python -m'


def rerun(module: str, prefix: str = UVW) -> str:
    """The exact command that re-runs this benchmark with the arguments it was given."""
    return " ".join(part for part in (prefix, module, shlex.join(sys.argv[1:])) if part)
