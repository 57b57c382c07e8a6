"""The response clock on the state table: its fields on the conversation item, and a sharded due index (keys only).

A conversation's clock lives on its `CONV` item (`sla_*` attributes), beside the response-time facts it is derived
from, so one conditional write can say "only if nobody answered, solved or escalated since I read": every clock write
requires the `sla_rev` it read and the `waiting_since` it read, and bumps `sla_rev`.

The due index answers "what is due now?" reading only what is due: an item `DUE#<shard>` / `<due time>#<conversation
key>` per running clock, in DUE_SHARDS partitions (a hash of the key picks one), queried `sk <= now` each. One partition
would take every clock write of the stack and cap it at 1,000 writes/s (docs.aws.amazon.com/amazondynamodb/latest/
developerguide/bp-partition-key-design.html), so writes spread over the shards. A clock's entry moves when its due
time does: the new entry is written before the conversation item and the old one deleted after, so a crash leaves an
extra entry (the check finds the item's `sla_due` differs and deletes it), never a clock without one.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from socialdesk.sla.policy import ClockState
from socialdesk.store.dynamodb import (
    _AFTER,
    RECORD_RETENTION,
    DynamoDbConversationStore,
    StoreUnavailableError,
    _code,
    _ConditionFailedError,
    _conversation,
    _epoch,
    _key,
    _sortable,
    _StoredTimes,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

DUE_SHARDS = 8
"""Partitions of the due index: 8 x 1,000 writes/s, and 8 Queries a minute when nothing is due (bench/sla_check_bench.py)."""

_TIMES = ("start", "due", "lease_until", "claimed_at", "stopped_at", "restart_at", "reopened_at", "window_flagged", "shown_due")
_TEXTS = ("platform", "kind", "priority")
_NUMBERS = ("level", "pending", "alerted")


class DynamoDbClockStore(DynamoDbConversationStore):
    """The conversation store plus the response clock (`ClockStore`, sla/ports.py)."""

    def clock_state(self, key: str) -> ClockState | None:
        item = self._get(_key("CONV", key))
        return _state(item) if item else None

    def first_customer_after(self, key: str, at: datetime) -> datetime | None:
        return _StoredTimes(self, key).first_customer_after(at)

    def write_clock(self, before: ClockState, after: ClockState) -> bool:
        """Store `after` unless the clock or its waiting customer changed since `before` was read; False then (read again).

        A due time that changes moves the clock's index entry (new one first, old one last).
        """
        if after.due is not None and after.due != before.due:
            # TTL as a safety net only: a handled entry is deleted; one a lost write orphaned goes with its conversation.
            self._put({**_due_item(after.key, after.due), "expires_at": _epoch(after.due + RECORD_RETENTION)})
        sets, removes = ["sla_rev = :next"], []
        values: dict[str, Any] = {":next": before.rev + 1}
        for name in (*_TIMES, *_TEXTS, *_NUMBERS):
            value = getattr(after, name)
            if value is None:
                removes.append(f"sla_{name}")
                continue
            sets.append(f"sla_{name} = :{name}")
            values[f":{name}"] = value.isoformat() if isinstance(value, datetime) else value
        condition = "attribute_not_exists(sla_rev)" if before.rev == 0 else "sla_rev = :rev"
        if before.rev:
            values[":rev"] = before.rev
        if before.activity.waiting_since is None:
            condition += " AND attribute_not_exists(waiting_since)"
        else:
            condition += " AND waiting_since = :waiting"
            values[":waiting"] = before.activity.waiting_since.isoformat()
        try:
            self._update(_key("CONV", before.key), "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""), condition, values)
        except _ConditionFailedError:
            return False
        after.rev = before.rev + 1
        if before.due is not None and before.due != after.due:
            self.forget_due(before.key, before.due)
        return True

    def due_entries(self, now: datetime) -> Iterator[tuple[str, datetime]]:
        """Every index entry due at `now`: (conversation key, due time), shard by shard, reading nothing else."""
        for shard in range(DUE_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk AND sk <= :now",
                "ExpressionAttributeValues": {":pk": {"S": f"DUE#{shard}"}, ":now": {"S": f"{_sortable(now)}#{_AFTER}"}},
            }
            while True:
                try:
                    response = self._client().query(**request)
                except (ClientError, BotoCoreError) as exc:
                    raise StoreUnavailableError(f"Query failed: {_code(exc)}") from exc
                for item in response.get("Items", []):
                    due, _, key = item["sk"]["S"].partition("#")
                    yield key, datetime.strptime(due, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def forget_due(self, key: str, due: datetime) -> None:
        item = _due_item(key, due)
        self._delete({name: {"S": value} for name, value in item.items()})


def shard_of(key: str) -> int:
    """A stable shard (crc32, not Python's per-process salted hash): every writer and reader agrees."""
    return zlib.crc32(key.encode()) % DUE_SHARDS


def _due_item(key: str, due: datetime) -> dict[str, str]:
    return {"pk": f"DUE#{shard_of(key)}", "sk": f"{_sortable(due)}#{key}"}


def _state(item: Mapping[str, Any]) -> ClockState:
    conversation = _conversation(item)
    fields: dict[str, Any] = {name: datetime.fromisoformat(item[f"sla_{name}"]) for name in _TIMES if f"sla_{name}" in item}
    fields |= {name: str(item[f"sla_{name}"]) for name in _TEXTS if f"sla_{name}" in item}
    fields |= {name: int(item[f"sla_{name}"]) for name in _NUMBERS if f"sla_{name}" in item}
    fields["rev"] = int(item.get("sla_rev", 0))
    return ClockState(key=conversation.key, ticket_id=conversation.ticket_id, activity=conversation.activity, **fields)
