"""An Instagram mention through ingest, SQS and process (moto, the Zendesk fake), its words fetched from the Graph API
fake with PlatformSecret's Instagram token: the ticket shows what the customer wrote."""

from __future__ import annotations

import json
from typing import Any

from socialdesk.platforms.meta_send import GRAPH_API
from tests.support.process_stack import Flow
from tests.support.webhooks import sample

IG_USER = "17841405726653026"


def test_an_instagram_mention_opens_a_ticket_with_the_customers_words_after_the_graph_api_recovers(flow: Flow) -> None:
    # Given the Instagram token in PlatformSecret, and the Graph API failing once (503) before it answers
    flow.aws.put_secret("PlatformSecret", {"instagram_token": "IGQVJtoken"})
    answers = iter([(503, {"error": {"message": "An unexpected error has occurred.", "type": "OAuthException", "code": 2}})])
    asked: list[str] = []

    def graph(request: Any) -> tuple[int, dict[str, str], str]:
        asked.append(request.headers["Authorization"])
        status, body = next(
            answers,
            (
                200,
                {"mentioned_comment": {"text": "@acmehelp my kettle arrived broken", "username": "dana.r", "id": "17865799348089777"}, "id": IG_USER},
            ),
        )
        return status, {"content-type": "application/json"}, json.dumps(body)

    assert flow.http is not None
    flow.http.add_callback("GET", f"{GRAPH_API}/{IG_USER}", callback=graph)
    # When the ids-only mention arrives and is processed (its retry made visible at once)
    flow.webhook(sample("meta-instagram-mention"))
    flow.process_once()
    assert flow.zendesk.tickets == {}  # not written with ids only while the words may still come
    assert flow.last_event is not None
    flow.make_visible(flow.last_event["Records"][0]["receiptHandle"])
    flow.process_all()
    # Then one ticket shows the words, requested by the customer, and the token went in a header
    [ticket] = flow.zendesk.tickets.values()
    first = next(comment["body"] for comment in flow.zendesk.comments(ticket["id"]))
    assert first == "@acmehelp my kettle arrived broken"
    assert asked == ["Bearer IGQVJtoken"] * 2
