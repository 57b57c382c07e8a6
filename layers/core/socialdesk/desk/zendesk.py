"""The helpdesk port on Zendesk, through zenpy.

zenpy is used with three precautions (zenpy 2.0's source and issue tracker):
- its object cache is off: a Lambda container outlives what the cache assumes;
- a 429 never reaches zenpy's own handler, which sleeps in-process for `Retry-After`:
  `ZendeskSession` raises instead, and the caller hands the wait to SQS;
- zenpy cannot set per-request headers, so the session adds `Idempotency-Key` to the
  ticket-creation POST from a context variable set only around that call (each thread has its own);
- a zenpy client serves one thread: it keeps the object a request is sending on its shared API
  objects (`BaseApi._dirty_object`), sends only that object's changed attributes, and clears
  them when any answer comes back, so another thread's answer could empty a ticket update being
  built. Each thread gets its own client, all of them over one requests session (its pool).
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment as ZenpyComment
from zenpy.lib.api_objects import CustomField, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException, ZenpyException

from socialdesk.desk.port import (
    Comment,
    DeskRateLimitedError,
    DeskRejectedError,
    DeskUnavailableError,
    DeskUser,
    FieldValue,
    NewTicket,
    TicketClosedError,
    TicketNotFoundError,
    TicketRef,
    TicketView,
    same_words,
)
from socialdesk.model.priority import priority_rank as rank
from socialdesk.timeout_session import TimeoutSession

_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("zendesk_idempotency_key", default=None)
# Without Retry-After Zendesk gives no hint; wait a minute, the length of its rate-limit window.
DEFAULT_RETRY_AFTER = 60


class ZendeskRateLimitedError(requests.RequestException):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"429 Too Many Requests; retry after {retry_after} s")
        self.retry_after = retry_after


class ZendeskSession(TimeoutSession):
    """Raises on 429 instead of letting zenpy sleep, and adds the current Idempotency-Key to ticket creation."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        key = _idempotency_key.get()
        if key and str(method).upper() == "POST" and str(url).split("?")[0].endswith("/tickets.json"):
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Idempotency-Key": key}
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 429:
            raise ZendeskRateLimitedError(_retry_after(response.headers))
        return response


def zendesk_clients(
    *, subdomain: str, domain: str, email: str | None, token: str | None, oauth_token: str | None, timeout: float
) -> Callable[[], Zenpy]:
    """Builds zenpy clients with the cache off, all on one session as above; API token or OAuth token."""
    credentials: dict[str, Any] = {"oauth_token": oauth_token} if oauth_token else {"email": email, "token": token}
    session = ZendeskSession(timeout)

    def client() -> Zenpy:
        return Zenpy(subdomain=subdomain, domain=domain, session=session, timeout=timeout, disable_cache=True, **credentials)

    return client


