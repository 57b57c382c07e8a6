"""The committed sample events stay signed, and the re-sign helper makes an edited sample valid again."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pytest

from socialdesk.devtools import samples
from socialdesk.platforms.meta import MetaWebhook
from socialdesk.platforms.signing import matches_any
from tests.support.webhooks import EVENTS_DIR, SAMPLE_NAMES

if TYPE_CHECKING:
    from pathlib import Path


def test_every_committed_sample_is_signed_with_the_documented_test_secrets() -> None:
    # A stale sample fails `sam local invoke -e` with 401, so CI catches it here.
    assert samples.main(["--check", *(str(EVENTS_DIR / f"{name}.json") for name in SAMPLE_NAMES)]) == 0


def test_every_platform_and_challenge_has_a_sample() -> None:
    assert {"x-crc", "meta-verify", "x-mention", "x-dm", "meta-fb-comment", "meta-messenger-message"} <= set(SAMPLE_NAMES)
    assert {"meta-instagram-comment", "meta-instagram-dm", "meta-whatsapp-text", "meta-whatsapp-status-failed"} <= set(SAMPLE_NAMES)


@pytest.fixture
def edited_sample(tmp_path: Path) -> Path:
    # Given a sample whose body someone edited by hand, leaving the old signature behind
    path = tmp_path / "meta-whatsapp-text.json"
    shutil.copy(EVENTS_DIR / "meta-whatsapp-text.json", path)
    event = json.loads(path.read_text())
    event["body"] = event["body"].replace("Mi pedido no ha llegado", "Mi pedido llegó roto")
    path.write_text(json.dumps(event))
    return path


def test_check_reports_a_sample_whose_body_was_edited(edited_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert samples.main(["--check", str(edited_sample)]) == 1
    assert f"stale signature: {edited_sample}" in capsys.readouterr().err


def test_resigning_an_edited_sample_makes_its_signature_match_the_new_body(edited_sample: Path) -> None:
    # When the helper re-signs it
    assert samples.main([str(edited_sample)]) == 0
    # Then the signature header verifies against the edited bytes with the test app secret
    event = json.loads(edited_sample.read_text())
    body = event["body"].encode()
    assert matches_any(event["headers"]["x-hub-signature-256"], MetaWebhook().signatures(body, [samples.TEST_SECRETS["meta_app_secret"]]))
    assert samples.main(["--check", str(edited_sample)]) == 0


def test_body_option_replaces_the_body_with_the_files_exact_bytes(edited_sample: Path, tmp_path: Path) -> None:
    new_body = tmp_path / "body.json"
    new_body.write_bytes(b'{"object":"page","entry":[],"note":"caf\\u00e9"}')
    assert samples.main(["--body", str(new_body), str(edited_sample)]) == 0
    event = json.loads(edited_sample.read_text())
    assert event["body"] == '{"object":"page","entry":[],"note":"caf\\u00e9"}'
    assert samples.main(["--check", str(edited_sample)]) == 0


def test_a_body_file_that_is_not_there_is_one_line_and_a_usage_error(edited_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = edited_sample.read_bytes()
    # When --body names a file that does not exist
    assert samples.main(["--body", str(tmp_path / "missing.json"), str(edited_sample)]) == 2
    # Then one line says which and why, and the sample is left as it was
    err = capsys.readouterr().err
    assert err == f"python -m socialdesk.devtools.samples: --body {tmp_path / 'missing.json'}: cannot be read: No such file or directory\n"
    assert edited_sample.read_bytes() == before


def test_an_event_file_that_is_not_json_is_one_line_and_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "event.json"
    path.write_text("[" * 5000)
    assert samples.main(["--now", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m socialdesk.devtools.samples: {path}: not a sample event this tool can sign (")
    assert err.count("\n") == 1
