"""sla_check: every minute, escalate the response clocks that are due (thin handler; logic in socialdesk.sla)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.composition.clients import in_lambda
from socialdesk.composition.sla_check import SlaNotConfiguredError, init, scheduled_time, sla_check
from socialdesk.observability import logger, metrics
from socialdesk.ports.secrets import SecretsUnavailableError
from socialdesk.rules import RulesError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Returns the run's counts; a run that cannot start says why and leaves every due clock for the next minute."""
    try:
        report = sla_check().run(scheduled_at=scheduled_time(event), time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    except (SecretsUnavailableError, RulesError, SlaNotConfiguredError) as exc:
        logger.error("the SLA check cannot run; due clocks wait for the next run", extra={"reason": str(exc)})
        return {"ran": False}
    escalated, flagged = len(report.escalated), report.windows_flagged
    return {"ran": True, "due": report.due, "escalated": escalated, "deferred": report.deferred, "windows_flagged": flagged}


# Lambda INIT: build what every run needs before the first one (composition/clients.py says why).
if in_lambda():
    init()
