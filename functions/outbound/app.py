"""Outbound: queued replies sent to the platforms, at most once each (thin handler; logic in socialdesk.outbound)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.composition.clients import in_lambda
from socialdesk.composition.outbound import init, outbound_batch
from socialdesk.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(outbound_batch().run(event, context))


# Lambda INIT: build what every request needs before the first one arrives (composition/clients.py says why).
if in_lambda():
    init()
