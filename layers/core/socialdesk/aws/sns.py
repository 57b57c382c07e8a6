"""SNS behind the `Alerts` port (sla/ports.py): the SLA ladder's alerts to the people on call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.sla.ports import AlertUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_sns import SNSClient

# SNS caps a subject at 100 characters (docs.aws.amazon.com/sns/latest/api/API_Publish.html).
MAX_SUBJECT = 100


class SnsAlerts:
    def __init__(self, topic_arn: str, client: Callable[[], SNSClient]) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def alert(self, *, subject: str, message: str, deduplication_id: str) -> None:
        """A standard topic (e-mail and chat subscribers): `deduplication_id` travels as an attribute, for subscribers
        that filter the rare repeat (a run that died between the publish and recording its level)."""
        try:
            self._client().publish(
                TopicArn=self._topic_arn,
                Subject=subject[:MAX_SUBJECT],
                Message=message,
                MessageAttributes={"deduplication_id": {"DataType": "String", "StringValue": deduplication_id}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise AlertUnavailableError(f"Publish failed: {type(exc).__name__}") from exc
