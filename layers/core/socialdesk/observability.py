"""The one place Powertools' Logger and Metrics are created; everything else imports these."""

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

logger = Logger()
metrics = Metrics(namespace="Socialdesk")

__all__ = ["MetricUnit", "logger", "metrics"]
