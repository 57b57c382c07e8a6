"""What one agent reply costs: the calls desk_events and outbound make for it, counted, not estimated.

Run: ./uvw run python -m bench.agent_reply_calls_bench

The whole deployed path on one machine (tests/support/process_stack.py: AWS in moto from infra/template.yaml, Zendesk
as its HTTP fake, the WhatsApp Cloud API as a `responses` callback): a WhatsApp customer's message makes a ticket, then
Zendesk's signed `ticket.comment_added` for an agent's public comment is delivered three times (the first as new, the
others as Zendesk's retries), and the outbound function sends the one job. Every DynamoDB call, SQS send by the
functions' own clients, Zendesk and platform request of each step is counted (the functions' logs go to stdout too).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import rerun
from socialdesk.composition import clients
from socialdesk.devtools.zendesk_events import comment_added
from socialdesk.platforms.meta_send import GRAPH_API
from tests.support.process_stack import RULES, Flow, private_key_pem, process_stack
from tests.support.webhooks import sample

PHONE_NUMBER_ID = "106540352242922"


class Counts:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.sqs: Counter[str] = Counter()
        self.platform = 0
        clients.sqs().meta.events.register("before-call.sqs", lambda model, **_: self.sqs.update([model.name]))

    def snapshot(self) -> dict[str, int]:
        return {
            **{f"DynamoDB {name}": count for name, count in self.flow.dynamodb_calls.items()},
            **{f"SQS {name}": count for name, count in self.sqs.items()},
            "Zendesk requests": sum(self.flow.zendesk.calls.values()),
            "WhatsApp sends": self.platform,
        }


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in sorted(after) if after[name] - before.get(name, 0)}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "socialdesk.toml"
        rules.write_text(RULES)
        with process_stack(rules, private_key_pem()) as flow:
            counts = Counts(flow)
            flow.aws.put_secret("PlatformSecret", {"whatsapp_tokens": {PHONE_NUMBER_ID: "EAAGwhatsapp"}})

            def whatsapp(request: Any) -> tuple[int, dict[str, str], str]:
                counts.platform += 1
                return 200, {"content-type": "application/json"}, json.dumps({"messages": [{"id": f"wamid.AGENT{counts.platform}"}]})

            assert flow.http is not None
            flow.http.add_callback("POST", f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages", callback=whatsapp)
            flow.webhook(sample("meta-whatsapp-text"))
            flow.process_all()
            [(ticket_id, ticket)] = flow.zendesk.tickets.items()
            event = comment_added(
                ticket_id=ticket_id, comment_id=1, body="Tu pedido sale hoy.", external_id=ticket["external_id"], tags=tuple(ticket["tags"])
            )
            steps: list[tuple[str, dict[str, int]]] = []
            for name in ("desk_events: the first delivery", "desk_events: a redelivery (each of Zendesk's retries)"):
                before = counts.snapshot()
                assert flow.desk_webhook(event) == 200
                steps.append((name, delta(before, counts.snapshot())))
            flow.desk_webhook(event)
            before = counts.snapshot()
            while flow.outbound_once() is not None:
                pass
            steps.append(("outbound: the reply sent, noted, answer recorded", delta(before, counts.snapshot())))
    print(f"# {rerun('bench.agent_reply_calls_bench')}\n")
    names = sorted({name for _, counted in steps for name in counted})
    print("| step | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for step, counted in steps:
        print(f"| {step} | " + " | ".join(str(counted.get(name, 0)) for name in names) + " |")


if __name__ == "__main__":
    main()
