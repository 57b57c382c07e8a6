"""What one inbound message costs in CloudWatch Logs bytes, measured the way bench/process_calls_bench.py and the cost model
count them (the whole stack in moto, every line the functions write), and what those lines still tell an operator.

The ceilings are the measured bytes of the trimmed lines (docs/benchmarks.md, "Log bytes per delivery"): a key or a line
added to every message fails here first, and whoever adds it raises the ceiling knowingly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.cost_model import Measured, Options, mixed_usage, platform_log_bytes
from tests.support.log_capture import written_lines
from tests.support.webhooks import FakeLambdaContext, sample

if TYPE_CHECKING:
    from bench.process_calls_bench import Result
    from tests.support.process_stack import Flow

# The functions' own lines (JSON logs and EMF metrics) per delivery, ingest and process, and per acknowledgement sent.
FUNCTION_BYTES_CEILING = {
    "new customer, new conversation": 1130,
    "known customer, follow-up in the same conversation": 975,
    "known customer, new conversation": 1110,
    "the same message delivered again": 810,
}
ACKNOWLEDGEMENT_BYTES_CEILING = 500
# Per inbound message as bench/cost_model.py bills it: the scenarios' mix (1.05 deliveries), each line +26 B, Lambda's
# START/END/REPORT lines per invocation, the API's access log line, and the acknowledgements' outbound invocations.
# Before the lines were trimmed: 2,796 B ($1.30 per million messages); trimmed: 2,263 B ($1.05).
INGESTED_BYTES_PER_MESSAGE_CEILING = 2270


def test_each_delivery_writes_no_more_log_bytes_than_pinned(shipped: dict[str, Result]) -> None:
    """Given the calls benchmark's four deliveries with the shipped rules
    When each goes through ingest and process, and its acknowledgement (if any) through outbound
    Then the functions write at most the pinned bytes, in two lines each (the line and its metrics)."""
    written = {name: result.socialdesk.log_bytes for name, result in shipped.items()}
    assert {name: (written[name], ceiling) for name, ceiling in FUNCTION_BYTES_CEILING.items() if written[name] > ceiling} == {}
    assert all(result.socialdesk.log_events == 4 for result in shipped.values())
    sends = shipped["new customer, new conversation"].outbound
    assert (sends.log_events, sends.log_bytes <= ACKNOWLEDGEMENT_BYTES_CEILING) == (2, True), sends.log_bytes


def test_an_inbound_message_costs_no_more_ingested_log_bytes_than_pinned(shipped: dict[str, Result]) -> None:
    """Given the same deliveries weighted by the cost model's mix When the cost model adds Lambda's and the API's own lines
    Then an inbound message is billed for at most the pinned bytes of CloudWatch Logs ingestion."""
    measured = Measured(
        scenarios={name: result.socialdesk for name, result in shipped.items()},
        ingest_cpu_ms=0.0,
        process_cpu_ms={1: 0.0, 10: 0.0},
        platform_log_bytes=platform_log_bytes(),
        outbound={name: result.outbound for name, result in shipped.items()},
    )
    ingested = mixed_usage(measured, Options()).log_bytes
    assert ingested <= INGESTED_BYTES_PER_MESSAGE_CEILING, f"{ingested:.0f} B per inbound message"


def test_the_trimmed_lines_still_say_what_happened_to_a_message_and_where_to_look(flow: Flow) -> None:
    """Given a WhatsApp message that opens a conversation, delivered twice
    When ingest and process handle both deliveries
    Then ingest's line gives the status, what was queued, the function's request id (its REPORT line) and the API's
    request id (its access log line); each process line gives the event, the conversation, the ticket, the actions and the
    request id; the redelivery says it was a duplicate; and no routine line repeats what CloudWatch stores itself."""
    delivery = sample("meta-whatsapp-text")
    with written_lines() as lines:
        for _ in range(2):
            flow.webhook(delivery)
            flow.process_all()
    accepted = [line for line in lines if line["message"] == "webhook accepted"]
    processed = [line for line in lines if line["message"] == "event processed"]
    assert len(accepted) == 2 and len(processed) == 2
    assert accepted[0]["status"] == 200 and accepted[0]["queued"] == 1 and accepted[0]["correlation_id"]
    first, again = processed
    assert first["ticket"] and first["conversation"].startswith("whatsapp:") and "ticket_created" in first["actions"]
    assert first["event"] == again["event"] and again.get("duplicate") is True and "duplicate" not in first
    for line in accepted + processed:
        assert line["function_request_id"] == FakeLambdaContext.aws_request_id
        assert not {"timestamp", "location", "service", "xray_trace_id", "function_name"} & set(line)
