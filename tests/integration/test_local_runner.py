"""`socialdesk local` in-process: the template's real handlers behind a local HTTP API, moto for AWS, sandboxes for the CRMs."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.cli import main
from socialdesk.crm.sandbox import load_crm_state
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerError, RunnerOptions
from socialdesk.local.send import send_event
from socialdesk.observability import logger
from tests.support.webhooks import recorded_sample, sample

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


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
    assert '<script src="/console/console.js" defer></script>' in page
    _, state = get(runner.url + "/console/state.json")
    [row] = json.loads(state)["conversations"]
    assert (row["platform"], row["customer"], row["messages"], row["ticket"]) == ("WhatsApp", "Dana Rodríguez", 1, f"#{ticket.id} new")


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


def test_a_method_a_webhook_does_not_take_is_answered_405_with_the_documented_allow_header(runner: LocalRunner) -> None:
    # When something PUTs to a webhook path
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(runner.url + "/webhooks/meta", data=b"{}", method="PUT"), timeout=10)
    # Then the answer is ingest's, headers included, as HTTP API sends it (README: What the webhooks answer)
    assert (refused.value.code, refused.value.headers["Allow"]) == (405, "GET, POST")
    assert json.loads(refused.value.read()) == {"error": "method_not_allowed"}


def eventually(read: Callable[[], dict[str, Any]], condition: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if condition(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def console_state(runner: LocalRunner) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(get(runner.url + "/console/state.json")[1])
    return state


def test_the_console_counts_quarantined_deferred_and_dead_lettered_events_with_their_reasons(runner: LocalRunner) -> None:
    # Given a replayed X mention (quarantined), a reply to a post not seen yet (waits for it), a brand reply to that
    # unseen post (parked until it arrives), and a message on the inbound queue that is no event (dead-lettered)
    assert send_event(runner.url, recorded_sample("x-mention"))[0] == 200
    assert send_event(runner.url, sample("x-reply"))[0] == 200
    assert send_event(runner.url, sample("x-brand-reply"))[0] == 200
    runner.aws.sqs.send_message(QueueUrl=runner.aws.inbound_url, MessageBody="not an event")
    # When the console is read while they are held
    state = eventually(partial(console_state, runner), lambda state: (state["deferred"]["count"], state["dead_lettered"]["count"]) == (2, 1))
    # Then each count comes with its reason
    assert state["quarantined"]["count"] == 1
    assert [reason["reason"] for reason in state["quarantined"]["reasons"]] == ["StaleEvent"]
    assert sorted(reason["reason"] for reason in state["deferred"]["reasons"]) == [
        "parked until the message it answers or changes arrives",
        "waiting: the post this replies to has not arrived yet",
    ]
    assert [reason["reason"] for reason in state["dead_lettered"]["reasons"]] == ["not a canonical event"]
    # And reading them left them where they were
    assert console_state(runner)["quarantined"] == state["quarantined"]
    for queue in (runner.aws.quarantine_url, runner.aws.dead_letter_url):
        attributes = runner.aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "1"


def test_the_thread_endpoint_gives_one_conversations_whole_thread(runner: LocalRunner) -> None:
    # Given a WhatsApp message and the failed delivery of the brand's answer
    for name in ("meta-whatsapp-text", "meta-whatsapp-status-failed"):
        assert send_event(runner.url, sample(name))[0] == 200
        assert runner.wait_until_idle()
    [row] = console_state(runner)["conversations"]
    # When the console asks for that conversation's thread
    _, body = get(runner.url + "/console/thread.json?" + urllib.parse.urlencode({"key": row["key"]}))
    thread = json.loads(body)
    # Then it holds her message, the context note, the acknowledgement the sandbox WhatsApp sent her (marked as automated,
    # with the platform's message id) and the note saying it went, the delivery warning, her Salesforce activity and the ticket
    assert [entry["kind"] for entry in thread["entries"]] == ["customer", "context", "automated", "note", "warning"]
    automated = thread["entries"][2]
    assert automated["author"] == "socialdesk (automated acknowledgement, es)"
    assert automated["text"].startswith("Hola Dana Rodríguez") and automated["text"].endswith("Respuesta automática")
    assert (automated["message_id"], automated["channel"], automated["ticket"]) == ("sandbox-whatsapp-1", "direct_message", row_ticket(row))
    assert "sandbox-whatsapp-1" in thread["entries"][3]["text"]  # the outbound function's note on the same ticket (one sandbox desk)
    assert [activity["contact"] for activity in thread["activities"]] == ["Dana Rodríguez"]
    assert [ticket["status"] for ticket in thread["tickets"]] == ["new"]
    # And an unknown conversation is a 404
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(runner.url + "/console/thread.json?key=x:nobody")
    assert missing.value.code == 404


def row_ticket(row: dict[str, Any]) -> int:
    return int(row["ticket"].split()[0].removeprefix("#"))


def test_the_console_page_admits_only_its_own_script_and_style_and_its_hint_names_this_port(runner: LocalRunner) -> None:
    with urllib.request.urlopen(runner.url + "/", timeout=10) as page:
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self';")
        assert f"<code>./uvw run socialdesk send x-mention --url {runner.url}</code>" in page.read().decode()  # this stack's port
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        with urllib.request.urlopen(f"{runner.url}/console/{name}", timeout=10) as served:
            assert served.headers["Content-Type"].startswith(kind)
            assert served.read()
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(runner.url + "/console/../runner.py")
    assert missing.value.code == 404


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


def test_a_port_it_may_not_listen_on_is_not_called_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a port this user may not listen on (below 1024, not root): binding it is refused with EACCES
    monkeypatch.delenv("AWS_PROFILE", raising=False)

    def refused(self: socket.socket, address: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refused)
    # When socialdesk local is asked to use port 80
    code = main(["local", "--port", "80", "--state-dir", str(tmp_path / "state")])
    # Then it says it is not allowed to listen there, not that something holds the port
    assert code == 1
    assert capsys.readouterr().err == "socialdesk local: not allowed to listen on port 80 (Permission denied); choose another with --port\n"


def test_the_live_output_says_what_each_event_did_including_a_duplicate(runner: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    # When Meta delivers the same WhatsApp message twice
    for _ in range(2):
        assert send_event(runner.url, sample("meta-whatsapp-text"))[0] == 200
        assert runner.wait_until_idle()
    # Then one line says the ticket was opened (the customer's number pseudonymised), the next that the repeat was
    # recognised, and no JSON log leaks out
    printed = capsys.readouterr().out
    chat = "whatsapp:106540352242922:chat:~6069d14b"
    assert f"process   {chat} → ticket #4014: ticket_created, context_note, acknowledgement_queued, crm_activity" in printed
    # And the outbound function's line says it sent the acknowledgement, under its own name
    assert f"outbound  {chat} → ticket #4014: reply_sent" in printed
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


def test_send_as_recorded_keeps_the_samples_2025_times_and_ingest_refuses_it_as_a_replay(runner: LocalRunner) -> None:
    # Given an X mention sent by the CLI with the times it was recorded with (2025, long past the 8-day replay window)
    assert main(["send", "x-mention", "--as-recorded", "--url", runner.url]) == 0
    assert runner.wait_until_idle()
    # Then it was accepted by the webhook (signed), quarantined as a replay, and opened no conversation
    state = console_state(runner)
    assert state["quarantined"]["count"] == 1
    assert [reason["reason"] for reason in state["quarantined"]["reasons"]] == ["StaleEvent"]
    assert runner.rows() == []
    # And the same sample sent as usual (re-dated to now) is a conversation
    assert main(["send", "x-mention", "--url", runner.url]) == 0
    assert runner.wait_until_idle()
    assert len(runner.rows()) == 1
