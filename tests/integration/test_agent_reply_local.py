"""An agent's reply made in the local stack's sandbox helpdesk goes the deployed way: Zendesk's signed event to
/webhooks/zendesk, desk_events, OutboundQueue, outbound, the sandbox platform; and the thread shows it as the customer
received it."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from socialdesk.cli import main
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.local.runner import LocalRunner
from socialdesk.local.send import send_event
from socialdesk.platforms.sandbox_send import SandboxPlatformState
from socialdesk.sandbox_state import load_state
from tests.support.webhooks import sample

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def post_json(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return int(refused.code), json.loads(refused.read())


def test_a_reply_made_in_the_sandbox_reaches_the_sandbox_platform_once_and_shows_in_the_thread(runner: LocalRunner) -> None:
    """Given a WhatsApp customer's ticket on the local stack, when the agent replies through the console's form, then the
    sandbox WhatsApp receives it once, the ticket gets the note with its id, and the thread shows it as delivered."""
    status, _ = send_event(runner.url, sample("meta-whatsapp-text"))
    assert status == 200 and runner.wait_until_idle()
    [ticket] = load_desk_state(runner.sandbox_dir / "zendesk.json").tickets.values()
    status, made = post_json(f"{runner.url}/console/reply", {"ticket": ticket.id, "text": "Hola Dana, tu pedido sale hoy."})
    assert (status, made["webhook_status"]) == (200, 200)
    assert runner.wait_until_idle()
    sent = [message for message in load_state(runner.sandbox_dir / "platforms.json", SandboxPlatformState).sent if message.kind == "agent_reply"]
    assert [(message.job_id, message.text, message.recipient_id) for message in sent] == [
        (f"reply:{ticket.id}:{made['comment_id']}", "Hola Dana, tu pedido sale hoy.", "16505551234")
    ]
    notes = [comment.body for comment in load_desk_state(runner.sandbox_dir / "zendesk.json").tickets[ticket.id].comments if not comment.public]
    assert f"Agent reply sent on WhatsApp as a direct message (message id {sent[0].id}): Hola Dana, tu pedido sale hoy." in notes
    with urllib.request.urlopen(f"{runner.url}/console/thread.json?{urllib.parse.urlencode({'key': ticket.external_id})}", timeout=5) as answer:
        thread = json.loads(answer.read())
    kinds = [(entry["kind"], entry["text"]) for entry in thread["entries"] if entry["kind"] in ("agent", "delivered")]
    assert kinds == [("agent", "Hola Dana, tu pedido sale hoy."), ("delivered", "Hola Dana, tu pedido sale hoy.")]


def test_a_reply_to_a_ticket_the_sandbox_does_not_have_is_a_404(runner: LocalRunner) -> None:
    """Given an empty local stack, when a reply names ticket 99, then 404 with the reason, nothing queued."""
    assert post_json(f"{runner.url}/console/reply", {"ticket": 99, "text": "Hi"}) == (404, {"error": "no ticket #99 in the sandbox helpdesk"})


def test_socialdesk_reply_answers_a_ticket_of_the_running_stack(runner: LocalRunner, capsys: pytest.CaptureFixture[str]) -> None:
    """Given a Messenger customer's ticket on the local stack, when `socialdesk reply` answers it, then the sandbox Messenger
    receives the reply and the command says which comment went to /webhooks/zendesk."""
    status, _ = send_event(runner.url, sample("meta-messenger-message"))
    assert status == 200 and runner.wait_until_idle()
    [ticket] = load_desk_state(runner.sandbox_dir / "zendesk.json").tickets.values()
    assert main(["reply", str(ticket.id), "We are looking into it.", "--url", runner.url]) == 0
    assert runner.wait_until_idle()
    assert f"ticket #{ticket.id}: comment" in capsys.readouterr().out
    sent = load_state(runner.sandbox_dir / "platforms.json", SandboxPlatformState).sent
    assert [(message.platform, message.text) for message in sent if message.kind == "agent_reply"] == [("messenger", "We are looking into it.")]
