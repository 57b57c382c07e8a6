"""The `socialdesk` command: help everywhere, and every mistake a clear message with a non-zero exit code, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from socialdesk.cli import main
from tests.support.webhooks import EVENTS_DIR

if TYPE_CHECKING:
    from pathlib import Path

REPO_RULES = EVENTS_DIR.parent / "config" / "socialdesk.toml"


@pytest.mark.parametrize("command", [[], ["local"], ["send"], ["demo"], ["config"], ["config", "check"]], ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {' '.join(['socialdesk', *command])}")


@pytest.mark.parametrize("command", [[], ["config"]], ids=["socialdesk", "config"])
def test_a_command_group_without_its_command_shows_its_usage(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(command) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_send_lists_every_sample_with_what_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == len(list(EVENTS_DIR.glob("*.json")))
    assert any(line.startswith("meta-whatsapp-text ") and "WhatsApp" in line for line in listed)


def test_an_unknown_sample_is_a_usage_error_that_says_how_to_list_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "x-mentoin"]) == 2
    assert capsys.readouterr().err == "socialdesk send: no sample or file named 'x-mentoin'; list the samples with: socialdesk send --list\n"


def test_send_without_a_sample_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send"]) == 2
    assert "name a sample (e.g. x-mention) or a file" in capsys.readouterr().err


# Importing boto3 makes urllib3 probe for IPv6 with a socket; nothing connects anywhere.
@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
def test_a_missing_template_stops_local_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--template", str(tmp_path / "template.yaml"), "--state-dir", str(tmp_path / "state")]) == 1
    assert capsys.readouterr().err.startswith(f"socialdesk local: template not found: {tmp_path / 'template.yaml'}")
    assert not (tmp_path / "state").exists()


def test_a_missing_credentials_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--credentials", str(tmp_path / "creds.toml")]) == 1
    assert capsys.readouterr().err == f"socialdesk local: credentials file not found: {tmp_path / 'creds.toml'}\n"


def test_config_check_says_valid_with_what_it_will_talk_to(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(REPO_RULES)]) == 0
    assert "valid (Zendesk your-subdomain.zendesk.com, Salesforce task mode)" in capsys.readouterr().out


def test_config_check_lists_every_problem_with_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a rules file with two mistakes in different tables
    path = tmp_path / "rules.toml"
    path.write_text('[zendesk]\nsubdomain = "A B"\n[acks]\nenabled = true\n')
    # Then both are printed, each with where it is, and the exit code is 1
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: 2 problems\n")
    assert "  zendesk.subdomain: String should match pattern" in err
    assert "  acks: Extra inputs are not permitted" in err


@pytest.mark.parametrize(("content", "problem"), [(None, "file not found"), ("[zendesk\n", "not valid TOML")], ids=["missing", "broken"])
def test_config_check_exits_2_when_the_file_cannot_be_read(
    tmp_path: Path, content: str | None, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.toml"
    if content is not None:
        path.write_text(content)
    assert main(["config", "check", str(path)]) == 2
    assert problem in capsys.readouterr().err
