"""Builds the helpdesk (Zendesk, or the local sandbox) from the rules and the CRM secret's Zendesk keys.

process, outbound and sla_check each build one. It imports nothing of Salesforce: outbound and sla_check only write
to Zendesk, and their INIT would otherwise load simple-salesforce (and zeep, lxml) for nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from socialdesk.composition.clients import forget
from socialdesk.desk.sandbox import SandboxDesk
from socialdesk.desk.zendesk import ZendeskDesk, zendesk_clients
from socialdesk.observability import logger
from socialdesk.ports.secrets import optional, require
from socialdesk.sandbox_state import DESK_FILE

if TYPE_CHECKING:
    from pathlib import Path

    from socialdesk.desk.port import Desk
    from socialdesk.ports.secrets import Secrets
    from socialdesk.rules import RulesConfig

# The CRM secret's Zendesk keys whose presence makes a local run use the real Zendesk instead of its sandbox.
ZENDESK_CREDENTIALS = ("zendesk_oauth_token", "zendesk_api_token")


def build_desk(rules: RulesConfig, secret: Secrets, sandbox: Path | None) -> Desk:
    if (folder := _sandbox_in_use(secret, sandbox)) is not None:
        logger.info("no Zendesk credentials: using the sandbox helpdesk", extra={"sandbox": str(folder)})
        return sandbox_desk(folder / DESK_FILE)
    oauth = optional(secret, "zendesk_oauth_token")
    return ZendeskDesk(
        zendesk_clients(
            subdomain=rules.zendesk.subdomain,
            domain=rules.zendesk.domain,
            email=None if oauth else require(secret, "zendesk_email")[0],
            token=None if oauth else require(secret, "zendesk_api_token")[0],
            oauth_token=oauth,
            timeout=rules.zendesk.timeout_seconds,
        )
    )


def missing_desk_credentials(secret: Secrets, sandbox: Path | None) -> list[str]:
    """The CRM secret's Zendesk keys that are blank or absent: none for the sandbox, none beside an OAuth token."""
    if _sandbox_in_use(secret, sandbox) is not None or optional(secret, "zendesk_oauth_token"):
        return []
    return [key for key in ("zendesk_email", "zendesk_api_token") if not optional(secret, key)]


def _sandbox_in_use(secret: Secrets, sandbox: Path | None) -> Path | None:
    """The sandbox folder when the helpdesk is its sandbox: a local run (deployed, there is none) without Zendesk credentials."""
    return sandbox if sandbox is not None and not any(optional(secret, key) for key in ZENDESK_CREDENTIALS) else None


_SANDBOX_DESKS: dict[Path, SandboxDesk] = {}
_SANDBOX_LOCK = threading.Lock()
forget(_SANDBOX_DESKS.clear)


def sandbox_desk(path: Path) -> SandboxDesk:
    """One sandbox helpdesk per file in a process: the local stack's process and outbound functions share it, so neither
    writes the file from a stale copy (outbound's note on a ticket process created after it loaded, lost or refused)."""
    with _SANDBOX_LOCK:
        if path not in _SANDBOX_DESKS:
            _SANDBOX_DESKS[path] = SandboxDesk(path)
        return _SANDBOX_DESKS[path]
