"""Automatic messages on the platform: the shipped [acknowledgement] rules, the policy, and process queuing one job per window.

The process use case runs on in-memory ports (tests/support/process_world.py) with a fake outbound queue collecting jobs
and a fake record of what we sent, under the shipped rules file (Berlin business hours, seven languages).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from socialdesk.acknowledge import policy
from socialdesk.classify import Classification
from socialdesk.crm.port import CrmUnavailableError
from socialdesk.desk.port import DeskUnavailableError
from socialdesk.model import SocialEvent
from socialdesk.model.outbound import Channel, JobKind, OutboundJob
from socialdesk.platforms.x import XWebhook
from socialdesk.process.failures import RetryLaterError
from socialdesk.rules import AcknowledgementRules, RulesConfig, load_rules
from tests.support import x_activity
from tests.support.events import sample_event
from tests.support.process_fakes import CrashError
from tests.support.process_world import NOW, World, said

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_rules(ROOT / "config" / "socialdesk.toml")
# NOW is Monday 23 November 2026, 11:00 in Berlin: the shipped calendar is open.
SUNDAY = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
VOUCHER = "Hi, my voucher code doesn't work"  # no intent with an answer: an acknowledgement


class CollectedJobs:
    """The outbound queue: collects jobs; `failures` makes the next enqueues fail (an SQS outage)."""

    def __init__(self) -> None:
        self.jobs: list[OutboundJob] = []
        self.failures = 0
        self._lock = threading.Lock()

    def enqueue(self, job: OutboundJob) -> None:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("SendMessage failed: InternalError")
            self.jobs.append(job)

    @property
    def distinct(self) -> dict[str, OutboundJob]:
        """By job id: what outbound would send (it sends a job id once)."""
        return {job.job_id: job for job in self.jobs}


class SentRecord:
    """What we sent, as outbound records it: platform message id → job id."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], str] = {}

    def find_sent(self, platform: str, message_id: str) -> str | None:
        return self.sent.get((platform, message_id))


class AckWorld(World):
    def __init__(self, config: RulesConfig = SHIPPED) -> None:
        self.outbound, self.sent = CollectedJobs(), SentRecord()
        super().__init__(config)

    def ports(self) -> dict[str, Any]:
        return {"outbound": self.outbound, "sent": self.sent}


def at_now(name: str, **changes: Any) -> SocialEvent:
    """A sample event written at NOW (the samples are dated when they are read)."""
    return msgspec.structs.replace(sample_event(name), **{"created_at": NOW, **changes})


def with_ack(**changes: Any) -> RulesConfig:
    ack = SHIPPED.acknowledgement
    assert ack is not None
    return SHIPPED.model_copy(update={"acknowledgement": ack.model_copy(update=changes)})


# --- through process ------------------------------------------------------------------------


def test_a_korean_message_is_acknowledged_in_korean_once_its_ticket_exists() -> None:
    # Given the shipped rules
    world = AckWorld()
    # When a Korean customer writes on WhatsApp
    event = at_now("meta-whatsapp-text", text="안녕하세요, 주문한 물건에 대해 문의드립니다")
    outcome = world.handle(event)
    # Then one acknowledgement is queued, in Korean, naming the ticket, disclosed as automated, as a WhatsApp DM
    [job] = world.outbound.jobs
    ticket = world.ticket_of(event)
    assert job.kind is JobKind.ACKNOWLEDGEMENT and job.language == "ko" and job.channel is Channel.DIRECT_MESSAGE
    assert f"번호 #{ticket.id}" in job.text and job.text.endswith("\n자동 응답")
    assert "1시간 이내에" in job.text  # the calendar is open: the in-hours response time
    # And it carries what outbound needs: the ticket, the customer, the brand's number, the message answered
    assert job.ticket_id == ticket.id
    assert (job.recipient_id, job.account_id, job.reply_to_id) == (event.author.id if event.author else None, event.account_id, event.message_id)
    assert job.job_id == f"ack:{event.conversation_key}:{int(NOW.timestamp())}"
    assert job.customer_message_at == NOW
    # And the ticket is tagged, and the outcome says so
    assert "auto_acknowledged" in ticket.tags
    assert "acknowledgement_queued" in outcome.actions


