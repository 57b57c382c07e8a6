"""desk_events: Zendesk's webhook about socialdesk's tickets (thin handler; logic in socialdesk.desk_events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from socialdesk.composition.clients import in_lambda
from socialdesk.composition.desk_events import desk_events, init
from socialdesk.http import HttpRequest
from socialdesk.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return desk_events().handle(HttpRequest.from_apigw_v2(event)).to_apigw_v2()


# Lambda INIT: build what every request needs before the first one arrives (composition/clients.py says why).
if in_lambda():
    init()
