"""The CRM port on Salesforce, through simple-salesforce's REST calls.

- One request per message: a new contact and its Task (or SocialPersona and SocialPost)
  go in one Composite request; a known contact costs a single insert. The Composite
  top level answers 200 even when a subrequest failed, so every subresponse is read.
- Login is OAuth JWT bearer or client credentials (password login is being retired);
  an expired session is renewed once per call, never in a loop.
- Every call has a timeout; simple-salesforce sets none of its own (simple-salesforce 1.12 source: its requests session has no default timeout).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql
from simple_salesforce.login import SalesforceLogin

from socialdesk.crm.port import CrmActivity, CrmContact, CrmRateLimitedError, CrmRejectedError, CrmUnavailableError, RecordedActivity
from socialdesk.model import EventKind, Platform
from socialdesk.timeout_session import TimeoutSession

if TYPE_CHECKING:
    from socialdesk.rules import SalesforceRules

TASK_SUBJECT_MAX = 255
NAME_MAX = 80
# Social Customer Service picklists (object reference: SocialPost MessageType; SocialPersona / SocialPost Provider).
MESSAGE_TYPES = {
    EventKind.POST: "Post",
    EventKind.REPLY: "Reply",
    EventKind.COMMENT: "Comment",
    EventKind.DIRECT_MESSAGE: "Direct",
}
PROVIDERS = {
    Platform.X: "Twitter",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.MESSENGER: "Facebook",
    Platform.WHATSAPP: "Other",
}


class SalesforceCredentials(msgspec.Struct, frozen=True, kw_only=True):
    consumer_key: str
    username: str | None = None
    private_key: str | None = None
    consumer_secret: str | None = None


class SalesforceConnection:
    """A logged-in Salesforce client, renewed once when its session expires; shared by threads, which log in once."""

    def __init__(
        self, rules: SalesforceRules, credentials: SalesforceCredentials, *, login: Callable[..., tuple[str, str]] = SalesforceLogin
    ) -> None:
        self._rules = rules
        self._credentials = credentials
        self._login = login
        self._session = TimeoutSession(rules.timeout_seconds)
        self._client: Salesforce | None = None
        self._login_lock = threading.Lock()

    def call(self, path: str, *, method: str = "GET", body: Any = None, params: dict[str, str] | None = None) -> Any:
        client = self._logged_in()
        for renewed in (False, True):
            try:
                return client.restful(path, params=params, method=method, json=body, timeout=self._rules.timeout_seconds)
            except SalesforceExpiredSession:
                if renewed:
                    raise
                client = self._logged_in(expired=client)
        raise AssertionError("unreachable")

    def _logged_in(self, *, expired: Salesforce | None = None) -> Salesforce:
        """The client, logging in when there is none or when the one found expired is still the current one: threads
        that start together, or find the session expired together, log in once and all use that login."""
        with self._login_lock:
            if self._client is None or self._client is expired:
                self._client = self._connect()
            return self._client

    def data_path(self, path: str) -> str:
        """A path relative to the data API, as Composite subrequests need it."""
        return f"/services/data/v{self._rules.api_version}/{path}"

    def _connect(self) -> Salesforce:
        credentials = self._credentials
        if self._rules.auth == "jwt":
            options = {"username": credentials.username, "consumer_key": credentials.consumer_key, "privatekey": credentials.private_key}
        else:
            options = {"consumer_key": credentials.consumer_key, "consumer_secret": credentials.consumer_secret}
        try:
            session_id, instance = self._login(domain=self._rules.login_domain, session=self._session, sf_version=self._rules.api_version, **options)
        except SalesforceAuthenticationFailed as exc:
            reason = exc.content.decode("utf-8", "replace") if isinstance(exc.content, bytes) else str(exc.content)
            raise CrmUnavailableError(f"Salesforce login failed ({self._rules.auth}): {reason[:160]}") from exc
        return Salesforce(session_id=session_id, instance=instance, session=self._session, version=self._rules.api_version)


class SalesforceCrm:
    """Implements `Crm` (socialdesk.crm.port) with Contact + Task, or Social Customer Service objects."""

    def __init__(self, connection: SalesforceConnection, rules: SalesforceRules) -> None:
        self._sf = connection
        self._rules = rules
        self._social = rules.mode == "social"

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        if self._social:
            try:
                return self._record_social_post(activity, contact, contact_id, persona_id)
            except _SocialObjectsMissingError:
                self._social = False  # this org has no Social Customer Service: Contact + Task from now on
        return self._record_task(activity, contact, contact_id)

    def find_activity(self, activity: CrmActivity, *, contact_id: str | None) -> RecordedActivity | None:
        """After a crash: the Task or SocialPost this event already created, found by its event key, with its WhoId (and
        a SocialPost's PersonaId): the contact and persona the crash kept from the customer's record, so that the next
        message does not create them again."""
        if self._social:
            query = format_soql("SELECT Id, WhoId, PersonaId FROM SocialPost WHERE ExternalPostId = {} LIMIT 1", activity.event_key)
        elif self._rules.task_event_key_field:
            query = format_soql(f"SELECT Id, WhoId FROM Task WHERE {self._rules.task_event_key_field} = {{}} LIMIT 1", activity.event_key)
        elif contact_id:
            query = format_soql("SELECT Id, WhoId FROM Task WHERE WhoId = {} AND Subject LIKE '%{:like}]' LIMIT 1", contact_id, _reference(activity))
        else:
            # `{:like}` escapes LIKE wildcards in the value; the quotes and the % belong to the template.
            query = format_soql("SELECT Id, WhoId FROM Task WHERE Subject LIKE '%{:like}]' LIMIT 1", _reference(activity))
        with _translated_errors():
            records = (self._sf.call("query", params={"q": query}) or {}).get("records") or []
        if not records:
            return None
        found = records[0]
        return RecordedActivity(
            contact_id=str(found.get("WhoId") or contact_id or ""), activity_id=str(found["Id"]), persona_id=found.get("PersonaId")
        )

    # --- Contact + Task ---------------------------------------------------------------------

    def _record_task(self, activity: CrmActivity, contact: CrmContact, contact_id: str | None) -> RecordedActivity:
        if contact_id is not None:
            with _translated_errors():
                created = self._sf.call("sobjects/Task", method="POST", body=self._task(activity, who=contact_id))
            return RecordedActivity(contact_id=contact_id, activity_id=str(created["id"]))
        results = self._composite(
            [
                self._contact_upsert(contact),
                {
                    "method": "POST",
                    "url": self._sf.data_path("sobjects/Task"),
                    "referenceId": "task",
                    "body": self._task(activity, who="@{contact.id}"),
                },
            ]
        )
        return RecordedActivity(contact_id=str(results["contact"]["id"]), activity_id=str(results["task"]["id"]))

    def _task(self, activity: CrmActivity, *, who: str) -> dict[str, Any]:
        """A completed Task, so the message shows in the contact's Activity History (object reference: Task)."""
        subject = activity.subject
        if not self._rules.task_event_key_field:
            # The reference lets a retry after a crash find this Task; with an event-key field it is not needed.
            reference = f" [{_reference(activity)}]"
            subject = subject[: TASK_SUBJECT_MAX - len(reference)] + reference
        task: dict[str, Any] = {
            "WhoId": who,
            "Subject": subject[:TASK_SUBJECT_MAX],
            "Description": _description(activity),
            "Status": "Completed",
            "Priority": "Normal",
            "ActivityDate": activity.occurred_at.date().isoformat(),
            "TaskSubtype": "Task",
        }
        if self._rules.task_type:
            task["Type"] = self._rules.task_type
        if self._rules.task_event_key_field:
            task[self._rules.task_event_key_field] = activity.event_key
        return task

    def _contact_upsert(self, contact: CrmContact) -> dict[str, Any]:
        """PATCH by external id (URL-encoded: ids hold `:`); creates the contact or updates the one we made before."""
        path = f"sobjects/Contact/{self._rules.contact_external_id_field}/{quote(contact.external_id, safe='')}"
        body = {"LastName": contact.name[:NAME_MAX], **self._rules.contact_fields}
        return {"method": "PATCH", "url": self._sf.data_path(path), "referenceId": "contact", "body": body}

    # --- Social Customer Service ------------------------------------------------------------

    def _record_social_post(self, activity: CrmActivity, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        requests_: list[dict[str, Any]] = []
        who, persona = contact_id, persona_id
        if who is None:
            requests_.append(self._contact_upsert(contact))
            who = "@{contact.id}"
        if persona is None:
            requests_.append(
                {
                    "method": "POST",
                    "url": self._sf.data_path("sobjects/SocialPersona"),
                    "referenceId": "persona",
                    "body": _persona(activity, contact, who),
                }
            )
            persona = "@{persona.id}"
        post = {
            "method": "POST",
            "url": self._sf.data_path("sobjects/SocialPost"),
            "referenceId": "post",
            "body": _social_post(activity, contact, who, persona),
        }
        results = self._composite([*requests_, post], social=True)
        return RecordedActivity(
            contact_id=contact_id or str(results["contact"]["id"]),
            persona_id=persona_id or str(results["persona"]["id"]),
            activity_id=str(results["post"]["id"]),
        )

    # --- Composite ------------------------------------------------------------------------

    def _composite(self, subrequests: Sequence[Mapping[str, Any]], *, social: bool = False) -> dict[str, Any]:
        """Send subrequests all-or-none and return each one's body by reference id, or raise for the first real failure."""
        with _translated_errors(social=social):
            answer = self._sf.call("composite", method="POST", body={"allOrNone": True, "compositeRequest": list(subrequests)})
        results: dict[str, Any] = {}
        for sub in (answer or {}).get("compositeResponse", []):
            status, body = int(sub.get("httpStatusCode", 500)), sub.get("body")
            if status < 300:
                if not isinstance(body, Mapping) or not body.get("id"):
                    # An upsert that updates answers 204 without the record id before API v46.0 (dome-upsert).
                    raise CrmRejectedError(f"{sub['referenceId']} answered {status} without a record id; use api_version 46.0 or later")
                results[sub["referenceId"]] = body
                continue
            codes = [str(error.get("errorCode")) for error in body or [] if isinstance(error, Mapping)]
            if codes == ["PROCESSING_HALTED"]:
                continue  # rolled back because another subrequest failed; that one says why
            raise _subrequest_failure(sub["referenceId"], status, codes, social=social)
        missing = [sub["referenceId"] for sub in subrequests if sub["referenceId"] not in results]
        if missing:
            raise CrmUnavailableError(f"Composite answered without results for {missing}")
        return results


# Refusals that a retry gets past: a concurrent upsert won the race (DUPLICATE_VALUE), or another transaction held the
# record's lock longer than Salesforce waits for it, 10 s (UNABLE_TO_LOCK_ROW; Apex Developer Guide, "Locking Statements").
TRANSIENT_CODES = frozenset({"DUPLICATE_VALUE", "UNABLE_TO_LOCK_ROW"})


class _SocialObjectsMissingError(Exception):
    """SocialPost or SocialPersona answered 404: Social Customer Service is not enabled in this org."""


def _subrequest_failure(reference: str, status: int, codes: list[str], *, social: bool) -> Exception:
    if social and status == 404 and reference in ("persona", "post"):
        return _SocialObjectsMissingError()
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return CrmRateLimitedError(f"{reference}: REQUEST_LIMIT_EXCEEDED")
    if TRANSIENT_CODES.intersection(codes) or status >= 500:
        # DUPLICATE_VALUE: a concurrent upsert created the contact first; the next attempt matches it.
        return CrmUnavailableError(f"{reference} answered {status} {codes}")
    if status == 300:
        return CrmRejectedError(f"{reference}: several contacts carry this external id; merge them in Salesforce")
    return CrmRejectedError(f"{reference} answered {status} {codes}")


@contextmanager
def _translated_errors(*, social: bool = False) -> Iterator[None]:
    """simple-salesforce and requests failures as the port's errors (403 REQUEST_LIMIT_EXCEEDED: salesforce-app-limits)."""
    try:
        yield
    except SalesforceRefusedRequest as exc:
        codes = _error_codes(exc.content)
        if "REQUEST_LIMIT_EXCEEDED" in codes:
            raise CrmRateLimitedError("REQUEST_LIMIT_EXCEEDED") from exc
        raise CrmRejectedError(f"refused (403) {codes}") from exc
    except SalesforceResourceNotFound as exc:
        if social:
            raise _SocialObjectsMissingError() from exc
        raise CrmRejectedError(f"not found (404) {_error_codes(exc.content)}") from exc
    except (SalesforceGeneralError, SalesforceExpiredSession) as exc:
        raise CrmUnavailableError(f"Salesforce answered {exc.status}") from exc
    except SalesforceError as exc:
        codes = _error_codes(exc.content)
        if TRANSIENT_CODES.intersection(codes):
            raise CrmUnavailableError(f"Salesforce answered {exc.status} {codes}") from exc
        raise CrmRejectedError(f"Salesforce answered {exc.status} {codes}") from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise CrmUnavailableError(f"Salesforce unreachable: {type(exc).__name__}") from exc


def _error_codes(content: Any) -> list[str]:
    return [str(error.get("errorCode")) for error in content if isinstance(error, Mapping)] if isinstance(content, list) else []


def _reference(activity: CrmActivity) -> str:
    return "sd-" + hashlib.sha256(activity.event_key.encode()).hexdigest()[:10]


def _description(activity: CrmActivity) -> str:
    lines = [activity.text, ""]
    if activity.permalink:
        lines.append(f"On {activity.platform}: {activity.permalink}")
    if activity.ticket_url:
        lines.append(f"Zendesk ticket: {activity.ticket_url}")
    if activity.classification:
        lines.append(activity.classification)
    lines.append(f"socialdesk event: {activity.event_key}")
    return "\n".join(lines)[:32000]


def _persona(activity: CrmActivity, contact: CrmContact, who: str) -> dict[str, Any]:
    persona: dict[str, Any] = {
        "Name": (contact.handle or contact.name)[:NAME_MAX],
        "RealName": contact.name[:NAME_MAX],
        "Provider": PROVIDERS[activity.platform],
        "ExternalId": contact.external_id.partition(":")[2],
        "ParentId": who,
    }
    if contact.profile_url:
        persona["ProfileUrl"] = contact.profile_url
    if contact.follower_count is not None:
        persona["Followers"] = contact.follower_count
    return persona


def _social_post(activity: CrmActivity, contact: CrmContact, who: str, persona: str) -> dict[str, Any]:
    post: dict[str, Any] = {
        "Name": activity.subject[:NAME_MAX],
        "Headline": activity.subject[:TASK_SUBJECT_MAX],
        "Content": activity.text,
        "Posted": activity.occurred_at.isoformat(),
        "Provider": PROVIDERS[activity.platform],
        "MessageType": MESSAGE_TYPES.get(activity.kind, "Post"),
        "ExternalPostId": activity.event_key,
        "PersonaId": persona,
        "WhoId": who,
        "Handle": (contact.handle or contact.name)[:NAME_MAX],
    }
    if activity.permalink:
        post["PostUrl"] = activity.permalink
    return post
