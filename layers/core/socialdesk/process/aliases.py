"""Which key a WhatsApp chat or customer goes by, now that Meta names customers by a business-scoped user id.

Since April 2026 WhatsApp webhooks carry a business-scoped user id (BSUID), and the phone number only while
Meta may share it (https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/).
Ingest keys a chat and a customer by the BSUID when there is one and passes the phone-keyed key beside it when the
payload names both. Chats and customers socialdesk keyed by phone before (`whatsapp:<phone number id>:chat:<phone>`,
the Zendesk user and Salesforce contact `whatsapp:<phone>`) must continue: the same ticket, the same end user, the same contact. So:

- every key an event is resolved by is bound once to the key its events go under (an `Alias` in the store),
  and the first binding wins: two messages of one customer at once never split, whatever each carries;
- the first time a BSUID comes with a phone number, it goes where that phone's key already goes: the chat or
  customer keyed by phone when socialdesk has one, else its own key. It also claims the phone's key, so a
  later event naming the phone alone (a failed status of a message sent to the number, which Meta sends
  without the BSUID) finds the same chat;
- a phone key claimed by another BSUID is not followed: numbers are recycled, and a new owner of a number
  (a number change also gives a new BSUID) starts afresh instead of inheriting a stranger's ticket;
- a BSUID seen only without a phone before it was seen with one stays its own: a chat keyed by phone whose
  customer comes back with a username and no phone cannot be recognised (nothing in the payload links them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from socialdesk.store.port import ConversationStore


def resolve(store: ConversationStore, key: str, phone_key: str | None, *, exists: Callable[[str], bool], known: str | None = None) -> str:
    """The key events keyed `key` go under, binding it (and claiming `phone_key`, the phone-keyed name of the same) if new.

    `exists` says whether socialdesk already holds a record under a key; `known` is where the event's message is
    already known to belong (a redelivery, a quoted message), which a new binding follows.
    """
    bound = store.alias(key)
    if bound is not None:
        return bound.target
    proposal, claimed = known or key, None
    if phone_key is not None and phone_key != key:
        phone = store.alias(phone_key)
        if phone is None or phone.owner in (None, key):  # otherwise another customer holds the number: start afresh
            claimed = phone_key
            if known is None:
                proposal = phone.target if phone else phone_key if exists(phone_key) else key
    if claimed and store.bind_alias(claimed, target=proposal, owner=key).owner != key:
        proposal, claimed = known or key, None  # another customer claimed the number a moment ago
    chosen = store.bind_alias(key, target=proposal).target
    if claimed and chosen != proposal:
        store.bind_alias(claimed, target=chosen, owner=key)  # an event of ours bound first: the phone follows it
    return chosen
