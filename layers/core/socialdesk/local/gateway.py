"""An HTTP server that turns requests into API Gateway HTTP API (payload 2.0) events for the template's routes.

Routes come from the functions' `HttpApi` events: an exact method and path first, then the
`$default` route (an event with neither), else API Gateway's own 404. A function's answer goes
out with every header it set, as HTTP API sends it (ingest's 405 names the allowed methods in
`Allow`). GETs of `/` and `/console/...` are the local console instead.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from socialdesk.local.output import say

if TYPE_CHECKING:
    from socialdesk.devtools.template_stack import TemplateStack
    from socialdesk.local.functions import LocalFunction

# What API Gateway passes through as text; other bodies arrive base64-encoded with isBase64Encoded.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "application/javascript")
# The console answers a GET of its path and query string with a status, headers and a body.
Console = Callable[[str, str], tuple[int, dict[str, str], bytes]]
# The console's reply form (and `socialdesk reply`): a POST of REPLY_PATH with its JSON body.
REPLY_PATH = "/console/reply"
ConsoleReply = Callable[[bytes], tuple[int, dict[str, str], bytes]]


class Routes:
    def __init__(self, stack: TemplateStack, functions: dict[str, LocalFunction]) -> None:
        self.exact: dict[tuple[str, str], LocalFunction] = {}
        self.default: LocalFunction | None = None
        for logical_id, _, properties in stack.function_events("HttpApi"):
            if "Path" in properties or "Method" in properties:
                self.exact[(str(properties["Method"]).upper(), properties["Path"])] = functions[logical_id]
            else:
                self.default = functions[logical_id]

    def function_for(self, method: str, path: str) -> LocalFunction | None:
        return self.exact.get((method, path)) or self.default

    def paths(self) -> list[str]:
        return sorted({path for _, path in self.exact})


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gateway(port: int, routes: Routes, console: Console, reply: ConsoleReply | None = None) -> ThreadingHTTPServer:
    """Serve on 127.0.0.1:`port` in a background thread; raises OSError when the port is taken."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "socialdesk-local"

        def do_any(self) -> None:
            split = urlsplit(self.path)
            if self.command == "GET" and (split.path == "/" or split.path.startswith("/console/")):
                try:
                    answer = console(split.path, split.query)
                except Exception:  # the page retries in 2 s; the stack keeps running
                    say("console", f"GET {split.path} failed:\n{traceback.format_exc()}")
                    answer = (500, {"content-type": "text/plain; charset=utf-8"}, b"the console failed; see the terminal")
                self._reply(*answer)
                return
            if self.command == "POST" and split.path == REPLY_PATH and reply is not None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    answer = reply(self.rfile.read(length) if length else b"")
                except Exception:
                    say("console", f"POST {split.path} failed:\n{traceback.format_exc()}")
                    answer = (500, {"content-type": "text/plain; charset=utf-8"}, b"the reply failed; see the terminal")
                self._reply(*answer)
                return
            function = routes.function_for(self.command, split.path)
            if function is None:
                self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                return
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                event = api_gateway_event(
                    self.command, split.path, query=split.query, headers=self.headers.items(), body=body, source_ip=self.client_address[0]
                )
                response = function.invoke(event)
            except Exception:
                say("gateway", f"{self.command} {split.path} → the handler failed:\n{traceback.format_exc()}")
                self._reply(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
                return
            status, headers, payload = http_response(response)
            json_answer = headers["content-type"].startswith("application/json")
            summary = payload[:120].decode("utf-8", "replace") if json_answer else f"{len(payload)} bytes"
            say("webhook", f"{self.command} {split.path} → {status} {summary}", ms=(time.monotonic() - started) * 1000)
            self._reply(status, headers, payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any  # noqa: N815 - http.server names

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: every request already prints its own line."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name="socialdesk-gateway", daemon=True).start()
    return server


def api_gateway_event(method: str, path: str, *, query: str, headers: Any, body: bytes, source_ip: str) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event, as the $default stage would deliver it."""
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    content_type = lowered.get("content-type", "")
    as_text = not body or any(content_type.startswith(kind) for kind in TEXT_TYPES)
    try:
        text = body.decode("utf-8") if as_text else None
    except UnicodeDecodeError:
        text = None
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": lowered.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": text is None,
        "body": text if text is not None else base64.b64encode(body).decode("ascii"),
    }
    if query:
        # Decoded, with a repeated name's values joined by commas, as HTTP API payload 2.0 does (rawQueryString stays as sent).
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    return event


def http_response(response: Any) -> tuple[int, dict[str, str], bytes]:
    """What API Gateway makes of a payload 2.0 answer: its status, every header it set (names lower-cased,
    `content-type` defaulting to JSON) and its body; anything but a dict with statusCode is a JSON 200 of itself.
    """
    if not isinstance(response, dict) or "statusCode" not in response:
        return 200, {"content-type": "application/json"}, json.dumps(response).encode()
    headers = {"content-type": "application/json"} | {name.lower(): str(value) for name, value in (response.get("headers") or {}).items()}
    body = response.get("body") or ""
    payload = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(response["statusCode"]), headers, payload
