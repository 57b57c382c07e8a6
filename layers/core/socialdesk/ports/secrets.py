"""A JSON secret read by key, as the webhook and CRM secrets are; every error names the secret it is about."""

from __future__ import annotations

from typing import Protocol


class SecretsUnavailableError(Exception):
    """The secret store could not be read; whatever needs the secret fails closed."""


class SecretMissingError(SecretsUnavailableError):
    """The secret store answered but holds no value for a key we need."""

    def __init__(self, secret: str, key: str) -> None:
        super().__init__(f"the {secret} has no value for {key!r}")
        self.secret = secret
        self.key = key


class Secrets(Protocol):
    name: str
    """How errors and logs name this secret to an operator: "webhook secret", "CRM secret"."""

    def values(self, key: str, *, refresh: bool = False) -> tuple[str, ...]:
        """Current then previous value of `key`; empty when the current value is unset or blank.

        `refresh=True` re-reads the store first (rate limited by the adapter), for a
        signature that matched no cached value because the secret just rotated.
        """
        ...


def require(secrets: Secrets, key: str, *, refresh: bool = False) -> tuple[str, ...]:
    """`secrets.values`, failing closed when the key has no value."""
    found = secrets.values(key, refresh=refresh)
    if not found:
        raise SecretMissingError(secrets.name, key)
    return found


def optional(secrets: Secrets, key: str) -> str | None:
    """The current value of `key`, or None when unset or blank: for keys whose absence chooses something (a sandbox)."""
    found = secrets.values(key)
    return found[0] if found else None
