"""The response clock's metrics as CloudWatch embedded metric format (Powertools single_metric: each with its own dimensions).

Per answer: FirstResponseSeconds or NextResponseSeconds, Answered, AnsweredWithinSla (1 or 0), by platform and priority;
per escalation: SlaBreaches by platform, priority and level. "% answered within SLA" per platform and day is
SUM(AnsweredWithinSla) / SUM(Answered) over a 1-day period (README, "Response clock").
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

NAMESPACE = "Socialdesk"


class EmfClockMetrics:
    def answered(self, *, platform: str, priority: str | None, first: bool, seconds: float, within_sla: bool) -> None:
        dimensions = {"platform": platform, "priority": priority or "none"}
        self._emit("FirstResponseSeconds" if first else "NextResponseSeconds", MetricUnit.Seconds, seconds, dimensions)
        self._emit("Answered", MetricUnit.Count, 1, dimensions)
        self._emit("AnsweredWithinSla", MetricUnit.Count, 1 if within_sla else 0, dimensions)

    def breached(self, *, platform: str, priority: str | None, level: int) -> None:
        self._emit("SlaBreaches", MetricUnit.Count, 1, {"platform": platform, "priority": priority or "none", "level": str(level)})

    @staticmethod
    def _emit(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str]) -> None:
        if is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED, as the local stack sets it: single_metric alone ignores it
            return
        with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions=dimensions) as metric:
            del metric  # the dimensions travel with it; nothing else to add
