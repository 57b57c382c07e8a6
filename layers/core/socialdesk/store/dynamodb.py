"""The conversation store on one DynamoDB table (infra/template.yaml: StateTable).

Items, all keyed `pk` + `sk`:

| pk | sk | holds | kept |
|---|---|---|---|
| `EVENT#<dedupe key>` | `EVENT` | processing lease, per-side progress | 30 days after the last attempt |
| `CONV#<conversation key>` | `CONV` | ticket, opening claim, response-time facts, response clock (`sla_*`) | 400 days after the last message |
| `DUE#<shard>` | `<due time>#<conversation key>` | keys only: the response clock's due index (store/clock.py) | until checked or moved |
| `CONV#<conversation key>` | `T#C#<time>#<event key>`, `T#B#…` | one customer (C) or brand (B) message's time | 45 days |
| `MSG#<platform>:<account>:<message id>` | `MSG` | a post or comment's conversation (X broadcasts: `x:<acct>:broadcasts`) | 400 days after last use |
| `CUST#<platform>:<user id>` | `CUST` | Zendesk user id, Salesforce contact and persona ids | 400 days after its last use |
| `ALIAS#<conversation or customer key>` | `ALIAS` | the key its events go under, who claimed it (WhatsApp) | 400 days after its last use |
| `PARK#<anchor>` | `<event key>` | an event waiting for a message (`MSG#…`) or a ticket (`CONV#…`) | 30 days |
| `AUTO#<conversation key>` | `AUTO` | who claimed the conversation's automatic message, and when | the window, plus a day |
| `PAUSE` | `PAUSE` | until when each backend is paused (429 Retry-After, spent allocation) | 1 day |
| `SEND#<job id>` | `SEND` | an outbound job's one send: claimed, released, sent, failed or unknown; the platform's message id | 30 days |
| `SENT#<platform>:<message id>` | `SENT` | a message we sent (its job and conversation), to recognise its echo and statuses | 45 days |

Parking is race-free because both sides meet on the anchor item: the parker writes its
`PARK` item, then counts itself on the anchor only while the anchor is not ready
(conditional); whoever makes the anchor ready reads the count in the same write and
releases what is parked. Every later reader that sees a ready anchor with a count
releases again (crash recovery); releasing twice only queues a duplicate.

The conversation item holds five response-time facts, not its message times, so it stays the
same size and costs the same to read and write at message 2,000 as at message 1. Each message's
time is an item of its own under the conversation's partition; a message that arrives out of
order asks one Query (`Limit 1`) of them, for the fact it changes (ConversationActivity says which).

Every write that guards a side effect is conditional; nothing here retries without bound.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.model import decode_event, encode_event
from socialdesk.model.conversation import Conversation, ConversationActivity, Customer, EventProgress, ReplyTarget
from socialdesk.store.port import SENDING_WINDOW, Alias, Claim, EventBusyError, SendStatus, message_anchor, sending_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from mypy_boto3_dynamodb import DynamoDBClient

    from socialdesk.model import SocialEvent
    from socialdesk.ports.desk_events import EventClaim

# WhatsApp redelivers for 7 days and X replays 5 (developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/activity-retries);
# our own queues may hold an event for
# 7 days of waiting plus 14 in the dead-letter queue: an event record outlives all of them.
EVENT_RETENTION = timedelta(days=30)
PAUSE_RETENTION = timedelta(days=1)
RECORD_RETENTION = timedelta(days=400)
# A message's time matters only to an event of the same conversation that arrives out of order, and an event reaches
# process within 29 days of being made (ingest refuses it after 8, it waits at most 7 and stays 14 on the dead-letter
# queue): the times are kept that long and more, not for the conversation's 400 days. An event later still (moved back
# from the dead-letter queue twice) could only misdate a response-time fact; its message is handled all the same.
MESSAGE_TIME_RETENTION = timedelta(days=45)
# What we sent is looked up by its echo (seconds to minutes later) and its delivery statuses, which come within the days
# a platform keeps trying to deliver (WhatsApp: up to 30 days, the Cloud API's message TTL).
SENT_RETENTION = MESSAGE_TIME_RETENTION
# A record in use (an alias, a customer, a public post) is written to last IN_USE_RETENTION and extended once fewer than
# RECORD_RETENTION days are left: it lives at least 400 days after its last use, for at most one write a month.
REFRESH_AFTER = timedelta(days=30)
IN_USE_RETENTION = RECORD_RETENTION + REFRESH_AFTER
ACTIVITY_WRITE_ATTEMPTS = 3
ACTIVITY_FIELDS = ("first_customer_at", "last_customer_at", "last_brand_at", "first_response_at", "waiting_since")
# Above every character an event key holds (the highest code point): bounds a Query to one time's items or beyond them.
_AFTER = "\U0010ffff"
# A Zendesk event is redelivered for hours at most (it retries a failed delivery a few times): kept 30 days.
DESK_EVENT_RETENTION = timedelta(days=30)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreUnavailableError(Exception):
    """DynamoDB could not be read or written (throttling, outage): retry later."""


class DynamoDbConversationStore:
    def __init__(self, table_name: str, client: Callable[[], DynamoDBClient], *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._table = table_name
        self._client = client
        self._clock = clock

    # --- events ---------------------------------------------------------------------------

    def begin_event(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> EventProgress:
        """A redelivery of a completed event costs one strongly consistent GetItem and writes nothing.

        Any other event's record is read the same way, then leased with a conditional UpdateItem: the read only decides
        whether to ask, the condition still decides who holds the lease (a duplicate that completes or takes the lease
        between the two is caught by it). A lease the read shows held by another live delivery is answered at once.
        """
        item = self._get(_key("EVENT", event_key)) or {}
        if not item.get("completed"):
            held_until = int(item.get("lease_until", 0))
            if held_until >= _epoch(now) and item.get("lease_owner") != owner:
                raise EventBusyError(max(1, held_until - _epoch(now)))
            item = self._lease(event_key, owner=owner, now=now, lease_seconds=lease_seconds)
        return _progress(item).resumed(now=now, crashed=int(item.get("lease_until", 0)) != 0)

    def _lease(self, event_key: str, *, owner: str, now: datetime, lease_seconds: int) -> dict[str, Any]:
        """Take the event's lease unless another live delivery holds it; the record as it was before."""
        try:
            return self._update(
                _key("EVENT", event_key),
                "SET lease_owner = :owner, lease_until = :until, expires_at = :expires, first_tried_at = if_not_exists(first_tried_at, :at)",
                "attribute_not_exists(pk) OR completed = :true OR lease_until < :now OR lease_owner = :owner",
                {
                    ":owner": owner,
                    ":until": _epoch(now) + lease_seconds,
                    ":now": _epoch(now),
                    ":true": True,
                    ":expires": _epoch(now + EVENT_RETENTION),
                    ":at": now.isoformat(),
                },
                return_old=True,
            )
        except _ConditionFailedError as failed:
            raise EventBusyError(max(1, int(failed.item.get("lease_until", 0)) - _epoch(now))) from None

    def save_progress(self, event_key: str, progress: EventProgress, *, now: datetime, release: bool) -> None:
        values: dict[str, Any] = {
            ":zendesk": progress.zendesk_done,
            ":salesforce": progress.salesforce_done,
            ":attempted": progress.salesforce_attempted,
            ":uncertain": progress.comments_uncertain,
            ":completed": progress.completed,
            ":expires": _epoch(now + EVENT_RETENTION),
        }
        update = (
            "SET zendesk_done = :zendesk, salesforce_done = :salesforce, salesforce_attempted = :attempted, comments_uncertain = :uncertain,"
            " completed = :completed, expires_at = :expires"
        )
        if progress.edit_as_message:
            update += ", edit_as_message = :as_message"
            values[":as_message"] = True
        if progress.automatic_done:
            update += ", automatic_done = :automatic"
            values[":automatic"] = True
        for name, value in (
            ("ticket_id", progress.ticket_id),
            ("salesforce_ref", progress.salesforce_ref),
            ("classification", progress.classification),
        ):
            if value is not None:
                update += f", {name} = :{name}"
                values[f":{name}"] = value
        if release:
            update += ", lease_until = :released"
            values[":released"] = 0
        self._update(_key("EVENT", event_key), update, None, values)

    # --- conversations --------------------------------------------------------------------

    def conversation(self, key: str) -> Conversation | None:
        item = self._get(_key("CONV", key))
        return _conversation(item) if item else None

    def claim_ticket(self, key: str, *, owner: str, expected_ticket_id: int | None, now: datetime, stale_after: int) -> Claim:
        ticket_condition = "attribute_not_exists(ticket_id)" if expected_ticket_id is None else "ticket_id = :expected"
        values: dict[str, Any] = {":owner": owner, ":now": _epoch(now), ":stale": _epoch(now) - stale_after}
        if expected_ticket_id is not None:
            values[":expected"] = expected_ticket_id
        try:
            # The first claimant is the creator; a takeover keeps the earlier one until it finds no ticket of theirs.
            old = self._update(
                _key("CONV", key),
                "SET claim_owner = :owner, claim_at = :now, ticket_creator = if_not_exists(ticket_creator, :owner),"
                " creator_since = if_not_exists(creator_since, :now)",
                f"{ticket_condition} AND (attribute_not_exists(claim_owner) OR claim_owner = :owner OR claim_at < :stale)",
                values,
                return_old=True,
            )
        except _ConditionFailedError as failed:
            current = failed.item.get("ticket_id")
            if current is not None and int(current) != expected_ticket_id:
                return Claim(won=False, ticket_id=int(current))
            return Claim(won=False, retry_after=max(1, int(failed.item.get("claim_at", 0)) + stale_after - _epoch(now)))
        since = old.get("creator_since")
        return Claim(
            won=True, creator=old.get("ticket_creator"), creator_since=datetime.fromtimestamp(int(since), tz=UTC) if since is not None else None
        )

    def mark_creator(self, key: str, *, owner: str, now: datetime) -> None:
        try:
            self._update(
                _key("CONV", key), "SET ticket_creator = :owner, creator_since = :now", "claim_owner = :owner", {":owner": owner, ":now": _epoch(now)}
            )
        except _ConditionFailedError:
            raise StoreUnavailableError(f"the ticket claim of {key} was taken over meanwhile") from None

    def set_ticket(self, key: str, *, ticket_id: int, opened_by: str, replaces: int | None) -> bool:
        update = "SET ticket_id = :ticket, opened_by = :opened_by"
        values: dict[str, Any] = {":ticket": ticket_id, ":opened_by": opened_by}
        if replaces is not None:
            update += ", previous_ticket_ids = list_append(if_not_exists(previous_ticket_ids, :empty), :replaced)"
            values.update({":empty": [], ":replaced": [replaces]})
        item = self._update(_key("CONV", key), update + " REMOVE claim_owner, claim_at, ticket_creator, creator_since", None, values)
        return bool(item.get("parked"))

    def record_activity(self, key: str, event: SocialEvent, *, customer_key: str | None) -> Conversation:
        """Keep the message's time, then read, apply, write back if nobody wrote in between (a few attempts, then give up loudly).

        The time is written first, so whoever updates the facts next can find it; writing it again (a redelivery) changes nothing.
        A customer message that becomes the latest is also kept as the conversation's reply target, in the same write.
        """
        return self._record_time(
            key, event.created_at, from_brand=event.from_brand, reference=event.dedupe_key, customer_key=customer_key, target=ReplyTarget.of(event)
        )

    def record_answer(self, conversation_key: str, *, at: datetime, reference: str, source: str) -> None:
        """`AnswerLog` (model/desk_event.py): a person's answer outside the platform's echoes (an agent reply the platform
        accepted) is a brand message time like any echo, keyed by `reference`, so recording it again changes nothing.
        `source` says where it came from, for whoever reads the table; the facts do not depend on it."""
        self._record_time(conversation_key, at, from_brand=True, reference=f"{source}:{reference}", customer_key=None, target=None)

    def withdraw_answer(self, conversation_key: str, *, reference: str) -> None:
        """The facts without the answer (`ConversationActivity.without_brand_message`, from the facts and the times still
        kept: one Query, rare, only for a reply that failed after it was accepted), then its time item deleted."""
        pk = f"CONV#{conversation_key}"
        times: dict[str, list[datetime]] = {"B": [], "C": []}
        withdrawn: tuple[str, datetime] | None = None
        for item in self._query(pk):
            if not str(item["sk"]).startswith("T#"):
                continue
            side, _, rest = str(item["sk"]).removeprefix("T#").partition("#")
            at, _, dedupe = rest.partition("#")
            if side == "B" and dedupe.partition(":")[2] == reference:  # record_answer's `<source>:<reference>`
                withdrawn = (str(item["sk"]), datetime.fromisoformat(at))
            else:
                times[side].append(datetime.fromisoformat(at))
        if withdrawn is None:
            return  # taken back already (a redelivered status), or never recorded
        # The facts first, the time item after: a try that dies between leaves the item, and its retry finds the facts
        # already without it (no write) and deletes it.
        for _ in range(ACTIVITY_WRITE_ATTEMPTS):
            conversation = self.conversation(conversation_key)
            if conversation is None:
                break
            activity = conversation.activity.without_brand_message(withdrawn[1], customer_times=times["C"], brand_times=times["B"])
            if conversation.activity == activity:
                break
            try:
                self._write_activity(conversation, activity, None)
            except _ConditionFailedError:
                continue
            break
        else:
            raise StoreUnavailableError(f"conversation {conversation_key} kept changing under {ACTIVITY_WRITE_ATTEMPTS} attempts")
        self._delete({"pk": {"S": pk}, "sk": {"S": withdrawn[0]}})

    def _record_time(
        self, key: str, at: datetime, *, from_brand: bool, reference: str, customer_key: str | None, target: ReplyTarget | None
    ) -> Conversation:
        side = "B" if from_brand else "C"
        self._put({"pk": f"CONV#{key}", "sk": f"T#{side}#{_sortable(at)}#{reference}", "expires_at": _epoch(self._clock() + MESSAGE_TIME_RETENTION)})
        times = _StoredTimes(self, key)
        for _ in range(ACTIVITY_WRITE_ATTEMPTS):
            conversation = self.conversation(key) or Conversation(key=key)
            activity = conversation.activity.with_message(at, from_brand=from_brand, times=times)
            if activity == conversation.activity and (customer_key is None or conversation.customer_key):
                return conversation
            latest = target if target is not None and activity.last_customer_at == at != conversation.activity.last_customer_at else None
            try:
                self._write_activity(conversation, activity, customer_key, latest)
            except _ConditionFailedError:
                continue
            conversation.activity, conversation.version = activity, conversation.version + 1
            conversation.customer_key = conversation.customer_key or customer_key
            conversation.reply_target = latest or conversation.reply_target
            return conversation
        raise StoreUnavailableError(f"conversation {key} kept changing under {ACTIVITY_WRITE_ATTEMPTS} attempts")

    def _write_activity(
        self, conversation: Conversation, activity: ConversationActivity, customer_key: str | None, target: ReplyTarget | None = None
    ) -> None:
        sets = ["version = :next", "expires_at = :expires"]
        removes = []
        values: dict[str, Any] = {":next": conversation.version + 1, ":expires": _epoch(self._clock() + RECORD_RETENTION)}
        for name in ACTIVITY_FIELDS:
            value = getattr(activity, name)
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value.isoformat()
        if customer_key is not None:
            sets.append("customer_key = if_not_exists(customer_key, :customer)")
            values[":customer"] = customer_key
        if target is not None:
            sets.append("reply_target = :target")
            values[":target"] = msgspec.json.encode(target).decode()
        # A conversation item may exist before its first message (events parked on it): version 0 has no version attribute.
        condition = "attribute_not_exists(version)" if conversation.version == 0 else "version = :version"
        if conversation.version:
            values[":version"] = conversation.version
        self._update(
            _key("CONV", conversation.key), "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""), condition, values
        )

    # --- messages and customers -----------------------------------------------------------

    def conversation_of_message(self, event: SocialEvent, message_id: str) -> str | None:
        key = _anchor_key(message_anchor(event.platform, event.account_id, message_id))
        item = self._get(key)
        if item and "conversation_key" in item:
            self._in_use(key, item)  # a thread replied to keeps its post as long as its conversation
        return item.get("conversation_key") if item else None  # an item with events parked on it may have none yet

    def remember_message(self, event: SocialEvent, conversation_key: str, *, message_id: str | None = None) -> bool:
        item = self._update(
            _anchor_key(message_anchor(event.platform, event.account_id, message_id or event.message_id)),
            "SET conversation_key = :conversation, expires_at = :expires",
            None,
            {":conversation": conversation_key, ":expires": _epoch(self._clock() + IN_USE_RETENTION)},
        )
        return bool(item.get("parked"))

    # --- events waiting for a message or a ticket -----------------------------------------

    def park(self, anchor: str, event: SocialEvent, *, now: datetime, replacing: int | None = None) -> bool:
        expires = _epoch(now + EVENT_RETENTION)
        self._put({"pk": f"PARK#{anchor}", "sk": event.dedupe_key, "event": encode_event(event).decode(), "expires_at": expires})
        values: dict[str, Any] = {":true": True, ":expires": expires}
        if anchor.startswith("MSG#"):
            not_ready = "attribute_not_exists(conversation_key)"
        elif replacing is not None:
            not_ready, values[":replacing"] = "ticket_id = :replacing", replacing
        else:
            not_ready = "attribute_not_exists(ticket_id)"
        flag = "SET parked = :true, expires_at = if_not_exists(expires_at, :expires)"
        try:
            self._update(_anchor_key(anchor), flag, not_ready, values)
        except _ConditionFailedError:
            self._delete(_park_key(anchor, event))
            return False
        return True

    def parked(self, anchor: str) -> list[SocialEvent]:
        return [decode_event(item["event"]) for item in self._query(f"PARK#{anchor}")]

    def unpark(self, anchor: str, events: Sequence[SocialEvent]) -> None:
        for event in events:
            self._delete(_park_key(anchor, event))
        # Cleared last: a crash before this leaves the flag, and the next reader releases again.
        self._update(_anchor_key(anchor), "REMOVE parked", None, {})

    # --- backend pauses -------------------------------------------------------------------

    def pause(self, backend: str, *, until: datetime) -> None:
        with suppress(_ConditionFailedError):  # a longer pause is already in force
            self._update(
                _key("PAUSE", "ALL"),
                f"SET {backend}_until = :until, expires_at = :expires",
                f"attribute_not_exists({backend}_until) OR {backend}_until < :until",
                {":until": _epoch(until), ":expires": _epoch(until + PAUSE_RETENTION)},
            )

    def pauses(self) -> dict[str, datetime]:
        """Read eventually consistent: a pause a second old unseen costs one call that meets the 429 again."""
        item = self._get(_key("PAUSE", "ALL"), consistent=False) or {}
        return {name.removesuffix("_until"): datetime.fromtimestamp(int(value), tz=UTC) for name, value in item.items() if name.endswith("_until")}

    # --- automatic messages: one per conversation per window -----------------------------------

    def claim_automatic(self, conversation_key: str, *, owner: str, now: datetime, window: timedelta) -> bool:
        """A conditional UpdateItem: the claim is taken when there is none, or the last one is `window` old.

        Read first: most messages of a conversation come inside the window of its first, and an eventually consistent
        read answers them for half an RRU where a refused conditional write costs 1 WRU, ten times the price. A stale
        read is safe: a claim is replaced only once its window is over, so a claim seen inside its window is still held,
        and anything else asks the write, which decides between two claimants."""
        held = self._get(_key("AUTO", conversation_key), consistent=False)  # a stale read only decides whether to ask
        if held is not None and int(held.get("auto_at", 0)) > _epoch(now - window):
            return held.get("auto_owner") == owner  # a retry of the claimant keeps its claim (and its time)
        try:
            self._update(
                _key("AUTO", conversation_key),
                "SET auto_owner = :owner, auto_at = :now, expires_at = :expires",
                "attribute_not_exists(auto_owner) OR auto_at <= :window_start",
                {":owner": owner, ":now": _epoch(now), ":window_start": _epoch(now - window), ":expires": _epoch(now + window + PAUSE_RETENTION)},
            )
        except _ConditionFailedError as failed:
            return failed.item.get("auto_owner") == owner  # a retry of the claimant keeps its claim (and its time)
        return True

    # --- aliases: one WhatsApp chat or customer under two keys --------------------------------

    def alias(self, key: str) -> Alias | None:
        """The binding of `key`, kept as long as its chat is used (`_in_use`)."""
        item = self._in_use(_key("ALIAS", key), self._get(_key("ALIAS", key)))
        return Alias(target=item["alias_target"], owner=item.get("alias_owner")) if item else None

    def _in_use(self, key: Mapping[str, Any], item: dict[str, Any] | None) -> dict[str, Any] | None:
        """A record read because it is in use (an alias, a customer, a post a reply names) lives at least RECORD_RETENTION
        after its last use, not its last write: one with less left is extended to IN_USE_RETENTION, so a month of use
        costs one write."""
        if item and int(item.get("expires_at", 0)) < _epoch(self._clock() + RECORD_RETENTION):
            with suppress(_ConditionFailedError):
                self._update(key, "SET expires_at = :expires", "attribute_exists(pk)", {":expires": _epoch(self._clock() + IN_USE_RETENTION)})
        return item

    def bind_alias(self, key: str, *, target: str, owner: str | None = None) -> Alias:
        values: dict[str, Any] = {":target": target, ":expires": _epoch(self._clock() + IN_USE_RETENTION)}
        update, condition = "SET alias_target = :target, expires_at = :expires", "attribute_not_exists(alias_target)"
        if owner is not None:
            update += ", alias_owner = :owner"
            condition += " OR attribute_not_exists(alias_owner) OR alias_owner = :owner"
            values[":owner"] = owner
        try:
            self._update(_key("ALIAS", key), update, condition, values)
        except _ConditionFailedError as failed:
            return Alias(target=failed.item["alias_target"], owner=failed.item.get("alias_owner"))
        return Alias(target=target, owner=owner)

    def customer(self, key: str) -> Customer | None:
        """Read eventually consistent: ids written a moment ago by another message, unseen, are found again by the same
        idempotent calls that found them (Zendesk's create_or_update and Salesforce's upsert, both by external id)."""
        item = self._in_use(_key("CUST", key), self._get(_key("CUST", key), consistent=False))
        if not item:
            return None
        return Customer(
            key=key,
            desk_user_id=int(item["desk_user_id"]) if "desk_user_id" in item else None,
            crm_contact_id=item.get("crm_contact_id"),
            crm_persona_id=item.get("crm_persona_id"),
        )

    def save_customer(self, customer: Customer) -> None:
        """Write the ids we know, leaving any others a concurrent writer stored."""
        fields = {"desk_user_id": customer.desk_user_id, "crm_contact_id": customer.crm_contact_id, "crm_persona_id": customer.crm_persona_id}
        known = {name: value for name, value in fields.items() if value is not None}
        update = "SET " + ", ".join([f"{name} = :{name}" for name in known] + ["expires_at = :expires"])
        values = {f":{name}": value for name, value in known.items()} | {":expires": _epoch(self._clock() + IN_USE_RETENTION)}
        self._update(_key("CUST", customer.key), update, None, values)

    # --- outbound sends: at most once each, and the messages we sent ----------------------------

    def claim_send(self, job_id: str, now: datetime) -> bool:
        """One conditional UpdateItem: only a job never claimed, or given back (released) before anything left, is claimed."""
        try:
            self._update(
                _key("SEND", job_id),
                "SET send_state = :claimed, claimed_at = :now, expires_at = :expires",
                "attribute_not_exists(send_state) OR send_state = :released",
                {":claimed": "claimed", ":released": "released", ":now": _epoch(now), ":expires": _epoch(now + EVENT_RETENTION)},
            )
        except _ConditionFailedError:
            return False
        return True

    def release_send(self, job_id: str, now: datetime) -> None:
        with suppress(_ConditionFailedError):  # finished meanwhile (or never claimed): nothing to give back
            self._update(
                _key("SEND", job_id),
                "SET send_state = :released, released_at = :now",
                "send_state = :claimed",
                {":released": "released", ":claimed": "claimed", ":now": _epoch(now)},
            )

    def count_wait(self, job_id: str, now: datetime, *, tell_after: int) -> bool:
        """Two UpdateItems: the count (any container's), then the one conditional mark that the agent was told."""
        counted = self._update(
            _key("SEND", job_id),
            "SET waits = if_not_exists(waits, :zero) + :one, expires_at = if_not_exists(expires_at, :expires)",
            None,
            {":zero": 0, ":one": 1, ":expires": _epoch(now + EVENT_RETENTION)},
        )
        if int(counted.get("waits", 0)) < tell_after:
            return False
        try:
            self._update(_key("SEND", job_id), "SET wait_told_at = :now", "attribute_not_exists(wait_told_at)", {":now": _epoch(now)})
        except _ConditionFailedError:
            return False
        return True

    def settle_abandoned(self, job_id: str, *, claimed_before: datetime, now: datetime) -> bool:
        try:
            self._update(
                _key("SEND", job_id),
                "SET send_state = :unknown, finished_at = :now, reason = :reason",
                "send_state = :claimed AND claimed_at < :before",
                {
                    ":unknown": "unknown",
                    ":claimed": "claimed",
                    ":before": _epoch(claimed_before),
                    ":now": _epoch(now),
                    ":reason": "the try that claimed it stopped before it finished",
                },
            )
        except _ConditionFailedError:
            return False
        return True

    def finish_send(self, job_id: str, *, status: SendStatus, platform_message_id: str | None, reason: str | None, now: datetime) -> None:
        values: dict[str, Any] = {":status": status, ":now": _epoch(now), ":expires": _epoch(now + EVENT_RETENTION)}
        update = "SET send_state = :status, finished_at = :now, expires_at = :expires"
        for name, value in (("platform_message_id", platform_message_id), ("reason", reason[:1000] if reason else None)):
            if value is not None:
                update += f", {name} = :{name}"
                values[f":{name}"] = value
        self._update(_key("SEND", job_id), update, None, values)

    def remember_sent(self, platform: str, message_id: str, job_id: str, conversation_key: str, now: datetime) -> None:
        self._update(
            _key("SENT", f"{platform}:{message_id}"),
            "SET job_id = :job, conversation_key = :conversation, sent_at = :now, expires_at = :expires",
            None,
            {":job": job_id, ":conversation": conversation_key, ":now": _epoch(now), ":expires": _epoch(now + SENT_RETENTION)},
        )

    def mark_sending(self, conversation_key: str, text: str, job_id: str, now: datetime) -> None:
        """One item per conversation and text (a digest: no message text is stored), valid for `SENDING_WINDOW`."""
        self._update(
            _key("SENDING", sending_key(conversation_key, text)),
            "SET job_id = :job, sending_until = :until, expires_at = :expires",
            None,
            {":job": job_id, ":until": _epoch(now + SENDING_WINDOW), ":expires": _epoch(now + EVENT_RETENTION)},
        )

    def sending(self, conversation_key: str, text: str, now: datetime) -> bool:
        item = self._get(_key("SENDING", sending_key(conversation_key, text)))
        return item is not None and int(item.get("sending_until", 0)) >= _epoch(now)

    def find_sent(self, platform: str, message_id: str) -> str | None:
        item = self._get(_key("SENT", f"{platform}:{message_id}"))
        return str(item["job_id"]) if item and "job_id" in item else None

    def send_record(self, job_id: str) -> dict[str, Any] | None:
        """The job's send record as stored (for tests and operators)."""
        return self._get(_key("SEND", job_id))

    # --- desk events (Zendesk webhooks) and private replies -----------------------------------

    def claim_desk_event(self, event_id: str, *, now: datetime, lease_seconds: int) -> EventClaim:
        """One conditional UpdateItem: an event never seen, given back, or whose lease ran out is claimed."""
        try:
            self._update(
                _key("DESKEVENT", event_id),
                "SET desk_state = :claimed, lease_until = :until, expires_at = :expires",
                "attribute_not_exists(desk_state) OR desk_state = :released OR (desk_state = :claimed AND lease_until < :now)",
                {
                    ":claimed": "claimed",
                    ":released": "released",
                    ":now": _epoch(now),
                    ":until": _epoch(now) + lease_seconds,
                    ":expires": _epoch(now + DESK_EVENT_RETENTION),
                },
            )
        except _ConditionFailedError as failed:
            return "done" if failed.item.get("desk_state") == "done" else "busy"
        return "claimed"

    def finish_desk_event(self, event_id: str, *, now: datetime) -> None:
        self._update(_key("DESKEVENT", event_id), "SET desk_state = :done, finished_at = :now", None, {":done": "done", ":now": _epoch(now)})

    def release_desk_event(self, event_id: str) -> None:
        with suppress(_ConditionFailedError):
            self._update(
                _key("DESKEVENT", event_id), "SET desk_state = :released", "desk_state = :claimed", {":released": "released", ":claimed": "claimed"}
            )

    def claim_private_reply(self, platform: str, comment_id: str, *, job_id: str, now: datetime) -> str:
        """The job that holds the one private reply to this comment: `job_id` when it is the first (or asks again)."""
        try:
            self._update(
                _key("PRIVATE", f"{platform}:{comment_id}"),
                "SET job_id = :job, claimed_at = :now, expires_at = :expires",
                "attribute_not_exists(job_id) OR job_id = :job",
                {":job": job_id, ":now": _epoch(now), ":expires": _epoch(now + EVENT_RETENTION)},
            )
        except _ConditionFailedError as failed:
            return str(failed.item.get("job_id"))
        return job_id

    def release_private_reply(self, platform: str, comment_id: str, *, job_id: str) -> None:
        """Give the comment's one private reply back when `job_id` holds it and nothing was sent."""
        with suppress(_ConditionFailedError):  # another job holds it, or none does: nothing to give back
            self._update(_key("PRIVATE", f"{platform}:{comment_id}"), "REMOVE job_id, claimed_at", "job_id = :job", {":job": job_id})

    # --- DynamoDB plumbing ----------------------------------------------------------------

    def _get(self, key: Mapping[str, Any], *, consistent: bool = True) -> dict[str, Any] | None:
        """`consistent=False` (half the price) only where a stale answer decides nothing: a conditional write still decides,
        or the worst it causes is one idempotent call again."""
        try:
            response = self._client().get_item(TableName=self._table, Key=key, ConsistentRead=consistent)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"GetItem failed: {_code(exc)}") from exc
        item = response.get("Item")
        return _plain(item) if item else None

    def _update(
        self, key: Mapping[str, Any], update: str, condition: str | None, values: Mapping[str, Any], *, return_old: bool = False
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": update,
            "ReturnValues": "ALL_OLD" if return_old else "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = {name: _serializer.serialize(value) for name, value in values.items()}
        if condition:
            request.update(ConditionExpression=condition, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        try:
            response = self._client().update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                old_item: Mapping[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment] # botocore leaves it untyped
                raise _ConditionFailedError(_plain(old_item)) from None
            raise StoreUnavailableError(f"UpdateItem failed: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"UpdateItem failed: {type(exc).__name__}") from exc
        return _plain(response.get("Attributes") or {})

    def _put(self, item: Mapping[str, Any]) -> None:
        try:
            self._client().put_item(TableName=self._table, Item={name: _serializer.serialize(value) for name, value in item.items()})
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"PutItem failed: {_code(exc)}") from exc

    def _delete(self, key: Mapping[str, Any]) -> None:
        try:
            self._client().delete_item(TableName=self._table, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"DeleteItem failed: {_code(exc)}") from exc

    def first_time(self, key: str, side: str, *, low: str) -> datetime | None:
        """The earliest message time of one side of a conversation whose sort key is at least `low` (one strongly consistent read)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": f"CONV#{key}"}, ":low": {"S": low}, ":high": {"S": f"T#{side}#{_AFTER}"}},
            "ConsistentRead": True,
            "Limit": 1,
        }
        try:
            items = self._client().query(**request).get("Items", [])
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailableError(f"Query failed: {_code(exc)}") from exc
        return datetime.fromisoformat(str(items[0]["sk"]["S"]).split("#")[2]) if items else None

    def _query(self, pk: str) -> Iterator[dict[str, Any]]:
        """Every item under one partition key, page by page, strongly consistent."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            try:
                response = self._client().query(**request)
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailableError(f"Query failed: {_code(exc)}") from exc
            yield from (_plain(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class _StoredTimes:
    """`MessageTimes` over a conversation's time items: each question is one Query of at most one item."""

    def __init__(self, store: DynamoDbConversationStore, key: str) -> None:
        self._store, self._key = store, key

    def first_brand_from(self, at: datetime) -> datetime | None:
        return self._store.first_time(self._key, "B", low=f"T#B#{_sortable(at)}#")

    def first_customer_after(self, at: datetime) -> datetime | None:
        return self._store.first_time(self._key, "C", low=f"T#C#{_sortable(at)}#{_AFTER}")


def _sortable(moment: datetime) -> str:
    """A UTC time of fixed width, so its text sorts as the time does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _ConditionFailedError(Exception):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.item = item


def _key(kind: str, identity: str) -> dict[str, Any]:
    return {"pk": {"S": f"{kind}#{identity}"}, "sk": {"S": kind}}


def _anchor_key(anchor: str) -> dict[str, Any]:
    """`MSG#…` and `CONV#…` anchors are the message and conversation items themselves."""
    return {"pk": {"S": anchor}, "sk": {"S": anchor.partition("#")[0]}}


def _park_key(anchor: str, event: SocialEvent) -> dict[str, Any]:
    return {"pk": {"S": f"PARK#{anchor}"}, "sk": {"S": event.dedupe_key}}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code")) if isinstance(exc, ClientError) else type(exc).__name__


def _progress(item: Mapping[str, Any]) -> EventProgress:
    return EventProgress(
        zendesk_done=bool(item.get("zendesk_done", False)),
        salesforce_done=bool(item.get("salesforce_done", False)),
        salesforce_attempted=bool(item.get("salesforce_attempted", False)),
        ticket_id=int(item["ticket_id"]) if "ticket_id" in item else None,
        salesforce_ref=item.get("salesforce_ref"),
        completed=bool(item.get("completed", False)),
        comments_uncertain=bool(item.get("comments_uncertain", False)),
        first_tried_at=datetime.fromisoformat(item["first_tried_at"]) if "first_tried_at" in item else None,
        edit_as_message=bool(item.get("edit_as_message", False)),
        classification=item.get("classification"),
        automatic_done=bool(item.get("automatic_done", False)),
    )


def _conversation(item: Mapping[str, Any]) -> Conversation:
    return Conversation(
        key=str(item["pk"]).removeprefix("CONV#"),
        ticket_id=int(item["ticket_id"]) if "ticket_id" in item else None,
        opened_by=item.get("opened_by"),
        previous_ticket_ids=[int(value) for value in item.get("previous_ticket_ids", [])],
        claim_owner=item.get("claim_owner"),
        claim_at=datetime.fromtimestamp(int(item["claim_at"]), tz=UTC) if "claim_at" in item else None,
        customer_key=item.get("customer_key"),
        parked=bool(item.get("parked", False)),
        activity=ConversationActivity(**{name: datetime.fromisoformat(item[name]) for name in ACTIVITY_FIELDS if name in item}),
        version=int(item.get("version", 0)),
        reply_target=msgspec.json.decode(item["reply_target"], type=ReplyTarget) if "reply_target" in item else None,
    )
