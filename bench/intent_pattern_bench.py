"""Intent patterns on hostile text: CPU time of the old unbounded opening-hours pattern over a whole long post, against
socialdesk's intent matching with the shipped rules (patterns see the first 1,000 characters; bounded gap).

Run: uv run python -m bench.intent_pattern_bench
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

from socialdesk.classify.intent import intents
from socialdesk.classify.text import for_matching
from socialdesk.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
OLD_PATTERN = r"\b(when|what time)\b.*\bopen"
RUNS = 5


def _cpu(action: object) -> float:
    """Median CPU seconds of RUNS calls."""
    assert callable(action)
    times = []
    for _ in range(RUNS):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    rules = load_rules(ROOT / "config" / "socialdesk.toml")
    assert rules.classification is not None
    configured = rules.classification.intents
    print("command: uv run python -m bench.intent_pattern_bench")
    print("characters  old pattern, whole text  shipped intents()")
    for length in (1_000, 5_000, 25_000):
        hostile = ("when " * (length // 5))[:length]  # every word starts a match that never finds "open"
        matching = for_matching(hostile)
        old = _cpu(lambda matching=matching: re.search(OLD_PATTERN, matching, re.IGNORECASE))
        new = _cpu(lambda hostile=hostile: intents(hostile, "en", configured))
        print(f"{length:>10}  {old * 1000:>19.1f} ms  {new * 1000:>14.2f} ms")


if __name__ == "__main__":
    main()
