"""Attack on "our own acknowledgement never stops the clock" (issue 11) on Facebook, where the Page's comment reply comes
back through the `feed` webhook with no app id: the echo may be processed while the Graph call still waits for its answer."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from socialdesk.platforms.meta_send import GRAPH_API
from tests.integration.test_attackx_x_echo import clock_rules
from tests.support.process_stack import Flow, process_stack
from tests.support.sla_world import waiting_since
from tests.support.webhooks import meta_post, sample, sample_body, to_bytes

PAGE = "448242228374517"
COMMENT = "1221316769125949_1213590066982748"
REPLY = "1221316769125949_1213590067000777"


class EchoingComments:
    """Graph's POST /{comment-id}/comments; when `echo_first`, the Page's new comment is delivered by the feed webhook (and
    processed) before Graph answers."""

    def __init__(self, flow: Flow, *, echo_first: bool) -> None:
        self.calls: list[dict[str, Any]] = []
        self._flow, self._echo_first = flow, echo_first
        assert flow.http is not None
        flow.http.add_callback("POST", f"{GRAPH_API}/{COMMENT}/comments", callback=self._call)

    def echo(self, text: str) -> None:
        body = sample_body("meta-fb-page-reply")
        body["entry"][0]["changes"][0]["value"].update(comment_id=REPLY, message=text)
        self._flow.webhook(meta_post(to_bytes(body)))
        self._flow.process_all()

    def _call(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, str) else request.body.decode()
        try:
            sent = json.loads(body)
        except ValueError:
            from urllib.parse import parse_qs

            sent = {key: values[0] for key, values in parse_qs(body).items()}
        self.calls.append(sent)
        if self._echo_first:
            self.echo(sent["message"])
        return 200, {"content-type": "application/json"}, json.dumps({"id": REPLY})


def escalations(tmp_path: Path, private_key: str, *, echo_first: bool) -> tuple[list[int], int]:
    rules = tmp_path / f"fb-echo-first-{echo_first}.toml"
    rules.write_text(clock_rules(), encoding="utf-8")
    with process_stack(rules, private_key) as flow:
        graph = EchoingComments(flow, echo_first=echo_first)
        flow.aws.put_secret("PlatformSecret", {"page_tokens": {PAGE: "EAAGpage"}})
        flow.webhook(sample("meta-fb-comment"))
        flow.process_all()
        since = waiting_since(flow.aws.resource("StateTable"))
        while flow.outbound_once() is not None:
            pass
        [sent] = graph.calls
        if not echo_first:
            graph.echo(sent["message"])
        [(ticket_id, _)] = flow.zendesk.tickets.items()
        comments = len(flow.zendesk.comments(ticket_id))
        escalated = []
        assert flow.clock is not None
        for minute in (5, 7, 31, 120):
            flow.clock.move_to(since + timedelta(minutes=minute))
            escalated.append(int(flow.sla_check()["escalated"]))
        return escalated, comments


def test_the_facebook_echo_of_our_acknowledgement_that_outruns_graphs_answer_does_not_stop_the_clock(tmp_path: Path, private_key: str) -> None:
    """Given the shipped rules (a Facebook comment acknowledged by a public comment reply) and nobody answering,
    When the feed webhook's copy of our acknowledgement is processed while the Graph call still waits for its answer,
    Then the conversation is escalated and the ticket has as many comments as when the echo arrives after the answer."""
    after = escalations(tmp_path, private_key, echo_first=False)
    assert sum(after[0]) >= 1, after
    assert escalations(tmp_path, private_key, echo_first=True) == after


def test_the_facebook_echo_of_an_agents_comment_reply_that_outruns_graphs_answer_adds_no_comment(flow: Flow) -> None:
    """Given a Facebook comment's ticket (no acknowledgement configured),
    When the agent's public reply is sent and the feed webhook's copy of it is processed before Graph answers,
    Then the ticket gets only outbound's "Agent reply sent" note (the send under way is recognised by its text)."""
    from tests.integration.test_agent_reply_flow import agent_comment, ticket_of

    graph = EchoingComments(flow, echo_first=True)
    ticket_id, ticket = ticket_of(flow, "meta-fb-comment", {"page_tokens": {PAGE: "EAAGpage"}})
    before = len(flow.zendesk.comments(ticket_id))
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 9301, "Hola Dana, ya lo revisamos.")) == 200
    while flow.outbound_once() is not None:
        pass
    assert len(graph.calls) == 1
    added = [comment["body"] for comment in flow.zendesk.comments(ticket_id)[before:]]
    assert len(added) == 1 and added[0].startswith("Agent reply sent on Facebook"), added
