"""Attack 9b: with Social Customer Service on, the customer is one SocialPersona (README, What works: "The customer as a
Salesforce contact with each message as a completed Task (or Social Customer Service SocialPersona and SocialPost),
exactly once"). The adapter creates a persona (`POST sobjects/SocialPersona` in the Composite, crm/salesforce.py
`_record_social_post`) whenever the customer's record holds no persona id: nothing in Salesforce makes that POST
idempotent, so the persona id must never be lost nor two personas be created at once.

`SocialCrm` below is the sandbox CRM answering as that adapter does in social mode: a contact upserted by external id, a
new persona whenever none is given, the SocialPost found again by its ExternalPostId (the event key) after a crash."""

from __future__ import annotations

import threading
from datetime import timedelta

import msgspec
import pytest

from socialdesk.crm.port import CrmActivity, CrmContact, RecordedActivity
from socialdesk.process.sqs_batch import SqsBatch
from tests.support.events import follow_up, sample_event
from tests.support.process_fakes import CrashError, FakeCrm
from tests.support.process_world import World
from tests.support.sqs_sim import SimRedelivery
from tests.unit.test_batch_conversations import batch_of, run


class SocialCrm(FakeCrm):
    def __init__(self) -> None:
        super().__init__()
        self.personas: list[str] = []
        self.contact_ids: dict[str, str] = {}
        self.arrivals: threading.Barrier | None = None
        """When set, each recording waits there first: two events' recordings truly at the same time."""

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        if self.arrivals is not None:
            self.arrivals.wait(timeout=5)
        with self._lock:  # created with the SocialPost, in the same Composite: before any crash hook runs
            contact_id = contact_id or self.contact_ids.setdefault(contact.external_id, f"003{len(self.contact_ids):015d}")
            if persona_id is None:  # the adapter's Composite POSTs a new SocialPersona
                persona_id = f"0SP{len(self.personas):015d}"
                self.personas.append(persona_id)
        recorded = super().record_activity(activity, contact=contact, contact_id=contact_id, persona_id=persona_id)
        return msgspec.structs.replace(recorded, contact_id=contact_id, persona_id=persona_id)


class SocialWorld(World):
    crm: SocialCrm

    def __init__(self) -> None:
        super().__init__()
        self.crm = SocialCrm()
        self.process = self.fresh_process()


@pytest.fixture
def world() -> SocialWorld:
    return SocialWorld()


def test_a_lambda_dying_after_the_first_social_post_leaves_the_customer_one_persona(world: SocialWorld) -> None:
    """Given Social Customer Service on and a new X customer's mention
    When the Lambda dies right after Salesforce created the contact, persona and SocialPost (before the customer's record
    kept the persona id), SQS redelivers it (the SocialPost is found by its event key), and the customer then writes again
    Then the customer has one SocialPersona in Salesforce, not one per message written after the crash."""
    first = sample_event("x-mention")

    def dies() -> None:
        world.store.dead = True
        raise CrashError("Lambda timed out after Salesforce answered")

    world.crm.after_record = dies
    with pytest.raises(CrashError):
        world.handle(first)
    world.store.dead = False
    world.now += timedelta(minutes=6)
    world.process = world.fresh_process()
    world.handle(first, attempt=2)
    world.now += timedelta(minutes=5)
    world.handle(follow_up(first, 1))
    assert len(world.crm.activities) == 2
    assert len(world.crm.personas) == 1, f"{len(world.crm.personas)} SocialPersonas for one customer: {world.crm.personas}"


def test_two_new_posts_of_one_new_customer_in_one_batch_give_them_one_persona(world: SocialWorld) -> None:
    """Given Social Customer Service on and a new X customer who posts two mentions seconds apart (two threads, two
    conversations, which the batch would otherwise run side by side: README, How it works inside, 2 Process)
    When both come in one batch
    Then the batch runs one customer's events one after the other, and Salesforce holds one SocialPersona for that
    customer (and one SocialPost per message), not two.
    (Adapted from attack 9b's two bare threads: the batch driver is what decides what runs side by side.)"""
    first = sample_event("x-mention")
    second_id = str(int(first.message_id) + 1)
    second = msgspec.structs.replace(
        first,
        event_id=second_id,
        message_id=second_id,
        conversation_key=f"x:{first.account_id}:thread:{second_id}",
        text="@AcmeHelp and the refund for #4412?",
        permalink=f"https://x.com/dana_r/status/{second_id}",
    )
    queue, batch = batch_of(first, second)
    failed = run(SqsBatch(process=world.process, redelivery=SimRedelivery(queue), clock=queue.clock), queue, batch)
    assert failed == []
    assert len(world.crm.activities) == 2
    assert len(world.crm.personas) == 1, f"{len(world.crm.personas)} SocialPersonas for one customer: {world.crm.personas}"