class ZendeskDesk:
    """Implements `Desk` (socialdesk.desk.port); safe to call from several threads at once (one zenpy client each)."""

    def __init__(self, clients: Callable[[], Zenpy]) -> None:
        self._clients = clients
        self._local = threading.local()

    @property
    def _zendesk(self) -> Zenpy:
        """This thread's zenpy client (a zenpy client costs ~0.5 ms to build; the connections are the session's)."""
        client: Zenpy | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._clients()
        return client

    def upsert_user(self, user: DeskUser) -> int:
        identities = [{"type": identity.type, "value": identity.value} for identity in user.identities]
        candidate = User(name=user.name, external_id=user.external_id, skip_verify_email=True, identities=identities or None)
        try:
            with _translated_errors():
                return int(self._zendesk.users.create_or_update(candidate).id)
        except DeskRejectedError:
            if not identities:
                raise
        # The handle or number may already belong to another user: keep the customer, drop the identity.
        with _translated_errors():
            return int(self._zendesk.users.create_or_update(User(name=user.name, external_id=user.external_id, skip_verify_email=True)).id)

    def create_ticket(self, ticket: NewTicket, *, idempotency_key: str) -> int:
        fields: dict[str, Any] = {
            "subject": ticket.subject,
            "requester_id": ticket.requester_id,
            "external_id": ticket.external_id,
            "tags": list(ticket.tags),
            "comment": ZenpyComment(body=ticket.body, public=True, author_id=ticket.requester_id),
        }
        optional = {"priority": ticket.priority, "type": ticket.type, "group_id": ticket.group_id, "brand_id": ticket.brand_id}
        fields.update({name: value for name, value in optional.items() if value is not None})
        if ticket.custom_fields:
            fields["custom_fields"] = [CustomField(id=field_id, value=value) for field_id, value in ticket.custom_fields]
        if ticket.follow_up_of is not None:
            fields["via_followup_source_id"] = ticket.follow_up_of
        token = _idempotency_key.set(idempotency_key)
        try:
            with _translated_errors():
                created = self._zendesk.tickets.create(Ticket(**fields))
        finally:
            _idempotency_key.reset(token)
        # zenpy returns a TicketAudit when the answer carries `ticket` and `audit` (as Zendesk's does), else a Ticket.
        return int(getattr(created, "ticket", created).id)

    def find_tickets(self, external_id: str) -> list[TicketRef]:
        with _translated_errors():
            return [
                TicketRef(int(ticket.id), str(ticket.status), datetime.fromisoformat(str(ticket.created_at)) if ticket.created_at else None)
                for ticket in self._zendesk.tickets(external_id=external_id)
            ]

    def add_comment(self, ticket_id: int, comment: Comment, *, reopen: bool = False, custom_fields: Sequence[FieldValue] = ()) -> TicketView:
        """One PUT: the comment, the status when it reopens, and `custom_fields` (only those: Zendesk keeps the others).
        Zendesk answers with the ticket and its audit (developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket):
        its tags and priority as they now are."""
        update = Ticket(id=ticket_id)
        update.comment = ZenpyComment(body=comment.body, public=comment.public, **({"author_id": comment.author_id} if comment.author_id else {}))
        if reopen:
            update.status = "open"
        if custom_fields:
            update.custom_fields = [{"id": field_id, "value": value} for field_id, value in custom_fields]
        with _translated_errors(ticket_id):
            answer = self._zendesk.tickets.update(update)
        ticket = getattr(answer, "ticket", answer)  # a TicketAudit when the answer carries `audit` too, as Zendesk's does
        return TicketView(tags=frozenset(getattr(ticket, "tags", None) or ()), priority=getattr(ticket, "priority", None))

    def has_comment(self, ticket_id: int, comment: Comment, *, since: datetime) -> bool:
        """List Comments (`GET /api/v2/tickets/{id}/comments.json`), compared on `body`, which Zendesk keeps as plain text,
        and `created_at` (ISO 8601 UTC, whole seconds: compared with `since` cut to the second)."""
        after = since.replace(microsecond=0)
        with _translated_errors(ticket_id):
            return any(
                bool(found.public) == comment.public
                and (comment.author_id is None or found.author_id == comment.author_id)
                and datetime.fromisoformat(str(found.created_at)) >= after
                and same_words(str(found.body or ""), comment.body)
                for found in self._zendesk.tickets.comments(ticket=ticket_id)
            )

    def add_tags(self, ticket_id: int, tags: Sequence[str]) -> None:
        with _translated_errors(ticket_id):
            self._zendesk.tickets.add_tags(ticket_id, list(tags))

    def raise_priority(self, ticket_id: int, priority: str) -> None:
        """One read, and one write only when the priority goes up: repeating it after a crash changes nothing."""
        with _translated_errors(ticket_id):
            current = self._zendesk.tickets(id=ticket_id).priority
            if rank(current) < rank(priority):
                self._zendesk.tickets.update(Ticket(id=ticket_id, priority=priority))

    def assign_group(self, ticket_id: int, group_id: int) -> None:
        """One PUT of `group_id` (developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket): Zendesk
        keeps the assignee only if they belong to the new group, which is what an escalation to that group means."""
        with _translated_errors(ticket_id):
            self._zendesk.tickets.update(Ticket(id=ticket_id, group_id=group_id))

    def set_field(self, ticket_id: int, field_id: int, value: str | None) -> None:
        """One PUT of `custom_fields` with that field alone: Zendesk leaves the ticket's other fields as they are."""
        with _translated_errors(ticket_id):
            self._zendesk.tickets.update(Ticket(id=ticket_id, custom_fields=[{"id": field_id, "value": value}]))


