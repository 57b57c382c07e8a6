"""Process: canonical events from the inbound queue into Zendesk and Salesforce (thin handler; logic in socialdesk.process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialdesk.composition.clients import in_lambda
from socialdesk.composition.process import init, process_batch
from socialdesk.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_batch().run(event, context))


# Lambda INIT: build what every request needs before the first one arrives (composition/clients.py says why). Only in
# Lambda: tests and the local runner import this module without building anything.
if in_lambda():
    init()
