"""What each JSON log line carries: what ops need to follow an invocation, not what the log group already says."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from socialdesk.observability import REDUNDANT_KEYS, logger
from tests.support.webhooks import FakeLambdaContext


def test_a_line_keeps_its_invocation_and_drops_what_the_log_group_already_says() -> None:
    """Given a handler with the Lambda context injected, as every function's is
    When it logs a line
    Then the line has the request id, cold start, level, message and extras, and no function name, ARN or memory size
    (its log group is the function's; Lambda's REPORT line gives the memory)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)

    @logger.inject_lambda_context
    def lambda_handler(event: dict[str, Any], context: Any) -> None:
        logger.info("event processed", extra={"ticket": 4014})

    try:
        lambda_handler({}, FakeLambdaContext(function_name="socialdesk-process"))
    finally:
        handler.setStream(previous)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "event processed" and line["ticket"] == 4014 and line["level"] == "INFO"
    assert line["function_request_id"] and "cold_start" in line
    assert set(REDUNDANT_KEYS) == {"function_arn", "function_name", "function_memory_size"}
    assert not set(REDUNDANT_KEYS) & set(line)
