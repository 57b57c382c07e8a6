"""Attack on "our reply coming back as a platform echo never adds a ticket comment" (issue 12) and "our own messages never
stop the clock" (issue 11) on X, where the echo of a reply carries no app id: X prefixes the reply's text with the
customer's @handle, and the Account Activity webhook may be processed while the POST /2/tweets call is still waiting."""

from __future__ import annotations

import json
from typing import Any

from socialdesk.platforms.x_send import X_API
from tests.integration.test_agent_reply_flow import agent_comment, notes
from tests.support.process_stack import Flow
from tests.support.webhooks import sample, sample_body, to_bytes, x_post

X_TWEETS = f"{X_API}/2/tweets"
X_TOKENS = {"x_api_key": "ck", "x_api_secret": "cs", "x_access_token": "900-tok", "x_access_token_secret": "ts"}
REPLY_ID = "1950000000000000777"


class EchoingX:
    """X's POST /2/tweets; when `echo_first`, the brand's reply comes back through the webhook (and is processed) before
    X answers the call, as X writes it: `@dana_r <text>`, replying to the customer's post."""

    def __init__(self, flow: Flow, *, echo_first: bool) -> None:
        self.calls: list[dict[str, Any]] = []
        self._flow = flow
        self._echo_first = echo_first
        assert flow.http is not None
        flow.http.add_callback("POST", X_TWEETS, callback=self._call)

    def echo(self, text: str) -> None:
        body = sample_body("x-brand-reply")
        tweet = body["tweet_create_events"][0]
        tweet.update(id=int(REPLY_ID), id_str=REPLY_ID, text=f"@dana_r {text}")
        self._flow.webhook(x_post(to_bytes(body)))
        self._flow.process_all()

    def _call(self, request: Any) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body)
        self.calls.append(sent)
        if self._echo_first:
            self.echo(sent["text"])
        return 201, {"content-type": "application/json"}, json.dumps({"data": {"id": REPLY_ID, "text": f"@dana_r {sent['text']}"}})


def agent_replies_on_x(flow: Flow, *, echo_first: bool) -> tuple[list[str], EchoingX]:
    x = EchoingX(flow, echo_first=echo_first)
    flow.aws.put_secret("PlatformSecret", X_TOKENS)
    flow.webhook(sample("x-mention"))
    flow.process_all()
    [(ticket_id, ticket)] = flow.zendesk.tickets.items()
    before = len(flow.zendesk.comments(ticket_id))
    text = "Sorry about that, Dana! Your parcel left today."
    assert flow.desk_webhook(agent_comment(ticket_id, ticket, 8001, text)) == 200
    while flow.outbound_once() is not None:
        pass
    if not echo_first:
        x.echo(text)
    assert list(flow.zendesk.tickets) == [ticket_id]
    added = [comment["body"] for comment in flow.zendesk.comments(ticket_id)[before:]]
    assert notes(flow, ticket_id)
    return added, x


def test_the_x_echo_of_an_agents_reply_processed_after_xs_answer_adds_no_comment(flow: Flow) -> None:
    """Given a customer's X mention and its ticket,
    When the agent replies in Zendesk, X accepts the reply, and afterwards the Account Activity echo (`@dana_r <text>`) arrives,
    Then the ticket gets only outbound's "Agent reply sent" note: no comment for our own reply coming back."""
    added, x = agent_replies_on_x(flow, echo_first=False)
    assert len(x.calls) == 1
    assert len(added) == 1 and added[0].startswith("Agent reply sent on X"), added


def test_the_x_echo_of_an_agents_reply_that_outruns_xs_answer_adds_no_comment(flow: Flow) -> None:
    """Given a customer's X mention and its ticket,
    When the agent replies in Zendesk and X's webhook echo of the reply (`@dana_r <text>`, X prefixing the handle) is
    processed while the POST /2/tweets call still waits for its answer,
    Then the ticket gets only outbound's "Agent reply sent" note: the echo is recognised as our own send under way."""
    added, x = agent_replies_on_x(flow, echo_first=True)
    assert len(x.calls) == 1
    assert len(added) == 1 and added[0].startswith("Agent reply sent on X"), added


def clock_rules() -> str:
    """The shipped classification, acknowledgement and SLA rules, the SLA counted round the clock (the test runs at any hour)."""
    from tests.integration.test_acknowledgement_flow import shipped_acknowledgement
    from tests.integration.test_classification_flow import shipped_classification
    from tests.support.process_stack import RULES

    ack = shipped_acknowledgement()
    head, sla = ack.split("[sla]\n", 1)
    return RULES + "\n" + shipped_classification() + "\n" + head + "[sla]\n" + sla.replace('calendar = "support"\n', "")


def escalations_after_an_acknowledged_mention(tmp_path: Any, private_key: str, *, echo_first: bool) -> list[int]:
    from datetime import timedelta

    from tests.support.process_stack import process_stack
    from tests.support.sla_world import waiting_since

    rules = tmp_path / f"echo-first-{echo_first}.toml"
    rules.write_text(clock_rules(), encoding="utf-8")
    with process_stack(rules, private_key) as flow:
        x = EchoingX(flow, echo_first=echo_first)
        flow.aws.put_secret("PlatformSecret", X_TOKENS)
        flow.webhook(sample("x-mention"))
        flow.process_all()
        since = waiting_since(flow.aws.resource("StateTable"))
        while flow.outbound_once() is not None:
            pass
        [sent] = x.calls
        if not echo_first:
            x.echo(sent["text"])
        escalated = []
        assert flow.clock is not None
        for minute in (5, 7, 16, 90):
            flow.clock.move_to(since + timedelta(minutes=minute))
            escalated.append(int(flow.sla_check()["escalated"]))
        return escalated


def test_the_x_echo_of_our_acknowledgement_that_outruns_xs_answer_does_not_stop_the_clock(tmp_path: Any, private_key: str) -> None:
    """Given the shipped rules (an X mention acknowledged by a public reply) and nobody answering the customer,
    When X's webhook echo of the acknowledgement (`@dana_r <text>`) is processed while POST /2/tweets still waits for its answer,
    Then the conversation is escalated exactly as when the echo arrives after the answer: our own acknowledgement never
    stops the clock."""
    after = escalations_after_an_acknowledged_mention(tmp_path, private_key, echo_first=False)
    assert sum(after) >= 1, after
    assert escalations_after_an_acknowledged_mention(tmp_path, private_key, echo_first=True) == after
