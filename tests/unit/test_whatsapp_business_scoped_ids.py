"""WhatsApp customers named by business-scoped user id (BSUID) since April 2026: chats and customers keep their tickets.

BSUIDs and phone numbers that may be missing: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/;
coexistence echoes (`smb_message_echoes`): chatwoot/chatwoot PR 13371.
The samples are one customer, Dana (+1 650 555 1234, BSUID US.13491208655302741918): `meta-whatsapp-text` as
recorded before BSUIDs, then the same chat carrying both ids, then her username alone.
"""

from __future__ import annotations

import msgspec
import pytest

from socialdesk.model import SocialEvent, decode_event
from tests.support.events import sample_event
from tests.support.process_world import World

PHONE_CHAT = "whatsapp:106540352242922:chat:16505551234"
BSUID_CHAT = "whatsapp:106540352242922:chat:US.13491208655302741918"
PHONE_CUSTOMER, BSUID_CUSTOMER = "whatsapp:16505551234", "whatsapp:US.13491208655302741918"


@pytest.fixture
def world() -> World:
    return World()


def settle(world: World, events: list[SocialEvent]) -> None:
    """Process events in order, then whatever they released from parking, until the queue is empty."""
    pending = list(events)
    while pending:
        world.handle(pending.pop(0))
        released, world.queue.messages[:] = [decode_event(message.body) for message in world.queue.messages], []
        pending += released


def test_a_phone_keyed_chat_continues_when_the_bsuid_appears_on_the_same_ticket_user_and_contact(world: World) -> None:
    # Given Dana's chat, ticket, Zendesk user and Salesforce contact, all keyed by her number before BSUIDs
    world.handle(sample_event("meta-whatsapp-text"))
    # When she writes again with her BSUID and number, then with her username and BSUID alone
    world.handle(sample_event("meta-whatsapp-text-bsuid"))
    world.handle(sample_event("meta-whatsapp-username"))
    # Then all three messages are public comments by her on the one ticket of the phone-keyed chat
    [ticket] = world.desk.tickets.values()
    assert ticket.external_id == PHONE_CHAT
    assert world.public_bodies(PHONE_CHAT) == [
        "Mi pedido no ha llegado. ¿Pueden ayudarme? 🙏",
        "Sigo esperando el pedido #4411, ¿me dicen algo?",
        "Gracias, ya tengo el número de seguimiento 👍",
    ]
    assert {comment.author_id for comment in ticket.comments if comment.public} == {ticket.requester_id}
    # And she is still one Zendesk user and one Salesforce contact, with a Task per message on it
    assert list(world.desk.users) == [PHONE_CUSTOMER]
    assert list(world.crm.state.contacts) == [PHONE_CUSTOMER]
    assert [recorded.contact_id for recorded in world.crm.state.activities.values()] == ["003SBX000000000000"] * 3
    assert world.store.conversation(BSUID_CHAT) is None


def test_a_status_naming_only_the_bsuid_finds_the_phone_keyed_chat(world: World) -> None:
    # Given Dana's phone-keyed chat, which her BSUID joined when she wrote with both ids
    world.handle(sample_event("meta-whatsapp-text"))
    world.handle(sample_event("meta-whatsapp-text-bsuid"))
    # When a message to her BSUID fails, the status naming the BSUID alone
    outcome = world.handle(sample_event("meta-whatsapp-status-failed-bsuid"))
    # Then the warning is a note on her ticket, not parked on a chat nobody opens
    assert (outcome.conversation_key, outcome.actions) == (PHONE_CHAT, ["note_delivery_status"])
    assert world.private_bodies(PHONE_CHAT)[-1].startswith("⚠ A WhatsApp message to the customer was not delivered (131026 Message undeliverable)")


def test_a_new_customer_is_keyed_by_the_bsuid_with_the_phone_as_an_attribute(world: World) -> None:
    # Given a customer socialdesk has never seen, writing with BSUID and number
    event = sample_event("meta-whatsapp-text-bsuid")
    # When processed
    world.handle(event)
    # Then the chat, the Zendesk user and the Salesforce contact go by the BSUID, the one id every payload carries
    ticket = world.ticket_for(BSUID_CHAT)
    assert ticket.external_id == BSUID_CHAT
    assert list(world.desk.users) == list(world.crm.state.contacts) == [BSUID_CUSTOMER]
    # And the number is her phone identity and the profile link, as before
    assert world.desk.state.users[BSUID_CUSTOMER].identities == [{"type": "phone_number", "value": "+16505551234"}]
    assert "Profile: https://wa.me/16505551234" in world.private_bodies(BSUID_CHAT)[0]


def test_a_customer_without_a_phone_number_gets_no_phone_identity_and_no_wa_me_link(world: World) -> None:
    # Given a new customer known only by BSUID and username
    event = sample_event("meta-whatsapp-username")
    world.handle(event)
    # Then her user has no phone identity, and no link pretends the BSUID is a number
    assert world.desk.state.users[BSUID_CUSTOMER].identities == []
    assert "wa.me" not in world.private_bodies(BSUID_CHAT)[0]
    assert world.ticket_for(BSUID_CHAT).subject.startswith("WhatsApp message from Dana Rodríguez: ")


