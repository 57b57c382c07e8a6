"""Validate a rules file before deploying it: every problem, with where it is.

Usage: python -m socialdesk.rules.check [config/socialdesk.toml]
Exit code 0 when valid, 1 when not, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from socialdesk.rules.config import RulesError, load_rules

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_RULES_FILE = Path("config/socialdesk.toml")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m socialdesk.rules.check", description="Validate a socialdesk rules file.")
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_RULES_FILE, help=f"the rules file (default {DEFAULT_RULES_FILE})")
    path = parser.parse_args(argv).file
    try:
        rules = load_rules(path)
    except RulesError as exc:
        unreadable = exc.problems == ["file not found"] or exc.problems[0].startswith("not valid TOML")
        print(f"{path}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2 if unreadable else 1
    salesforce = f"Salesforce {rules.salesforce.mode} mode" if rules.salesforce else "no Salesforce"
    print(f"{path}: valid (Zendesk {rules.zendesk.subdomain}.{rules.zendesk.domain}, {salesforce})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
