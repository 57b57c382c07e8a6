"""The `socialdesk` command: help everywhere, and every mistake a clear message with a non-zero exit code, never a traceback."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from socialdesk.cli import default_state_dir, main
from tests.support.webhooks import EVENTS_DIR

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


# --- a user's mistake is one line and a documented exit code, never a traceback -------------------


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"socialdesk {version('socialdesk')}\n"


def test_config_check_of_a_directory_says_it_is_one_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When config check is given a folder instead of a file
    code = main(["config", "check", str(tmp_path)])
    # Then it is unreadable (2), in one line
    assert code == 2
    assert capsys.readouterr().err == f"socialdesk config check: {tmp_path}: a directory, not a rules file\n"


def test_config_check_reports_a_salesforce_setting_that_cannot_work_with_the_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a rules file with a mistake in each table and an api_version too old to work
    path = tmp_path / "rules.toml"
    path.write_text('[zendesk]\nsubdomain = "A B"\n[salesforce]\napi_version = "40.0"\nmode = "crm"\ncontact_external_id_field = "Handle__c"\n')
    # Then all three come in one pass, the version under its own key
    assert main(["config", "check", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: 3 problems",
        "  zendesk.subdomain: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
        "  salesforce.api_version: must be 46.0 or later",
        "  salesforce.mode: Input should be 'task' or 'social'",
    ]


def test_config_check_warns_about_the_shipped_placeholder_subdomain(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the shipped rules file, valid but naming no real Zendesk
    # Then it is valid (0: the local stack runs on it) with a warning, and --strict makes the warning fail (1)
    assert main(["config", "check", str(REPO_RULES)]) == 0
    assert 'warning: zendesk.subdomain: "your-subdomain" is the shipped placeholder' in capsys.readouterr().err
    assert main(["config", "check", "--strict", str(REPO_RULES)]) == 1


def test_config_check_of_your_own_subdomain_warns_of_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[zendesk]\nsubdomain = "acme"\n')
    assert main(["config", "check", "--strict", str(path)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("this is not JSON", "not JSON (Expecting value at line 1 column 1)"),
        ('{"a": 1}', "not an API Gateway HTTP API event (no requestContext.http.method)"),
        ("[1, 2]", "not an API Gateway HTTP API event (a JSON object is expected, not list)"),
        ('{"requestContext": {"http": {"method": "POST"}}}', "not an API Gateway HTTP API event (no rawPath)"),
        (
            '{"requestContext": {"http": {"method": "POST"}}, "rawPath": "/webhooks/x", "isBase64Encoded": true, "body": "abc"}',
            "isBase64Encoded is true but the body is not base64",
        ),
    ],
    ids=["not-json", "not-an-event", "not-an-object", "no-path", "bad-base64"],
)
def test_send_of_a_file_that_is_no_event_says_what_is_wrong_in_one_line(
    tmp_path: Path, content: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file that is not a webhook event
    path = tmp_path / "event.json"
    path.write_text(content)
    # When it is sent, it is a usage error (2) naming the file and the problem, nothing is posted
    assert main(["send", str(path), "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk send: {path}: {problem}")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("url", "problem"), [("ftp://127.0.0.1:3000", "not an http:// address"), ("http://127.0.0.1:99999", "Port out of range")], ids=["scheme", "port"]
)
def test_send_to_an_address_that_is_no_http_url_is_a_usage_error(url: str, problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "x-mention", "--url", url]) == 2
    assert capsys.readouterr().err.startswith(f"socialdesk send: --url {url}: {problem}")


@pytest.mark.parametrize("port", ["80000", "-1", "three"])
def test_a_port_that_is_no_port_is_a_one_line_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["local", "--port", port])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"socialdesk local: argument --port: {port} is not a port number: give 1 to 65535, or 0 for any free port (see socialdesk local --help)\n"
    )


def test_an_unknown_option_is_one_line_that_points_at_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["send", "--nope"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "socialdesk: unrecognized arguments: --nope (see socialdesk --help)\n"


def test_each_port_keeps_its_own_local_state_and_the_demo_its_own() -> None:
    # A second stack on another port (the advice for a taken port) gets a directory of its own
    assert default_state_dir("local", 3000) == Path(".socialdesk/local/3000")
    assert default_state_dir("local", 3001) == Path(".socialdesk/local/3001")
    assert default_state_dir("demo", 51234) == Path(".socialdesk/demo")


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Resources: [\n", "cannot be read"),
        ("Resources: " + "[" * 5000 + "]" * 5000 + "\n", "cannot be read: its nodes are nested too deeply"),
        ("just text\n", "is not a SAM template (no Resources section)"),
    ],
    ids=["yaml", "nested-too-deeply", "shape"],
)
def test_a_template_that_is_no_template_stops_local_before_anything_starts(
    tmp_path: Path, content: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(content)
    assert main(["local", "--template", str(template), "--state-dir", str(tmp_path / "state")]) == 1
    assert capsys.readouterr().err.startswith(f"socialdesk local: template {template} {problem}")
    assert not (tmp_path / "state").exists()


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
def test_a_credentials_path_that_is_a_directory_stops_local_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--credentials", str(tmp_path), "--state-dir", str(tmp_path / "state")]) == 1
    assert capsys.readouterr().err == f"socialdesk local: {tmp_path}: a directory, not a file\n"  # the path said once
