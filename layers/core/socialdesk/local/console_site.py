"""The console's HTTP side: `/` (the page and its files), `/console/state.json` and `/console/thread.json?key=`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import boto3
import msgspec

from socialdesk.crm.sandbox import load_crm_state
from socialdesk.desk.sandbox import load_desk_state
from socialdesk.devtools.local_aws import REGION
from socialdesk.local import attention
from socialdesk.local.agent_reply import ReplyRequest, reply_in_sandbox
from socialdesk.local.console import ConversationRow, StoreItems, Thread, conversation_rows, conversation_thread, duration, read_store
from socialdesk.local.console_page import PAGE_HEADERS, asset, render_page
from socialdesk.platforms.sandbox_send import load_platform_state
from socialdesk.sandbox_state import CRM_FILE, DESK_FILE, PLATFORMS_FILE

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from pathlib import Path

    from socialdesk.crm.sandbox import SandboxCrmState
    from socialdesk.desk.sandbox import SandboxDeskState
    from socialdesk.devtools.local_aws import LocalAws

Response = tuple[int, dict[str, str], bytes]
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


class ConsoleState(msgspec.Struct, kw_only=True):
    backends: str
    clock: str
    simulated: str | None
    """How far the local clock has been moved ahead, if it has."""
    conversations: list[ConversationRow]
    quarantined: attention.Held
    deferred: attention.Held
    dead_lettered: attention.Held


class Stack(Protocol):
    """What the console reads from the running local stack."""

    aws: LocalAws
    backends: str
    offset: timedelta

    @property
    def sandbox_dir(self) -> Path: ...

    @property
    def url(self) -> str: ...

    def clock(self) -> datetime: ...


class ConsoleSite:
    def __init__(self, stack: Stack, deferred: attention.DeferredEvents) -> None:
        self._stack = stack
        self._deferred = deferred
        self._dynamodb = boto3.client("dynamodb", region_name=REGION)  # read at every refresh

    def __call__(self, path: str, query: str) -> Response:
        if path == "/":
            page = render_page(url=self._stack.url, backends=self._stack.backends)
            return 200, {"Content-Type": "text/html; charset=utf-8", **PAGE_HEADERS}, page.encode()
        if path == "/console/state.json":
            return 200, JSON_HEADERS, msgspec.json.encode(self.state())
        if path == "/console/thread.json":
            key = parse_qs(query).get("key", [""])[0]
            thread = self.thread(key)
            if thread is None:
                return 404, JSON_HEADERS, msgspec.json.encode({"error": "no such conversation"})
            return 200, JSON_HEADERS, msgspec.json.encode(thread)
        found = asset(path.removeprefix("/console/"))
        if found is None:
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"
        content_type, body = found
        return 200, {"Content-Type": content_type, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}, body

    def reply(self, body: bytes) -> Response:
        """The thread's reply form: the agent's comment in the sandbox helpdesk, carried to the platform (local/agent_reply.py)."""
        try:
            request = msgspec.json.decode(body, type=ReplyRequest)
        except msgspec.DecodeError as exc:
            return 400, JSON_HEADERS, msgspec.json.encode({"error": f"expected {{ticket, text, private}}: {exc}"})
        try:
            made = reply_in_sandbox(self._stack.url, self._stack.sandbox_dir, request)
        except KeyError as exc:
            return 404, JSON_HEADERS, msgspec.json.encode({"error": str(exc.args[0])})
        return (200 if made.webhook_status == 200 else 502), JSON_HEADERS, msgspec.json.encode(made)

    def rows(self) -> list[ConversationRow]:
        desk, crm = self._sandboxes()
        return conversation_rows(self._store().conversations, desk, crm, self._stack.clock())

    def thread(self, key: str) -> Thread | None:
        desk, crm = self._sandboxes()
        sent = load_platform_state(self._stack.sandbox_dir / PLATFORMS_FILE).sent
        return conversation_thread(key, self._store().conversations, desk, crm, self._stack.clock(), sent=sent)

    def state(self) -> ConsoleState:
        store, (desk, crm) = self._store(), self._sandboxes()
        now, offset = self._stack.clock(), self._stack.offset
        return ConsoleState(
            backends=self._stack.backends,
            clock=f"{now:%Y-%m-%d %H:%M} UTC",
            simulated=duration(offset) if offset else None,
            conversations=conversation_rows(store.conversations, desk, crm, now),
            quarantined=attention.quarantined(self._peek("QuarantineQueue")),
            deferred=attention.held([*self._deferred.reasons(), *attention.parked(store.parked)]),
            dead_lettered=attention.dead_lettered(self._peek("InboundDeadLetterQueue")),
        )

    def _peek(self, queue: str) -> list[dict[str, Any]]:
        aws = self._stack.aws
        return aws.peek(aws.resource(queue)) if queue in aws.stack.resources else []

    def _store(self) -> StoreItems:
        return read_store(self._dynamodb, self._stack.aws.resource("StateTable"))

    def _sandboxes(self) -> tuple[SandboxDeskState, SandboxCrmState]:
        sandbox = self._stack.sandbox_dir
        return load_desk_state(sandbox / DESK_FILE), load_crm_state(sandbox / CRM_FILE)
