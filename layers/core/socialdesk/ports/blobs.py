"""Durable storage for items too large for a queue message."""

from __future__ import annotations

from typing import Protocol


class BlobStoreUnavailableError(Exception):
    """An object could not be stored durably."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> str:
        """Store `data` under `key` durably (overwriting is harmless: keys name their content); returns the store's name
        (the bucket) or raises BlobStoreUnavailableError."""
        ...
