"""A JSON secret from AWS Secrets Manager: the current and the previous version, cached.

Rotation without downtime uses Secrets Manager's own staging labels: writing a new
value moves the old one to AWSPREVIOUS, and both verify signatures until the next
write. Powertools' `get_secret` cannot serve here because its cache key ignores
`VersionStage`, so the two versions would share one cache entry.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.ports.secrets import SecretsUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretsManagerJsonSecret:
    """Implements `Secrets` over one JSON secret: the webhook secret and the CRM credentials (keys in the README)."""

    def __init__(
        self,
        name: str,
        secret_id: str,
        client: Callable[[], SecretsManagerClient],
        *,
        max_age_seconds: float,
        min_refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._secret_id = secret_id
        self._client = client
        self._max_age = max_age_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._versions: tuple[dict[str, Any], ...] = ()
        self._loaded_at: float | None = None

    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        self._load(refresh=refresh)
        current, previous = (_usable(version.get(key)) for version in self._versions)
        # The previous value only bridges a rotation: a blank current value disables the key.
        if current is None:
            return ()
        return (current,) if previous in (None, current) else (current, previous)

    def snapshot(self) -> dict[str, Any]:
        """The current version's content (cached like `values`), to tell when clients built from it are stale."""
        self._load(refresh=False)
        return dict(self._versions[0])

    def _load(self, *, refresh: bool) -> None:
        age = None if self._loaded_at is None else self._clock() - self._loaded_at
        # A forced refresh is rate limited, so a flood of badly signed requests costs one read per interval.
        if age is None or age > self._max_age or (refresh and age > self._min_refresh):
            self._versions = (self._read("AWSCURRENT"), self._read("AWSPREVIOUS"))
            self._loaded_at = self._clock()

    def _read(self, stage: str) -> dict[str, Any]:
        try:
            response = self._client().get_secret_value(SecretId=self._secret_id, VersionStage=stage)
        except ClientError as exc:
            # No AWSPREVIOUS: never rotated yet. No AWSCURRENT: created without a value (as the template creates the CRM
            # secret) and never written; every key is then missing, which fails closed like a blank key. A secret that
            # does not exist at all cannot be read by the function's role, which is scoped to the real one (AccessDenied).
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return {}
            code = exc.response.get("Error", {}).get("Code")
            raise SecretsUnavailableError(f"cannot read {stage} of the {self.name} ({self._secret_id}): {code}") from exc
        except BotoCoreError as exc:
            raise SecretsUnavailableError(f"cannot reach Secrets Manager for the {self.name}: {type(exc).__name__}") from exc
        try:
            parsed = json.loads(response.get("SecretString") or "")
        except ValueError as exc:
            raise SecretsUnavailableError(f"{stage} of the {self.name} ({self._secret_id}) is not a JSON object") from exc
        if not isinstance(parsed, dict):
            raise SecretsUnavailableError(f"{stage} of the {self.name} ({self._secret_id}) is not a JSON object")
        return parsed


def _usable(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
