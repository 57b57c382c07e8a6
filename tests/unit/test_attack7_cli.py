"""Attack (issue 7, item 11, and the local CLI): local output neutralises terminal control characters; the CLI destroys nothing.

- `socialdesk send` prints the stack's answer as it came. The Meta verification answer is the raw `hub.challenge`, so an
  edited event file (or any server `--url` names) writes escape sequences straight to the terminal.
- `socialdesk demo` starts by deleting its `--state-dir` whole (`shutil.rmtree`), whatever it holds. `socialdesk local`
  clears only `<state-dir>/sandbox`. Pointing demo at the folder of `.socialdesk/credentials.toml` deletes the real
  Zendesk and Salesforce credentials; `--state-dir .` deletes the checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from socialdesk.cli import main
from tests.support.ingest import Harness
from tests.support.webhooks import EVENTS_DIR

HOSTILE = "%1B%5D0%3Bowned%07%1B%5B2J"  # OSC "set window title", BEL, then "clear screen", URL-encoded


def test_send_shows_control_characters_in_the_answer_as_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an edited copy of the Meta verification sample whose challenge holds terminal escape sequences
    event = json.loads((EVENTS_DIR / "meta-verify.json").read_text())
    event["rawQueryString"] = event["rawQueryString"].replace("hub.challenge=1158201444", f"hub.challenge={HOSTILE}")
    edited = tmp_path / "verify.json"
    edited.write_text(json.dumps(event))
    # And the local stack's ingest answering it (the real use case, without a socket)
    harness = Harness()

    def answered_by_ingest(url: str, sent: dict[str, Any]) -> tuple[int, str]:
        response = harness.send(sent)
        return response.status, response.body

    monkeypatch.setattr("socialdesk.local.send.send_event", answered_by_ingest)
    # When it is sent
    assert main(["send", str(edited)]) == 0
    # Then the line printed shows the escape characters as text, as every other local output line does
    printed = capsys.readouterr().out
    assert "→ 200" in printed
    assert "\x1b" not in printed and "\x07" not in printed


# Importing the demo imports boto3, which makes urllib3 probe for IPv6 with a socket; nothing connects anywhere.
@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
def test_demo_never_deletes_files_it_did_not_create(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the folder holding the real credentials for local runs (README: .socialdesk/credentials.toml), and the demo
    # told to keep its state there
    state = tmp_path / ".socialdesk"
    state.mkdir()
    credentials = state / "credentials.toml"
    credentials.write_text('zendesk_api_token = "real-token"\n')
    monkeypatch.setattr("socialdesk.local.demo.run_demo", lambda runner, events: 0)  # the scenario itself is not the point
    # When the demo starts
    main(["demo", "--state-dir", str(state)])
    # Then the credentials are still there: a fresh start clears only what the demo itself wrote
    assert credentials.exists()
