"""DynamoDB capacity units, counted by AWS's own sizing rules (moto's ConsumedCapacity figures are not real ones).

Item size (Developer Guide, "Item sizes and formats"): each attribute's name in UTF-8 bytes plus its value: a string's
UTF-8 bytes, a number's 1 byte per two significant digits plus 1, 1 for a boolean or null, 3 plus each element (and 1
per element) for a list or map. Writes cost 1 WRU per KB of the larger of the item before and after (a failed
condition still costs the write); strongly consistent reads 1 RRU per 4 KB, a Query's items summed before rounding
("Read/write capacity mode": on-demand units).
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from typing import Any


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        digits = str(content).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_size(element) + 1 for name, element in content.items())
    if kind == "SS":
        return sum(len(str(element).encode()) for element in content)
    raise ValueError(f"unsized DynamoDB type {kind}")


class MeteredClient:
    """A DynamoDB client that counts the read and write units of each call (looking at items around each write)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.units: defaultdict[str, float] = defaultdict(float)
        """RRU (half a unit per eventually consistent 4 KB) and WRU."""
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.units.clear()
        self.calls.clear()

    def get_item(self, **request: Any) -> Any:
        response = self._client.get_item(**request)
        self._read("GetItem", [response.get("Item", {})], consistent=request.get("ConsistentRead", False))
        return response

    def query(self, **request: Any) -> Any:
        response = self._client.query(**request)
        self._read("Query", response.get("Items", []), consistent=request.get("ConsistentRead", False))
        return response

    def put_item(self, **request: Any) -> Any:
        return self._write("PutItem", request, request["Item"], lambda: self._client.put_item(**request))

    def update_item(self, **request: Any) -> Any:
        return self._write("UpdateItem", request, request["Key"], lambda: self._client.update_item(**request))

    def delete_item(self, **request: Any) -> Any:
        return self._write("DeleteItem", request, request["Key"], lambda: self._client.delete_item(**request))

    def _read(self, operation: str, items: list[dict[str, Any]], *, consistent: bool) -> None:
        """A strongly consistent read costs 1 RRU per 4 KB, an eventually consistent one half of that (aws.amazon.com/dynamodb/pricing/on-demand)."""
        self.calls[operation] += 1
        self.units["RRU"] += max(1, math.ceil(sum(item_size(item) for item in items) / 4096)) * (1.0 if consistent else 0.5)

    def _write(self, operation: str, request: dict[str, Any], item_or_key: dict[str, Any], call: Any) -> Any:
        key = {name: item_or_key[name] for name in ("pk", "sk")}
        before = self._client.get_item(TableName=request["TableName"], Key=key, ConsistentRead=True).get("Item", {})
        try:
            return call()
        finally:
            after = self._client.get_item(TableName=request["TableName"], Key=key, ConsistentRead=True).get("Item", {})
            self.calls[operation] += 1
            self.units["WRU"] += max(1, math.ceil(max(item_size(before), item_size(after)) / 1024))


class OneRequestAtATime:
    """A DynamoDB client whose requests are each atomic, as DynamoDB's are on an item (moto's are not across threads)."""

    def __init__(self, client: Any) -> None:
        self._client, self._lock = client, threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call