def test_a_spanish_refund_question_gets_the_faq_answer_with_the_way_to_a_person_and_the_disclosure() -> None:
    # Given the shipped rules, whose refund_policy intent has an answer
    world = AckWorld()
    # When a Spanish customer asks about a refund on WhatsApp
    event = at_now("meta-whatsapp-text", text="Hola, ¿cómo funciona el reembolso si devuelvo un artículo?")
    world.handle(event)
    # Then the real answer is queued in Spanish, with the way to reach a person and "Respuesta automática"
    [job] = world.outbound.jobs
    assert job.kind is JobKind.SELF_SERVICE and job.language == "es"
    assert job.text.startswith("Reembolsos: puedes devolver")
    assert job.text.endswith("Responde aquí para hablar con una persona.\nRespuesta automática")
    # And the ticket is opened and tagged auto_answered, and nothing counts it as a human answer
    ticket = world.ticket_of(event)
    assert "auto_answered" in ticket.tags and "auto_acknowledged" not in ticket.tags
    conversation = world.store.conversation(event.conversation_key)
    assert conversation is not None and conversation.activity.first_response_at is None


def test_duplicates_and_further_messages_within_the_window_queue_one_job_and_the_next_window_another() -> None:
    # Given the shipped 24-hour window
    world = AckWorld()
    event = at_now("meta-whatsapp-text")
    # When the message is delivered twice, and the customer writes again 5 minutes later
    world.handle(event, delivery="sqs-1")
    world.handle(event, delivery="sqs-2")
    world.now = NOW + timedelta(minutes=5)
    second = world.handle(said(event, 1, "¿hola?", minutes=5))
    # Then one job was queued, and the second message was told one went out already
    assert len(world.outbound.jobs) == 1
    assert "automatic_message_already_sent" in second.actions
    # When the customer writes again 25 hours after the first
    world.now = NOW + timedelta(hours=25)
    world.handle(said(event, 2, "¿siguen ahí?", minutes=25 * 60))
    # Then a second window's job is queued, under its own id
    assert len(world.outbound.distinct) == 2


def test_a_retry_after_the_queue_failed_between_claim_and_enqueue_queues_the_same_job() -> None:
    # Given the outbound queue failing once, right after the window is claimed
    world = AckWorld()
    world.outbound.failures = 1
    event = at_now("x-dm")
    # When the message is handled: the ticket is made, the claim taken, the queue refuses
    with pytest.raises(RetryLaterError):
        world.handle(event, attempt=1)
    assert world.outbound.jobs == []
    # And the retry (a new container) handles it again
    world.process = world.fresh_process()
    outcome = world.handle(event, attempt=2)
    # Then the same job is queued (the claim is this event's), the ticket stays one, and the event is done
    [job] = world.outbound.jobs
    assert job.job_id == policy.job_id(event.conversation_key, event)
    assert len(world.desk.tickets) == 1
    assert "acknowledgement_queued" in outcome.actions
    assert world.handle(event, delivery="sqs-redelivered").duplicate


def test_a_retry_after_tagging_failed_queues_the_same_job_id_again_which_outbound_sends_once() -> None:
    # Given a message whose job was queued, and whose ticket could not be tagged (a Zendesk outage)
    world = AckWorld()
    event = at_now("x-dm", text=VOUCHER)
    world.desk.failures.add("add_tags", DeskUnavailableError("503 Service Unavailable"))
    with pytest.raises(RetryLaterError):
        world.handle(event, attempt=1)
    # When the same delivery is retried (the event is not complete while its automatic message is pending)
    world.handle(event, attempt=2)
    # Then the job was queued twice under one id (outbound sends it once), and the ticket is tagged
    assert len(world.outbound.jobs) == 2 and len(world.outbound.distinct) == 1
    assert "auto_acknowledged" in world.ticket_of(event).tags


def test_a_retry_for_salesforce_alone_queues_and_tags_nothing_again() -> None:
    # Given Salesforce down for the first try of a message: its ticket is made and its acknowledgement queued
    world = AckWorld()
    event = at_now("meta-whatsapp-text")
    world.crm.failures.add("record_activity", CrmUnavailableError("503"))
    with pytest.raises(RetryLaterError):
        world.handle(event, attempt=1)
    tag_calls = world.desk.calls["add_tags"]
    # When the retry records the Salesforce activity
    world.process = world.fresh_process()
    world.handle(event, attempt=2)
    # Then the acknowledgement was queued once and the ticket not tagged again
    assert len(world.outbound.jobs) == 1
    assert world.desk.calls["add_tags"] == tag_calls
    assert len(world.crm.activities) == 1