def test_a_failed_status_naming_only_the_phone_finds_a_chat_keyed_by_the_bsuid(world: World) -> None:
    # Given a new customer's chat keyed by BSUID, her number known from the message
    world.handle(sample_event("meta-whatsapp-text-bsuid"))
    # When a message sent to her number fails: Meta names the number alone and sends no contacts
    outcome = world.handle(sample_event("meta-whatsapp-status-failed"))
    # Then the warning lands on her ticket
    assert (outcome.conversation_key, outcome.actions) == (BSUID_CHAT, ["note_delivery_status"])


def test_a_number_claimed_by_one_bsuid_is_not_handed_to_the_next_owner_of_that_number(world: World) -> None:
    # Given Dana's chat, joined by her BSUID
    world.handle(sample_event("meta-whatsapp-text"))
    world.handle(sample_event("meta-whatsapp-text-bsuid"))
    # When someone else writes from the same number later (numbers are recycled; a new owner has a new BSUID)
    stranger = sample_event("meta-whatsapp-text-bsuid")
    assert stranger.author is not None
    stranger = msgspec.structs.replace(
        stranger,
        event_id="wamid.stranger",
        message_id="wamid.stranger",
        conversation_key="whatsapp:106540352242922:chat:US.99000000000000000001",
        author=msgspec.structs.replace(stranger.author, id="US.99000000000000000001", display_name="Sam Okafor"),
        text="Hello, who is this?",
    )
    outcome = world.handle(stranger)
    # Then they get a chat, a ticket and a Zendesk user of their own, and Dana's ticket never sees their words
    assert outcome.conversation_key == "whatsapp:106540352242922:chat:US.99000000000000000001"
    assert len(world.desk.tickets) == 2
    assert "whatsapp:US.99000000000000000001" in world.desk.users
    assert "Hello, who is this?" not in world.public_bodies(PHONE_CHAT)


def test_a_bsuid_seen_alone_first_keeps_its_own_chat_and_its_later_messages_with_the_number_follow_it(world: World) -> None:
    # Given a phone-keyed chat, and the customer's first message since BSUIDs coming with her username alone
    world.handle(sample_event("meta-whatsapp-text"))
    world.handle(sample_event("meta-whatsapp-username"))
    # When her next message carries both ids
    outcome = world.handle(sample_event("meta-whatsapp-text-bsuid"))
    # Then it joins the chat her BSUID already has: nothing in the first one linked her to the number, and a chat never splits
    assert outcome.conversation_key == BSUID_CHAT
    assert world.public_bodies(BSUID_CHAT) == ["Gracias, ya tengo el número de seguimiento 👍", "Sigo esperando el pedido #4411, ¿me dicen algo?"]


def test_the_brands_reply_in_the_whatsapp_business_app_is_an_internal_note_that_answers_the_chat(world: World) -> None:
    # Given Dana's open chat waiting for an answer
    message = sample_event("meta-whatsapp-text-bsuid")
    world.handle(message)
    assert world.store.conversations[BSUID_CHAT].activity.waiting_since == message.created_at
    # When the brand replies from the WhatsApp Business app (coexistence: `smb_message_echoes`)
    echo = sample_event("meta-whatsapp-smb-echo")
    outcome = world.handle(echo)
    # Then the reply is an internal note showing what was said, never a public comment by the customer, and no Task
    assert outcome.actions == ["note_direct_message"]
    assert world.private_bodies(BSUID_CHAT)[-1] == "Replied on WhatsApp:\n\nHola Dana, su pedido #4411 sale hoy. Disculpe la demora."
    assert world.public_bodies(BSUID_CHAT) == ["Sigo esperando el pedido #4411, ¿me dicen algo?"]
    assert len(world.crm.state.activities) == 1
    # And the chat counts as answered at the reply's time
    activity = world.store.conversations[BSUID_CHAT].activity
    assert (activity.waiting_since, activity.first_response_at) == (None, echo.created_at)


def test_a_business_app_echo_before_any_ticket_waits_for_it_then_becomes_its_note(world: World) -> None:
    # Given the brand's echo arriving before the customer's message it answers (deliveries come out of order)
    settle(world, [sample_event("meta-whatsapp-smb-echo"), sample_event("meta-whatsapp-text-bsuid")])
    # Then one ticket has the customer's words and the brand's reply as a note
    [ticket] = world.desk.tickets.values()
    assert [(comment.public, comment.body.splitlines()[0]) for comment in ticket.comments] == [
        (True, "Sigo esperando el pedido #4411, ¿me dicen algo?"),
        (False, "Social context (socialdesk)"),
        (False, "Replied on WhatsApp:"),
    ]


def test_the_zendesk_user_of_a_continued_customer_is_not_recreated_under_the_bsuid(world: World) -> None:
    # Given a customer known by phone whose Zendesk user id was never stored (the first try died before saving it)
    world.handle(sample_event("meta-whatsapp-text"))
    world.store.customers[PHONE_CUSTOMER].desk_user_id = None
    # When her next message carries her BSUID
    world.handle(sample_event("meta-whatsapp-text-bsuid"))
    # Then the user is upserted under the key she had, not a second one under the BSUID
    assert list(world.desk.users) == [PHONE_CUSTOMER]
    assert world.desk.state.users[PHONE_CUSTOMER].identities == [{"type": "phone_number", "value": "+16505551234"}]
