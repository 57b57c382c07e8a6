"""Attacks on the local stack's agent reply (issue 12: `socialdesk reply` and the console's reply form): what the sandbox
helpdesk tells desk_events about each reply. The POST to the stack is captured instead of sent."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from socialdesk.composition.desk import sandbox_desk
from socialdesk.desk.port import NewTicket
from socialdesk.local.agent_reply import ReplyRequest, reply_in_sandbox
from socialdesk.sandbox_state import DESK_FILE

if TYPE_CHECKING:
    from pathlib import Path


class _Answer:
    status = 200

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *_: object) -> None:
        return None


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every Zendesk event the sandbox helpdesk posts to the stack, as desk_events would read it."""
    bodies: list[dict[str, Any]] = []
    lock = threading.Lock()

    def urlopen(request: Any, timeout: float = 0) -> _Answer:
        with lock:
            bodies.append(json.loads(request.data))
        return _Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return bodies


def a_ticket(sandbox_dir: Path) -> int:
    desk = sandbox_desk(sandbox_dir / DESK_FILE)
    return desk.create_ticket(
        NewTicket(
            subject="Comment on our post",
            requester_id=90000,
            body="Where is my order?",
            external_id="facebook:448242228374517:post:448242228374517_1221316769125949",
            tags=("socialdesk", "socialdesk_facebook"),
        ),
        idempotency_key="attack12",
    )


def test_two_replies_made_at_the_same_moment_are_two_comments_for_desk_events(
    tmp_path: Path, posted: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a ticket in the sandbox helpdesk, when two agents' replies arrive at once (the console's form and
    `socialdesk reply`: the gateway serves requests on threads), then desk_events hears of two comments with two ids:
    neither reply is taken for a redelivery of the other and silently dropped (the job id is `reply:<ticket>:<comment>`)."""
    ticket_id = a_ticket(tmp_path)
    desk = sandbox_desk(tmp_path / DESK_FILE)
    both_added = threading.Barrier(2, timeout=5)
    original = desk.add_comment

    def add_comment(*args: Any, **kwargs: Any) -> Any:
        view = original(*args, **kwargs)
        both_added.wait()  # the other request adds its comment before this one reads the ticket again
        return view

    monkeypatch.setattr(desk, "add_comment", add_comment)
    threads = [
        threading.Thread(target=reply_in_sandbox, args=("http://127.0.0.1:9", tmp_path, ReplyRequest(ticket=ticket_id, text=text)))
        for text in ("We are on it.", "Your refund is on its way.")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {body["event"]["comment"]["body"]: body["event"]["comment"]["id"] for body in posted}
    assert len(ids) == 2 and len(set(ids.values())) == 2, ids


def test_a_reply_without_private_after_a_private_one_is_public(tmp_path: Path, posted: list[dict[str, Any]]) -> None:
    """Given an agent who answered a Facebook comment with `socialdesk reply --private`, when they answer again without
    `--private`, then the reply is public: desk_events is not told the ticket still carries `socialdesk_private`, which
    would make it a second private reply (refused: one per comment)."""
    ticket_id = a_ticket(tmp_path)
    reply_in_sandbox("http://127.0.0.1:9", tmp_path, ReplyRequest(ticket=ticket_id, text="I sent you a message.", private=True))
    reply_in_sandbox("http://127.0.0.1:9", tmp_path, ReplyRequest(ticket=ticket_id, text="Thanks everyone, it is fixed."))
    first, second = (body["detail"]["tags"] for body in posted)
    assert "socialdesk_private" in first
    assert "socialdesk_private" not in second
