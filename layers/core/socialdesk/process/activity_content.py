"""How an event reads in the CRM: the customer as a contact, the message as an activity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk.crm.port import CrmActivity, CrmContact
from socialdesk.model.conversation import customer_key
from socialdesk.process.labels import customer_name, profile_url
from socialdesk.process.ticket_content import customer_words, subject

if TYPE_CHECKING:
    from socialdesk.classify import Classification
    from socialdesk.model import SocialEvent


def crm_contact(event: SocialEvent) -> CrmContact:
    assert event.author is not None
    return CrmContact(
        external_id=customer_key(event.platform, event.author.id),
        name=customer_name(event),
        handle=event.author.handle,
        profile_url=profile_url(event.platform, event.author),
        follower_count=event.author.follower_count,
    )


def crm_activity(event: SocialEvent, *, ticket_url: str | None, classification: Classification | None = None) -> CrmActivity:
    return CrmActivity(
        event_key=event.dedupe_key,
        platform=event.platform,
        kind=event.kind,
        subject=subject(event),
        text=customer_words(event),
        occurred_at=event.created_at,
        permalink=event.permalink,
        ticket_url=ticket_url,
        classification=classification.summary() if classification is not None else None,
    )
