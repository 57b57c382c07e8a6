"""`socialdesk local` in-process: the template's real handlers behind a local HTTP API, moto for AWS, sandboxes for the CRMs."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from socialdesk.cli import main
from socialdesk.crm.sandbox import load_crm_state
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerError, RunnerOptions
from socialdesk.local.send import send_event
from socialdesk.observability import logger
from tests.support.webhooks import sample

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRunner]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=tmp_path / "state")) as running:
        yield running


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status), response.read().decode()


def test_a_whatsapp_message_becomes_a_sandbox_ticket_a_salesforce_activity_and_a_console_row(runner: LocalRunner) -> None:
    # When Meta posts the signed WhatsApp sample to the local HTTP API
    status, body = send_event(runner.url, sample("meta-whatsapp-text"))
    assert (status, json.loads(body)["queued"]) == (200, 1)
    assert runner.wait_until_idle()
    # Then the sandbox helpdesk holds one ticket with her words, requested by her
    desk = load_desk_state(runner.sandbox_dir / "zendesk.json")
    [ticket] = desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public] == ["Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"]
    assert desk.users[next(iter(desk.users))].name == "Dana Rodríguez"
    # And the sandbox CRM holds her contact and one activity linking to that ticket
    crm = load_crm_state(runner.sandbox_dir / "salesforce.json")
    [activity] = crm.activities.values()
    assert activity.activity.ticket_url is not None
    assert activity.activity.ticket_url.endswith(f"/{ticket.id}")
    # And the console shows the conversation
    status, page = get(runner.url + "/")
    assert status == 200
    assert "<td>WhatsApp</td><td>Dana Rodríguez</td><td>1</td>" in page
    _, state = get(runner.url + "/console/state.json")
    assert [row["ticket"] for row in json.loads(state)] == [f"#{ticket.id} new"]


def test_a_tampered_webhook_is_refused_and_creates_nothing(runner: LocalRunner) -> None:
    event = sample("meta-whatsapp-text")
    event["body"] = event["body"].replace("Mi pedido", "Tu pedido")
    status, _ = send_event(runner.url, event)
    assert status == 401
    assert runner.wait_until_idle()
    assert runner.rows() == []
    assert not (runner.sandbox_dir / "zendesk.json").exists()


def test_challenges_and_undeclared_routes_are_answered_as_api_gateway_would(runner: LocalRunner) -> None:
    assert send_event(runner.url, sample("meta-verify")) == (200, "1158201444")
    assert send_event(runner.url, sample("x-crc"))[0] == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(runner.url + "/webhooks/nowhere")
    assert refused.value.code == 404


def test_real_credentials_replace_the_sandbox_and_reach_the_functions_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    credentials = {"zendesk_email": "bot@acme.example", "zendesk_api_token": "token"}
    rules = tmp_path / "rules.toml"
    rules.write_text('[zendesk]\nsubdomain = "acme"\n')  # a real Zendesk needs a real subdomain
    options = RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=tmp_path / "state", rules_file=rules, credentials=credentials)
    with LocalRunner(options) as running:
        assert running.backends == "Zendesk: real · Salesforce: sandbox · AWS: moto"
        secret = running.aws.secretsmanager.get_secret_value(SecretId=running.aws.resource("CrmSecret"))["SecretString"]
        assert json.loads(secret)["zendesk_api_token"] == "token"


def test_a_taken_port_is_a_clear_error_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given something already listening on the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When socialdesk local is asked to use it
        code = main(["local", "--port", str(port), "--state-dir", str(tmp_path / "state")])
    # Then it says so, suggests --port, and exits 1
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk local: port {port} is in use (")
    assert err.endswith("; choose another with --port\n")


def test_the_live_output_says_what_each_event_did_including_a_duplicate(runner: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # When Meta delivers the same WhatsApp message twice
    for _ in range(2):
        assert send_event(runner.url, sample("meta-whatsapp-text"))[0] == 200
        assert runner.wait_until_idle()
    # Then one line says the ticket was opened (the customer's number pseudonymised), the next that the repeat was
    # recognised, and no JSON log leaks out
    printed = capsys.readouterr().out
    assert "whatsapp:106540352242922:chat:~6069d14b → ticket #4014: ticket_created, context_note, crm_activity" in printed
    # (the sandbox lines show what the sandbox CRM holds, the number included, as Salesforce would: local only)
    assert [line for line in printed.splitlines() if "  process " in line and "16505551234" in line] == []
    assert ": already handled (duplicate delivery)" in printed
    assert '"level":' not in printed


def test_leaving_the_local_stack_gives_the_process_back_its_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the process's JSON logging before a local run (tests and tools run the stack in-process)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    json_handler, level = logger.registered_handler, logger.log_level
    with LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=tmp_path / "state")):
        assert json_handler not in logger.handlers
    # Then afterwards it logs JSON at its own level again, and sandbox lines are no longer printed
    assert json_handler in logger.handlers
    assert logger.log_level == level
    assert logging.getLogger("socialdesk.sandbox").handlers == []


# --- refused before anything listens or any state is cleared ------------------------------------


def earlier_state(state_dir: Path) -> Path:
    """A ticket file left by an earlier run: a refused start must leave it alone."""
    (state_dir / "sandbox").mkdir(parents=True)
    kept = state_dir / "sandbox" / "zendesk.json"
    kept.write_text('{"earlier": true}')
    return kept


def nothing_listens_on(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (None, "rules file {path}: file not found"),
        ('[zendesk]\nsubdomain = "Acme Corp"\n', "rules file {path} is invalid: zendesk.subdomain: String should match pattern"),
    ],
    ids=["missing", "invalid"],
)
def test_local_refuses_a_rules_file_it_cannot_use_before_it_listens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str | None, problem: str
) -> None:
    # Given a rules file that is missing or invalid (the process function would fail on every batch)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    path = tmp_path / "rules.toml"
    if rules is not None:
        path.write_text(rules)
    kept, port = earlier_state(tmp_path / "state"), free_port()
    options = RunnerOptions(template=TEMPLATE, port=port, state_dir=tmp_path / "state", rules_file=path)
    # When the local stack is started with it, it refuses with the reason
    with pytest.raises(RunnerError) as refused, LocalRunner(options):
        pass
    assert str(refused.value).startswith(problem.format(path=path))
    # And it listened on nothing and cleared nothing
    assert nothing_listens_on(port)
    assert kept.read_text() == '{"earlier": true}'


def test_the_refusal_is_one_line_of_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    rules = tmp_path / "rules.toml"
    rules.write_text('[zendesk]\nsubdomain = "acme"\n[salesforce]\napi_version = "40.0"\n')
    assert main(["local", "--port", str(free_port()), "--rules", str(rules), "--state-dir", str(tmp_path / "state")]) == 1
    assert capsys.readouterr().err == (
        f"socialdesk local: rules file {rules} is invalid: salesforce.api_version: must be 46.0 or later; "
        f"salesforce.contact_external_id_field: Field required (check it with: socialdesk config check {rules})\n"
    )


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        ({"zendesk_api_token": "token"}, "credentials incomplete: no value for zendesk_email"),
        ({"salesforce_consumer_key": "key"}, "credentials incomplete: no value for salesforce_username, salesforce_private_key"),
        ({"zendesk_api_token": "token", "zendesk_email": "bot@acme.example"}, "Zendesk credentials are given but rules file"),
    ],
    ids=["zendesk-half", "salesforce-half", "placeholder-subdomain"],
)
def test_local_refuses_credentials_that_cannot_work_with_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: dict[str, str], problem: str
) -> None:
    # Given real credentials with a key missing, or for a Zendesk the shipped rules file cannot name
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    port = free_port()
    options = RunnerOptions(template=TEMPLATE, port=port, state_dir=tmp_path / "state", credentials=credentials)
    # Then the stack refuses to start, saying what is missing, before it listens
    with pytest.raises(RunnerError, match=f"^{problem}"), LocalRunner(options):
        pass
    assert nothing_listens_on(port)


def test_a_second_local_on_the_same_state_leaves_the_first_stacks_state_alone(runner: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a running stack with a ticket in its sandbox
    assert send_event(runner.url, sample("meta-whatsapp-text"))[0] == 200
    assert runner.wait_until_idle()
    before = (runner.sandbox_dir / "zendesk.json").read_text()
    # When a second socialdesk local is started on its state directory and port (as the README once advised)
    code = main(["local", "--port", str(runner.options.port), "--state-dir", str(runner.options.state_dir)])
    # Then it refuses, naming the stack that holds the directory, and the first stack's state is untouched
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk local: state directory {runner.options.state_dir} is in use by socialdesk (pid ")
    assert err.endswith("; stop that stack first, or give this one another --state-dir\n")
    assert (runner.sandbox_dir / "zendesk.json").read_text() == before
    assert [row.ticket for row in runner.rows()] == ["#4014 new"]


# --- socialdesk send against a running stack -----------------------------------------------------


def test_send_finds_the_stack_at_an_address_without_a_scheme(runner: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # When the address is given as host:port, as the start-up line shows it without http://
    code = main(["send", "meta-whatsapp-text", "--url", f"127.0.0.1:{runner.options.port}"])
    # Then it is read as http:// and the stack answers
    assert code == 0
    assert "→ 200 " in capsys.readouterr().out


def test_send_fresh_adds_a_new_message_to_the_conversation_where_a_resend_is_a_duplicate(runner: LocalRunner) -> None:
    # Given a WhatsApp message sent twice, the second time as it was
    for args in ([], [], ["--fresh"]):
        assert main(["send", "meta-whatsapp-text", "--url", runner.url, *args]) == 0
        assert runner.wait_until_idle()
    # Then the plain resend was a duplicate, and the fresh one a second message of the same conversation and ticket
    [row] = runner.rows()
    assert row.salesforce_activities == 2
    desk = load_desk_state(runner.sandbox_dir / "zendesk.json")
    [ticket] = desk.tickets.values()
    assert [comment.body for comment in ticket.comments if comment.public] == ["Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏"] * 2
