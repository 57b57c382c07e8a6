"""What the platform senders share: one timed HTTP session, and how a failed request is read (sent, not sent, unknown).

A request that never reached the platform (connection refused, a name that does not resolve, a connect timeout) sent
nothing, and may be tried again; one whose answer was lost (a read timeout, a dropped connection) or that the
platform answered 5xx may have been carried out, and is never repeated: the platforms take no idempotency key for
sends (model/outbound.py).
"""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from socialdesk.ports.outbound import SendNotSentError, SendUncertainError
from socialdesk.timeout_session import TimeoutSession


def platform_session(timeout: float) -> requests.Session:
    """No retries (urllib3's default of none is kept): a repeated send could be a second message."""
    session = TimeoutSession(timeout)
    session.headers["User-Agent"] = "socialdesk-outbound"
    return session


def post(session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
    """POST once; a transport failure becomes SendNotSentError (nothing left) or SendUncertainError (something may have)."""
    try:
        return session.post(url, **kwargs)
    except requests.ConnectTimeout as exc:
        raise SendNotSentError("connect timeout") from exc
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise SendNotSentError(f"connection failed: {_cause(exc)}") from exc
        raise SendUncertainError(f"connection lost: {_cause(exc)}") from exc
    except requests.Timeout as exc:
        raise SendUncertainError("no answer in time (read timeout)") from exc
    except requests.RequestException as exc:
        raise SendUncertainError(f"request failed: {type(exc).__name__}") from exc


def _never_connected(exc: requests.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, NameResolutionError))


def _cause(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    return type(reason).__name__


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
