"""Which sender sends a job: the platform's API with PlatformSecret's token, or in local runs without one, the sandbox.

PlatformSecret's keys (README, configuration reference): `x_api_key`, `x_api_secret`, `x_access_token`,
`x_access_token_secret` (OAuth 1.0a user context of the brand's X account); `page_tokens` (a JSON object, Page id →
Page access token: Facebook comments and Messenger); `instagram_token`; `whatsapp_tokens` (a JSON object, phone number
id → token). A map may be stored as a JSON object or as a string holding one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.model.event import Platform
from socialdesk.platforms.meta_send import GraphSender, WhatsAppSender
from socialdesk.platforms.oauth1 import OAuth1Credentials
from socialdesk.platforms.x_send import XSender
from socialdesk.ports.outbound import SendTokenRejectedError

if TYPE_CHECKING:
    import requests

    from socialdesk.model.outbound import OutboundJob
    from socialdesk.platforms.sandbox_send import SandboxPlatforms
    from socialdesk.ports.outbound import PlatformSender, Sent

X_KEYS = ("x_api_key", "x_api_secret", "x_access_token", "x_access_token_secret")


class PlatformTokens(msgspec.Struct, frozen=True, kw_only=True):
    x: OAuth1Credentials | None = None
    page_tokens: Mapping[str, str] = msgspec.field(default_factory=dict)
    instagram_token: str | None = None
    whatsapp_tokens: Mapping[str, str] = msgspec.field(default_factory=dict)

    @classmethod
    def from_secret(cls, content: Mapping[str, Any]) -> PlatformTokens:
        """The tokens PlatformSecret's current version holds; blank values count as none."""
        x_values = [_text(content.get(key)) for key in X_KEYS]
        x = None
        if all(x_values):
            api_key, api_secret, token, token_secret = (str(value) for value in x_values)
            x = OAuth1Credentials(consumer_key=api_key, consumer_secret=api_secret, token=token, token_secret=token_secret)
        return cls(
            x=x,
            page_tokens=_map(content.get("page_tokens")),
            instagram_token=_text(content.get("instagram_token")),
            whatsapp_tokens=_map(content.get("whatsapp_tokens")),
        )

    def missing_key(self, job: OutboundJob) -> str | None:
        """The PlatformSecret key an admin must fill for this job's platform and account, or None when it is there."""
        if job.platform == Platform.X:
            return None if self.x else "x_access_token (and x_api_key, x_api_secret, x_access_token_secret)"
        if job.platform in (Platform.FACEBOOK, Platform.MESSENGER):
            return None if self.page_tokens.get(job.account_id) else f"page_tokens[{job.account_id}]"
        if job.platform == Platform.INSTAGRAM:
            return None if self.instagram_token else "instagram_token"
        return None if self.whatsapp_tokens.get(job.account_id) else f"whatsapp_tokens[{job.account_id}]"


class _NoToken:
    """A platform PlatformSecret holds no token for, in a deployed stack: reported like a refused token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def send(self, job: OutboundJob) -> Sent:
        raise SendTokenRejectedError("missing", f"PlatformSecret has no {self._key}")


class PlatformSenders:
    """Implements `Senders`: a platform sender per job, built from PlatformSecret's tokens (one HTTP session for all)."""

    def __init__(self, tokens: PlatformTokens, session: requests.Session, *, sandbox: SandboxPlatforms | None = None) -> None:
        self._tokens = tokens
        self._session = session
        self._sandbox = sandbox

    def sender_for(self, job: OutboundJob) -> PlatformSender:
        missing = self._tokens.missing_key(job)
        if missing is not None:
            return self._sandbox if self._sandbox is not None else _NoToken(missing)
        if job.platform == Platform.X:
            assert self._tokens.x is not None  # missing_key said so
            return XSender(self._tokens.x, self._session)
        if job.platform == Platform.WHATSAPP:
            return WhatsAppSender(self._tokens.whatsapp_tokens[job.account_id], self._session)
        token = self._tokens.instagram_token if job.platform == Platform.INSTAGRAM else self._tokens.page_tokens[job.account_id]
        assert token is not None
        return GraphSender(token, self._session)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _map(value: Any) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(key): token for key, token in value.items() if isinstance(token, str) and token.strip()}