def test_a_crash_between_the_claim_and_the_queue_is_recovered_by_the_retry() -> None:
    # Given a container that dies while queuing the job (after the window was claimed)
    world = AckWorld()
    event = at_now("meta-whatsapp-text")
    crashing = CrashingJobs(world.outbound)
    world.outbound = crashing
    world.process = world.fresh_process()
    with pytest.raises(CrashError):
        world.handle(event)
    # When SQS delivers the message again once its visibility timeout is over (its lease has expired by then)
    world.now = NOW + timedelta(minutes=6)
    world.process = world.fresh_process()
    outcome = world.handle(event, delivery="sqs-again")
    # Then the job is queued, under the id the first try would have used
    [job] = crashing.inner.jobs
    assert job.job_id == policy.job_id(event.conversation_key, event)
    assert "acknowledgement_queued" in outcome.actions


class CrashingJobs(CollectedJobs):
    """Dies on the first enqueue, then queues into `inner`."""

    def __init__(self, inner: CollectedJobs) -> None:
        super().__init__()
        self.inner, self.crashed = inner, False

    def enqueue(self, job: OutboundJob) -> None:
        if not self.crashed:
            self.crashed = True
            raise CrashError
        self.inner.enqueue(job)


def test_two_messages_of_one_conversation_handled_at_once_queue_one_job() -> None:
    # Given a conversation whose ticket exists and whose last automatic message is 25 hours old
    world = AckWorld()
    first = at_now("meta-whatsapp-text")
    world.handle(first)
    world.now = NOW + timedelta(hours=25)
    messages = [said(first, number, f"mensaje {number}", minutes=25 * 60 + number) for number in (1, 2)]
    # When two new messages are handled at the same moment by two workers
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def work(message: SocialEvent) -> None:
        process = world.fresh_process()
        barrier.wait()
        outcomes.append(process.handle(message, delivery_id=f"sqs-{message.event_id}"))

    threads = [threading.Thread(target=work, args=(message,)) for message in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then both are on the ticket, and exactly one more job was queued for the new window
    assert len(outcomes) == 2
    assert len(world.outbound.jobs) == 2
    assert sorted("acknowledgement_queued" in outcome.actions for outcome in outcomes) == [False, True]


def test_out_of_hours_the_closed_template_names_the_next_opening() -> None:
    # Given Sunday 22 November 2026, 11:00 in Berlin: the shipped calendar has no Sunday hours
    world = AckWorld()
    world.now = SUNDAY
    event = at_now("x-dm", created_at=SUNDAY, text=VOUCHER)
    world.handle(event)
    # Then the out-of-hours acknowledgement says when a person will answer: Monday 08:00 Berlin time
    [job] = world.outbound.jobs
    assert "We are closed right now" in job.text
    assert "when we open (2026-11-23 08:00 CET)" in job.text


def test_our_own_acknowledgement_coming_back_creates_nothing_and_acknowledges_nothing() -> None:
    # Given a customer's X DM acknowledged, and outbound's record of that send (the DM id X returned)
    world = AckWorld()
    customer = at_now("x-dm")
    world.handle(customer)
    ticket = world.ticket_of(customer)
    comments_before = len(ticket.comments)
    echo = at_now("x-dm-brand", created_at=NOW + timedelta(seconds=3))
    [job] = world.outbound.jobs
    world.sent.sent[("x", echo.message_id)] = job.job_id
    # When X delivers our own DM back (dm.sent)
    outcome = world.handle(echo)
    # Then no note is added, no job is queued, and the customer still waits for a person
    assert "own_message" in outcome.actions
    assert len(world.ticket_of(customer).comments) == comments_before
    assert len(world.outbound.jobs) == 1
    conversation = world.store.conversation(customer.conversation_key)
    assert conversation is not None and conversation.activity.waiting_since == NOW
    assert conversation.activity.last_brand_at is None


def test_a_brand_reply_we_did_not_send_is_still_noted_and_answers_the_customer() -> None:
    # Given the same conversation, and a DM a person typed in X itself (not in our record of sends)
    world = AckWorld()
    customer = at_now("x-dm")
    world.handle(customer)
    human = at_now("x-dm-brand", created_at=NOW + timedelta(minutes=3))
    # When it arrives
    outcome = world.handle(human)
    # Then it is noted as before, and the customer is answered
    assert "note_direct_message" in outcome.actions
    conversation = world.store.conversation(customer.conversation_key)
    assert conversation is not None and conversation.activity.waiting_since is None


def test_without_an_outbound_queue_nothing_is_decided_and_the_ticket_is_not_tagged() -> None:
    # Given process built as before (no outbound queue)
    world = World(SHIPPED)
    event = at_now("x-dm")
    outcome = world.handle(event)
    # Then the message makes its ticket as always, with no automatic-message tag or action
    assert "auto_acknowledged" not in world.ticket_of(event).tags
    assert "acknowledgement_queued" not in outcome.actions


# --- the policy alone ----------------------------------------------------------------------------


def shipped_acknowledgement() -> AcknowledgementRules:
    assert SHIPPED.acknowledgement is not None
    return SHIPPED.acknowledgement


ACK = shipped_acknowledgement()
CALENDAR = policy.calendar_of(SHIPPED)


def classified(language: str | None, *, reply_language: str = "en", intents: tuple[str, ...] = ()) -> Classification:
    return Classification(language=language, reply_language=reply_language, sentiment="neutral", sentiment_score=0.0, priority=None, intents=intents)


def decide(
    event: SocialEvent, classification: Classification | None = None, rules: AcknowledgementRules = ACK, *, now: datetime = NOW
) -> policy.Decision:
    return policy.decide(event, classification, rules, calendar=CALENDAR, ticket_id=4014, now=now)


def test_a_language_without_a_template_falls_back_to_the_fallback_language() -> None:
    # Given templates in English and Spanish only
    rules = ACK.model_copy(update={"templates": {"en": ACK.templates["en"], "es": ACK.templates["es"]}, "disclosure": {"en": "Automated reply"}})
    # When a message's reply language is Korean
    decision = decide(at_now("x-dm"), classified("ko", reply_language="ko"), rules)
    # Then the English template is used, in English
    assert decision.language == "en"
    assert decision.text.startswith("Hi Dana R, thanks for reaching out.")
    assert decision.text.endswith("\nAutomated reply")


def test_an_x_post_not_mentioning_the_brand_gets_no_public_reply() -> None:
    mention = at_now("x-mention")
    # When a post mentions @AcmeHelp, a public reply is chosen; when it does not (or only @AcmeHelpDesk), none
    assert decide(mention).channel is Channel.PUBLIC_REPLY
    for text in ("my order #4411 never arrived", "@AcmeHelpDesk my order never arrived", "mail acme@AcmeHelp.example"):
        decision = decide(msgspec.structs.replace(mention, text=text))
        assert decision.kind is None and "mentions the brand" in decision.reason


def test_an_x_public_reply_carries_a_dm_fallback_only_when_the_rules_allow_it() -> None:
    mention = at_now("x-mention")
    # Given the shipped rules (no fallback), and rules with x_dm_fallback
    with_fallback = ACK.model_copy(update={"x_dm_fallback": True})
    # Then only the latter's public reply may go as a DM should X refuse it as unsummoned
    assert decide(mention).fallback_channel is None
    decision = decide(mention, rules=with_fallback)
    assert decision.fallback_channel is Channel.DIRECT_MESSAGE
    assert policy.job(mention, decision, conversation_key="k", ticket_id=4014, now=NOW).fallback_channel is Channel.DIRECT_MESSAGE
    # And a DM has no fallback
    assert decide(at_now("x-dm"), rules=with_fallback).fallback_channel is None


def test_a_public_reply_on_x_never_carries_a_url_but_a_dm_may() -> None:
    # Given an answer with a link
    rules = ACK.model_copy(update={"answers": {"refund_policy": {"en": "Refunds within 30 days: https://acme.example/refunds (details)."}}})
    refund = classified("en", intents=("refund_policy",))
    # When it answers a mention publicly, and a DM
    public = decide(at_now("x-mention"), refund, rules)
    private = decide(at_now("x-dm"), refund, rules)
    # Then the public reply has no URL; the DM keeps it
    assert public.channel is Channel.PUBLIC_REPLY and "http" not in public.text and public.text.startswith("Refunds within 30 days: (details).")
    assert "https://acme.example/refunds" in private.text


def test_whatsapp_outside_the_24_hour_window_gets_nothing_or_the_configured_template() -> None:
    old = at_now("meta-whatsapp-text", created_at=NOW - timedelta(hours=24, seconds=1))
    # Then without a template nothing is sent
    assert decide(old).kind is None
    # And with one, the job names it
    decision = decide(old, rules=ACK.model_copy(update={"whatsapp_template": "ticket_received"}))
    assert decision.kind is JobKind.ACKNOWLEDGEMENT and decision.template == "ticket_received"
    job = policy.job(old, decision, conversation_key=old.conversation_key, ticket_id=4014, now=NOW)
    assert job.template == "ticket_received"
    # And inside the window free text goes, with no template
    assert decide(msgspec.structs.replace(old, created_at=NOW - timedelta(hours=23))).template is None


def test_messenger_answers_inside_24_hours_only() -> None:
    message = at_now("meta-messenger-message")
    assert decide(message).channel is Channel.DIRECT_MESSAGE
    assert decide(msgspec.structs.replace(message, created_at=NOW - timedelta(hours=25))).kind is None


def test_a_messenger_message_from_a_click_to_messenger_ad_is_answered_for_up_to_7_days() -> None:
    # Given a customer who wrote from an ad two days ago (the window "may last up to 7 days": Messenger policy
    # page updated 28 Sep 2026)
    from_ad = at_now("meta-messenger-message", created_at=NOW - timedelta(days=2), from_ad=True)
    # Then the acknowledgement still goes, as a RESPONSE inside the longer window
    assert decide(from_ad).channel is Channel.DIRECT_MESSAGE
    # But not after 7 days, nor two days after a message that did not come from an ad
    week_old = msgspec.structs.replace(from_ad, created_at=NOW - timedelta(days=7))
    assert decide(week_old).reason == "messenger: the 7-day (ad) messaging window has closed"
    assert decide(msgspec.structs.replace(from_ad, from_ad=False)).reason == "messenger: the 24-hour messaging window has closed"


def test_facebook_private_replies_within_7_days_and_instagram_public_replies_to_top_level_comments_only() -> None:
    private = ACK.model_copy(update={"channels": {**ACK.channels, "facebook": {"comment": "private_reply"}}})
    comment = at_now("meta-fb-comment")
    assert decide(comment, rules=private).channel is Channel.PRIVATE_REPLY
    assert decide(msgspec.structs.replace(comment, created_at=NOW - timedelta(days=7, seconds=1)), rules=private).kind is None
    top_level = at_now("meta-instagram-comment")
    assert decide(top_level).channel is Channel.PUBLIC_REPLY
    reply = msgspec.structs.replace(top_level, in_reply_to="17900000000000001")  # a reply to another comment
    assert "top-level" in decide(reply).reason


def test_the_brands_own_messages_and_idless_mentions_are_never_answered() -> None:
    assert decide(at_now("x-dm-brand")).kind is None
    assert decide(at_now("meta-instagram-mention")).kind is None
    assert decide(at_now("x-dm"), rules=ACK.model_copy(update={"enabled": False})).kind is None


def test_the_rules_file_refuses_an_unknown_calendar_or_an_answer_no_intent_selects() -> None:
    document = SHIPPED.model_dump(mode="json", exclude_none=True)
    # Given the shipped rules naming a calendar that does not exist
    unknown_calendar = {**document, "acknowledgement": {**document["acknowledgement"], "calendar": "weekends"}}
    with pytest.raises(ValueError, match="calendar 'weekends' is not one of"):
        RulesConfig.model_validate(unknown_calendar)
    # And an answer for an intent classification does not define
    answers = {**document["acknowledgement"]["answers"], "warranty": {"en": "Two years."}}
    unknown_intent = {**document, "acknowledgement": {**document["acknowledgement"], "answers": answers}}
    with pytest.raises(ValueError, match=r"warranty: not a classification\.intents name"):
        RulesConfig.model_validate(unknown_intent)
    # Then the shipped rules themselves pass
    assert RulesConfig.model_validate(document).acknowledgement == SHIPPED.acknowledgement


def test_an_x_post_quoting_the_brands_post_may_be_answered_in_public_without_a_mention() -> None:
    # Given X Activity deliveries: a customer's post quoting the brand's post (post.quote.create), and a plain post
    quoted = x_activity.activity("post.quote.create", {"id": "1950000000000000101", "text": "this is why I left", "created_at": x_activity.at(30)})
    plain = x_activity.activity("post.create", {"id": "1950000000000000102", "text": "this is why I left", "created_at": x_activity.at(30)})
    # Then the quote carries the fact, and only it is answered in public
    assert quoted.quotes_brand and not plain.quotes_brand
    assert decide(quoted, now=x_activity.RECEIVED).channel is Channel.PUBLIC_REPLY
    assert decide(plain, now=x_activity.RECEIVED).kind is None


def test_an_account_activity_tweet_quoting_the_brand_says_so() -> None:
    # Given an Account Activity tweet whose quoted_status is the brand's, and one quoting someone else
    def tweet(quoted_author: str) -> SocialEvent:
        body = {
            "for_user_id": x_activity.BRAND,
            "tweet_create_events": [
                {
                    "id_str": "1950000000000000201",
                    "text": "look at this",
                    "timestamp_ms": "1795341600000",
                    "user": {"id_str": x_activity.CUSTOMER, "screen_name": "dana_r", "name": "Dana R"},
                    "quoted_status": {"id_str": "1950000000000000001", "user": {"id_str": quoted_author}},
                }
            ],
        }
        [event] = XWebhook().normalise(body, x_activity.RECEIVED).events
        return event

    # Then only the first quotes the brand
    assert tweet(x_activity.BRAND).quotes_brand
    assert not tweet("3333333333333333333").quotes_brand


def test_an_x_public_reply_longer_than_a_post_as_x_counts_it_is_not_sent() -> None:
    # Given a Japanese answer of 150 characters: 300 as X counts them (CJK twice)
    rules = ACK.model_copy(update={"answers": {"refund_policy": {"ja": "返" * 150}}})
    refund = classified("ja", reply_language="ja", intents=("refund_policy",))
    # Then it is not posted in public (X would refuse it), while a DM carries it
    assert "longer than a post" in decide(at_now("x-mention"), refund, rules).reason
    assert decide(at_now("x-dm"), refund, rules).kind is JobKind.SELF_SERVICE
    # And the shipped texts fit: every language's acknowledgement and answer, with its disclosure, as a public reply
    for language in ("en", "ko", "ja", "es", "fr", "de", "pt"):
        for intents in ((), ("refund_policy",), ("opening_hours",)):
            decision = decide(at_now("x-mention"), classified(language, reply_language=language, intents=intents))
            assert decision.kind is not None, (language, intents, decision.reason)
    assert policy.x_weighted_length("abc 한국") == 8


def test_a_post_by_another_of_the_brands_handles_opens_no_ticket_and_gets_no_acknowledgement() -> None:
    """Given rules naming the brand's handles @AcmeHelp (served) and @Acme
    When @Acme posts a mention of @AcmeHelp
    Then process treats it as the brand's own post: no ticket, nothing queued."""
    world = AckWorld(with_ack(x_handles=("AcmeHelp", "Acme")))
    mention = at_now("x-mention")
    assert mention.author is not None
    own = msgspec.structs.replace(mention, author=msgspec.structs.replace(mention.author, id="900000000000000002", handle="Acme"))
    world.handle(own)
    assert world.desk.tickets == {}
    assert world.outbound.jobs == []


def test_a_customer_commenting_twice_on_a_post_is_acknowledged_once_however_many_others_comment() -> None:
    """Given customer A's comment on a Facebook post, acknowledged, and customer B's on the same post
    When A comments again on the same post within the window (and the first is delivered twice)
    Then A and B got one acknowledgement each: the window is per customer in a shared comment thread."""
    world = AckWorld()
    first = at_now("meta-fb-comment")
    assert first.author is not None
    other = msgspec.structs.replace(first, event_id="c-other", message_id="c-other", author=msgspec.structs.replace(first.author, id="99999"))
    again = msgspec.structs.replace(first, event_id="c-again", message_id="c-again", created_at=NOW + timedelta(minutes=3))
    for event in (first, first, other, again):
        world.handle(event)
    recipients = sorted(job.recipient_id for job in world.outbound.distinct.values())
    assert recipients == sorted([first.author.id, "99999"])


def test_a_whatsapp_template_is_asked_for_in_the_code_the_rules_map_the_reply_language_to() -> None:
    """Given a WhatsApp template approved in pt_PT (whatsapp_template_languages pt = "pt_PT") and in bare es
    When Portuguese and Spanish customers are answered outside the 24-hour window
    Then the Portuguese job names pt_PT and the Spanish one es: WhatsApp has no template language "pt"."""
    rules = ACK.model_copy(update={"whatsapp_template": "ticket_received", "whatsapp_template_languages": {"pt": "pt_PT"}})
    old = at_now("meta-whatsapp-text", created_at=NOW - timedelta(hours=25))
    portuguese = decide(old, classified("pt", reply_language="pt"), rules)
    spanish = decide(old, classified("es", reply_language="es"), rules)
    assert (portuguese.template_language, spanish.template_language) == ("pt_PT", "es")
    assert policy.job(old, portuguese, conversation_key=old.conversation_key, ticket_id=4014, now=NOW).template_language == "pt_PT"
