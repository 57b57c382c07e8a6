"""The interface each platform family's webhook implements for the ingest use case."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from socialdesk.http import HttpResponse
    from socialdesk.platforms.batch import NormalisedBatch


class ChallengeRefusedError(Exception):
    """A GET verification request the platform would never send; ingest answers `status` and logs `reason`.

    The reason must never quote the challenge or token: it is logged.
    """

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


class PlatformWebhook(Protocol):
    name: str
    """Short name used in routes, logs and metric dimensions."""
    path: str
    signature_header: str
    """Lower-case header carrying the body signature."""
    signing_secret_key: str
    """Key in the webhook secret holding the HMAC key for POST bodies."""
    challenge_secret_key: str
    """Key in the webhook secret that answers the GET verification challenge."""

    def answer_challenge(self, query: Mapping[str, str], secrets: Sequence[str]) -> HttpResponse:
        """Answer the platform's GET verification; `secrets` are current then previous values.

        Raises ChallengeRefusedError for a request that is not a genuine challenge.
        """
        ...

    def signatures(self, body: bytes, secrets: Sequence[str]) -> list[str]:
        """Every signature header value that would prove `body` genuine."""
        ...

    def normalise(self, payload: Mapping[str, Any], received_at: datetime) -> NormalisedBatch:
        """Turn one authenticated delivery into canonical events; `received_at` dates undated items."""
        ...
