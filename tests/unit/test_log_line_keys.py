"""What each JSON log line carries: what ops need to follow an invocation, not what CloudWatch already holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.observability import REDUNDANT_KEYS, ROUTINE_ONLY_KEYS, logger
from tests.support.log_capture import written_lines
from tests.support.webhooks import FakeLambdaContext

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

# What Lambda's runtime puts in the environment of every invocation, tracing on or off (not sampled when off).
UNSAMPLED_TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=0"


def lines_of(log: Callable[[], None]) -> list[dict[str, Any]]:
    """The JSON lines `log` writes from inside a handler with the Lambda context injected, as every function's is."""

    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> None:
        log()

    with written_lines() as lines:
        lambda_handler({}, FakeLambdaContext(function_name="socialdesk-process"))
    return lines


def test_a_routine_line_keeps_its_invocation_and_drops_what_cloudwatch_already_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a handler in Lambda, whose runtime sets an unsampled trace header
    When it logs a line at INFO
    Then the line has the request id, level, message and extras, and no function name, ARN, memory size or service (its
    log group is the function's; Lambda's REPORT line gives the memory), no trace id (tracing is off), no timestamp
    (CloudWatch stores each event's own) and no code location."""
    monkeypatch.setenv("_X_AMZN_TRACE_ID", UNSAMPLED_TRACE)
    (line,) = lines_of(lambda: logger.info("event processed", extra={"ticket": 4014}))
    assert line["message"] == "event processed" and line["ticket"] == 4014 and line["level"] == "INFO"
    assert line["function_request_id"] == FakeLambdaContext.aws_request_id
    assert set(REDUNDANT_KEYS) == {"function_arn", "function_name", "function_memory_size", "service", "xray_trace_id"}
    assert not (set(REDUNDANT_KEYS) | set(ROUTINE_ONLY_KEYS)) & set(line)


def test_a_warning_or_error_line_keeps_its_time_and_code_location() -> None:
    """Given a handler When it logs a warning and an error Then both keep their timestamp and the code location: lines
    about a problem are kept whole, only routine lines are trimmed."""

    def problems() -> None:
        logger.warning("event waiting", extra={"retry_in": 60})
        logger.error("event dead-lettered")

    lines = lines_of(problems)
    assert [line["level"] for line in lines] == ["WARNING", "ERROR"]
    for line in lines:
        assert line["timestamp"] and line["location"].startswith("problems:")
        assert line["function_request_id"] == FakeLambdaContext.aws_request_id


def test_cold_start_is_said_only_when_it_happened(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a container's first invocation and then a warm one When each logs a line Then only the first says
    `cold_start`: `false` is the usual case on nearly every line, and absent says it."""
    monkeypatch.setattr("aws_lambda_powertools.logging.logger.is_cold_start", True)
    (cold,) = lines_of(lambda: logger.info("webhook accepted"))
    (warm,) = lines_of(lambda: logger.info("webhook accepted"))
    assert cold["cold_start"] is True
    assert "cold_start" not in warm