# Answers a retry gets past: a request timeout, and 409 Conflict (two updates of one ticket at once; integrations retry
# it, e.g. singer-io/tap-zendesk#107 "Implement backoff to handle 409 from Zendesk API").
RETRYABLE_STATUSES = frozenset({408, 409})
# Answers after which the request may still have been carried out: a gateway that gave up waiting for Zendesk.
UNCERTAIN_STATUSES = frozenset({408, 502, 504})


@contextmanager
def _translated_errors(ticket_id: int | None = None) -> Iterator[None]:
    """zenpy and requests failures as the port's errors (style: adapters translate, the use case decides)."""
    try:
        yield
    except ZendeskRateLimitedError as exc:
        raise DeskRateLimitedError(exc.retry_after) from exc
    except RecordNotFoundException as exc:
        raise TicketNotFoundError(f"ticket {ticket_id} not found") from exc
    except APIException as exc:
        response = getattr(exc, "response", None)
        status = response.status_code if response is not None else None
        body = _json(response)
        if ticket_id is not None and status == 422 and _closed(body):
            raise TicketClosedError(f"ticket {ticket_id} is closed") from exc
        if status in (401, 403):
            # Credentials revoked or rotating: a retry after the secret is fixed succeeds, so never dead-letter for it.
            raise DeskUnavailableError(f"Zendesk refused the credentials ({status}); check the CRM secret") from exc
        if status is not None and (status >= 500 or status in RETRYABLE_STATUSES):
            raise DeskUnavailableError(f"Zendesk answered {status}", uncertain=status in UNCERTAIN_STATUSES) from exc
        raise DeskRejectedError(f"Zendesk answered {status}: {_summary(body)}") from exc
    except requests.HTTPError as exc:  # zenpy raises this for a non-JSON error body
        status = exc.response.status_code if exc.response is not None else None
        if status is not None and status < 500 and status not in RETRYABLE_STATUSES:
            raise DeskRejectedError(f"Zendesk answered {status}") from exc
        raise DeskUnavailableError(f"Zendesk answered {status}", uncertain=status in UNCERTAIN_STATUSES) from exc
    except requests.ConnectTimeout as exc:  # never connected: nothing was sent
        raise DeskUnavailableError(f"Zendesk unreachable: {type(exc).__name__}") from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise DeskUnavailableError(f"Zendesk unreachable: {type(exc).__name__}", uncertain=True) from exc
    except ZenpyException as exc:
        raise DeskUnavailableError(f"zenpy: {exc}") from exc


def _closed(body: Mapping[str, Any]) -> bool:
    """422 `details.status[].description` "Status closed prevents ticket update" (Speedygeek/ZendeskApi_v2#59)."""
    statuses = (body.get("details") or {}).get("status") or []
    return any("closed" in str(item.get("description", "")).lower() for item in statuses if isinstance(item, Mapping))


def _json(response: requests.Response | None) -> dict[str, Any]:
    if response is None:
        return {}
    try:
        parsed = response.json()
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _summary(body: Mapping[str, Any]) -> str:
    """Error code and field names, never field values (they may hold customer text)."""
    details = body.get("details")
    fields = sorted(details) if isinstance(details, Mapping) else []
    return json.dumps({"error": body.get("error"), "fields": fields})


def _retry_after(headers: Mapping[str, str]) -> int:
    try:
        seconds = int(headers.get("Retry-After", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if seconds > 0 else DEFAULT_RETRY_AFTER
