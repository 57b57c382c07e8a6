"""The console page: a static shell, a stylesheet and a script, with no build step and nothing from another site.

The script fills the shell from `/console/state.json` and the opened thread from
`/console/thread.json`, and patches both in place every REFRESH_SECONDS, so the page is never
reloaded. It puts every value in as text; the Content-Security-Policy admits this site's own
script and stylesheet only, so even markup that slipped through could run nothing.
"""

from __future__ import annotations

import html
from pathlib import Path

REFRESH_SECONDS = 2
ASSETS = Path(__file__).with_name("console_assets")
ASSET_TYPES = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
HELD = (("quarantined", "Quarantined"), ("deferred", "Deferred"), ("dead_lettered", "Dead-lettered"))
COLUMNS = ("Platform", "Customers", "Messages", "Last message", "Ticket", "Salesforce activities", "Brand replies", "Response clock", "SLA")
# Hidden beside an open thread, which shows them itself (console.js marks the same cells).
SECONDARY_COLUMNS = ("Salesforce activities", "Brand replies")


def render_page(*, url: str, backends: str) -> str:
    """The shell; the empty-state hint sends to `url`, the stack this page came from."""
    held = "".join(f'<div class="held" id="held-{name}"><h2>{label} <span class="count">0</span></h2><ul></ul></div>' for name, label in HELD)
    head = "".join(f'<th class="secondary">{column}</th>' if column in SECONDARY_COLUMNS else f"<th>{column}</th>" for column in COLUMNS)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>socialdesk local</title><link rel="stylesheet" href="/console/console.css">'
        f'<script src="/console/console.js" defer></script></head><body data-refresh-ms="{REFRESH_SECONDS * 1000}">'
        f'<header><h1>socialdesk · local</h1><p class="meta"><span id="meta">{html.escape(backends)}</span> '
        '<span id="status" class="status"></span></p></header>'
        f'<section id="attention" aria-label="Events held back">{held}</section>'
        '<main id="main"><div id="list">'
        '<p class="empty" id="empty">No conversations yet. Send one: '
        f"<code>./uvw run socialdesk send x-mention --url {html.escape(url)}</code></p>"
        f'<table id="conversations" hidden><thead><tr>{head}</tr></thead><tbody id="rows"></tbody></table>'
        '<p class="hint" id="hint" hidden>Select a conversation to see its whole thread.</p></div>'
        '<section id="thread" hidden aria-live="polite" aria-label="Conversation thread"></section></main>'
        "<noscript><p>The console needs JavaScript; <a href=/console/state.json>/console/state.json</a> has the same data.</p></noscript>"
        "</body></html>"
    )


def asset(name: str) -> tuple[str, bytes] | None:
    """The content type and bytes of one of the page's own files, or None for any other name."""
    if name not in ASSET_TYPES:
        return None
    return ASSET_TYPES[name], (ASSETS / name).read_bytes()
