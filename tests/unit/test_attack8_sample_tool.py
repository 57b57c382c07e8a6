"""Attack (issue 8, the docs): a command events/README.md shows fails as shown.

events/README.md, Using a sample: `./uvw run python -m socialdesk.devtools.samples --now events/x-mention.json`
"re-date a sample in place first". Run as a module, `samples.py` calls `main()` in its `if __name__ == "__main__"`
block, which sits above the functions `--now` needs (`with_json_body`, `redated`, `body_json`): NameError, a
traceback, exit 1. Importing the module (as the tests and `socialdesk send` do) defines them all, which is why
calling `main()` in-process passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.support.webhooks import EVENTS_DIR


def test_the_documented_now_command_re_dates_a_sample_in_place(tmp_path: Path) -> None:
    # Given a copy of the X mention sample, recorded in 2025
    sample = tmp_path / "x-mention.json"
    shutil.copy(EVENTS_DIR / "x-mention.json", sample)
    # When it is re-dated in place as events/README.md shows
    done = subprocess.run(
        [sys.executable, "-m", "socialdesk.devtools.samples", "--now", str(sample)], capture_output=True, text=True, timeout=120, check=False
    )
    # Then the command succeeds without a traceback
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # And the sample's post is now dated this year
    body = json.loads(json.loads(sample.read_text(encoding="utf-8"))["body"])
    assert str(datetime.now(UTC).year) in body["tweet_create_events"][0]["created_at"]
