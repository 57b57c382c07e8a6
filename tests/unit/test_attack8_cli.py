"""Attack (issue 8, item 2): user mistakes the CLI still answers with a traceback, or with the wrong exit code.

README, Commands: "A mistake is always one line on stderr, `socialdesk <command>: <what is wrong>`, never a traceback;
2 is always a usage error and 1 a failure." `send` exits 2 for "a file that is not JSON or not an API Gateway event, or
a `--url` that is no http address"; `config check` exits 2 for a file it cannot read as TOML.

- A deeply nested document (a few thousand `[`) makes tomllib and json recurse until RecursionError, which no
  `except` on the way expects: `config check` and `send` print a traceback and exit 1.
- An edited event file whose header, method, path or query HTTP cannot carry (a header value outside Latin-1, a
  CR/LF in a header or the method, a non-ASCII path or query) passes the event shape check and then breaks
  http.client with UnicodeEncodeError/ValueError: a traceback, exit 1.
- A `--url` whose host is not a host name (a space in it, a DNS label over 63 characters) passes `--url` checking,
  then either says "no local stack answers" (exit 1) or raises UnicodeError from the resolver (a traceback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from socialdesk.cli import main
from tests.support.webhooks import EVENTS_DIR

DEPTH = 5000  # a file of 10 KB; Python's default recursion limit is 1,000


def test_config_check_of_a_deeply_nested_rules_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a rules file that is TOML-shaped but nests arrays thousands deep
    rules = tmp_path / "rules.toml"
    rules.write_text("zendesk = " + "[" * DEPTH + "]" * DEPTH + "\n")
    # When it is checked
    code = main(["config", "check", str(rules)])
    # Then it is one line saying the file cannot be read as a rules file, exit 2, as for any file that is no TOML
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk config check: {rules}: ")
    assert err.count("\n") == 1


def test_send_of_a_deeply_nested_json_file_is_a_one_line_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a file that is JSON nested thousands deep (no event)
    path = tmp_path / "event.json"
    path.write_text("[" * DEPTH + "]" * DEPTH)
    # When it is sent
    code = main(["send", str(path), "--url", "http://127.0.0.1:9"])
    # Then it is a usage error naming the file, in one line, and nothing is posted
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk send: {path}: ")
    assert err.count("\n") == 1


def _edited_whatsapp_sample(edit: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / "meta-whatsapp-text.json").read_text(encoding="utf-8"))
    if edit == "header-outside-latin-1":
        event["headers"]["x-note"] = "\u00fcn\u00ef\u202e"
    elif edit == "header-with-crlf":
        event["headers"]["x-note"] = "a\r\nX-Injected: 1"
    elif edit == "method-with-crlf":
        event["requestContext"]["http"]["method"] = "POST\r\n"
    elif edit == "non-ascii-path":
        event["rawPath"] = "/webhooks/métà"
    elif edit == "non-ascii-query":
        event["rawQueryString"] = "a=ü"
    return event


@pytest.mark.parametrize("edit", ["header-outside-latin-1", "header-with-crlf", "method-with-crlf", "non-ascii-path", "non-ascii-query"])
def test_send_of_an_event_file_http_cannot_carry_says_what_is_wrong_in_one_line(
    tmp_path: Path, edit: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an edited copy of a sample (README: "socialdesk send FILE posts an edited event file") whose header,
    # method, path or query cannot go into an HTTP request as written
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(_edited_whatsapp_sample(edit), ensure_ascii=False), encoding="utf-8")
    # When it is sent (the mistake shows before any connection: nothing listens at the address)
    code = main(["send", str(path), "--url", "http://127.0.0.1:9"])
    # Then it is one line naming the file and what is wrong with it, exit 2 as for any file that is not a usable event
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk send: {path}: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("url", ["http://exa mple:3000", "http://" + "a" * 70 + ".example:3000"], ids=["space-in-host", "label-over-63"])
def test_send_to_a_url_whose_host_is_no_host_name_is_a_usage_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # When send is given an address whose host cannot be a host name
    code = main(["send", "x-mention", "--url", url])
    # Then it is a usage error about --url, in one line, as for any --url that is no http address
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk send: --url {url}: ")
    assert err.count("\n") == 1
