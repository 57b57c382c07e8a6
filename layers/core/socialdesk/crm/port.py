"""What socialdesk needs from a CRM. The Salesforce adapter implements it; tests use an in-memory one."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from socialdesk.model import EventKind, Platform


class CrmContact(msgspec.Struct, frozen=True, kw_only=True):
    external_id: str
    """`<platform>:<user id>`, written to the configured external-ID field."""
    name: str
    handle: str | None = None
    profile_url: str | None = None
    follower_count: int | None = None


class CrmActivity(msgspec.Struct, frozen=True, kw_only=True):
    """One inbound customer message, as activity history on the contact."""

    event_key: str
    platform: Platform
    kind: EventKind
    subject: str
    text: str
    occurred_at: datetime
    permalink: str | None = None
    ticket_url: str | None = None
    classification: str | None = None
    """`Classification: lang=ko sentiment=negative priority=urgent intents=refund_policy`, when the rules classify."""


class RecordedActivity(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    activity_id: str
    persona_id: str | None = None


class CrmError(Exception):
    """Base for failures of the CRM port."""


class CrmRateLimitedError(CrmError):
    """The org's API allocation is used up (REQUEST_LIMIT_EXCEEDED): wait, do not retry hot."""


class CrmUnavailableError(CrmError):
    """Server error, timeout, connection failure or failed re-authentication: worth retrying later."""


class CrmRejectedError(CrmError):
    """The CRM refused the data (validation, duplicate contacts, missing field): retrying cannot help."""


class Crm(Protocol):
    def record_activity(
        self,
        activity: CrmActivity,
        *,
        contact: CrmContact,
        contact_id: str | None,
        persona_id: str | None,
    ) -> RecordedActivity:
        """Record the activity; with `contact_id` unknown, upsert the contact in the same request."""
        ...

    def find_activity(self, activity: CrmActivity, *, contact_id: str | None) -> RecordedActivity | None:
        """The activity already recorded for this event (after a crash), with the contact and persona it was recorded on
        (what the crash kept the customer's record from learning), or None."""
        ...
