"""Replies on Facebook, Instagram, Messenger and WhatsApp through the Graph API.

| job | call | answered |
|---|---|---|
| Facebook public reply | `POST /{comment-id}/comments` `message` | `{"id"}` (the new comment) |
| Instagram public reply | `POST /{ig-comment-id}/replies` `message` | `{"id"}` |
| Facebook/Instagram private reply | `POST /{page-or-ig-id}/messages` `{"recipient": {"comment_id"}, "message": {"text"}}` | `{"message_id"}` |
| Messenger DM | `POST /{page-id}/messages` `{"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text"}}` | same |
| Instagram DM | `POST /{ig-id}/messages` `{"recipient": {"id": IGSID}, "message": {"text"}}` | same |
| WhatsApp | `POST /{phone-number-id}/messages` `{"messaging_product", "to", "type": "text", "text": {"body"}}` | `{"messages": [{"id"}]}` |
| WhatsApp template | same, `{"type": "template", "template": {"name", "language": {"code"}}}` | same |
| Messenger attachment | as the DM, `"message": {"attachment": {"type": "image"/"file", "payload": {"url"}}}` | `{"message_id"}` |
| WhatsApp attachment | as the text, `{"type": "image", "image": {"link"}}` (JPEG, PNG) or `"document"` | same |

An agent's attachments go after the text, one message each, in the order the customer reads them
(developers.facebook.com/docs/messenger-platform/send-messages "Sending Attachments"; WhatsApp Cloud API
developers.facebook.com/docs/whatsapp/cloud-api/messages/image-messages and document-messages: media by `link`). The first
message is the job's: its refusal is the job's. A later refusal leaves the message sent and lists that attachment, and
those after it, as not sent.

Sources: developers.facebook.com/docs/messenger-platform/reference/send-api (v25.0 in its current examples);
developers.facebook.com/documentation/business-messaging/messenger-platform/discovery/private-replies (one private reply
per comment, within 7 days); developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies;
developers.facebook.com/documentation/business-messaging/instagram-messaging/features/private-replies; the WhatsApp Cloud
API's messages reference (`type: "text"` inside the 24-hour customer-service window, `type: "template"` outside it: the
template object as in whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/TemplateObject).

The token goes in an `Authorization: Bearer` header, never in the URL (which access logs keep). Errors are read from
`error.code` (Meta advises `code` over the deprecated `error_subcode`; the codes as in `david-lev/pywa` `pywa/errors.py`,
which mirrors developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes, and
developers.facebook.com/docs/graph-api/guides/error-handling):
- 190 (OAuthException, HTTP 401): the token expired or was invalidated: an admin must renew it;
- 4, 17, 32, 613, 80001-80007: throttling (Graph's rate-limiting codes), 130429 WhatsApp throughput, 131056 WhatsApp
  pair rate: nothing sent, wait (the usage header's `estimated_time_to_regain_access`, in minutes, when given; the pair
  rate limits one customer only, `recipient_only`, and the outbound use case backs off 4^X s for that pair);
- 131047 outside the 24-hour window, 131026 undeliverable, 132000/132001/132015/132016 a template refused, 10 and
  200-299 permissions, 368 and 131031 blocks, 10900 (a private reply already sent), 551 (person unavailable), other
  4xx: refused for good;
- 5xx without a known code: unknown (it may have been carried out).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, OutboundJob
from socialdesk.platforms.send_http import json_body, post
from socialdesk.platforms.send_metadata import send_metadata
from socialdesk.platforms.whatsapp_templates import template_language
from socialdesk.ports.outbound import SendError, SendRateLimitedError, SendRefusedError, SendTokenRejectedError, SendUncertainError, Sent

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import requests

GRAPH_API = "https://graph.facebook.com/v25.0"
THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80001, 80008)})
WHATSAPP_THROUGHPUT = 130429
WHATSAPP_PAIR_RATE = 131056
# Meta publishes no wait for these: the pair rate allows about one message per 6 s to one customer, "retry after 4^X s"
# (outbound/send_job.py counts X per pair); throughput limits are per second; the BUC throttles lift within the hour.
WAIT_SECONDS = {WHATSAPP_PAIR_RATE: 6, WHATSAPP_THROUGHPUT: 60}
DEFAULT_THROTTLE_SECONDS = 300
REFUSAL_REASONS = {
    131047: "more than 24 hours have passed since the customer last wrote (WhatsApp 131047); only a template can reach them now",
    131026: "the customer cannot receive WhatsApp messages (131026: not a WhatsApp user, terms not accepted, or an old app)",
    10: "the app lacks the permission to send this (Graph code 10)",
    10900: "a private reply was already sent to this comment (Graph 10900: one per comment)",
    551: "this person is not available right now (Graph 551)",
    368: "Meta blocked the send as against its policies (368)",
    131031: "the WhatsApp Business Account is locked (131031)",
    132000: "the WhatsApp template's parameters do not match what was approved (132000): check whatsapp_template",
    132001: "the WhatsApp template does not exist in this language (132001): check whatsapp_template and its approved languages",
    132015: "the WhatsApp template is paused for low quality (132015)",
    132016: "the WhatsApp template is disabled (132016)",
}


class GraphSender:
    """Facebook, Instagram and Messenger: one token per sending account (a Page token, or the Instagram token)."""

    def __init__(self, token: str, session: requests.Session, *, base_url: str = GRAPH_API) -> None:
        self._token = token
        self._session = session
        self._base = base_url.rstrip("/")

    def send(self, job: OutboundJob) -> Sent:
        if job.channel == Channel.PUBLIC_REPLY:
            if job.platform not in (Platform.FACEBOOK, Platform.INSTAGRAM) or not job.reply_to_id:
                raise SendRefusedError(f"a public reply on {job.platform} needs a Facebook or Instagram comment to answer")
            edge = "comments" if job.platform == Platform.FACEBOOK else "replies"
            data = {"message": job.text}
            if job.platform == Platform.FACEBOOK and job.attachment_urls:
                data["attachment_url"] = job.attachment_urls[0]  # a comment takes one photo by URL (Graph: /{object-id}/comments)
            answer = self._post(f"{job.reply_to_id}/{edge}", data=data)
            return Sent(platform_message_id=_required(answer, "id"))
        if job.channel == Channel.PRIVATE_REPLY:
            if not job.reply_to_id:
                raise SendRefusedError("a private reply needs the comment it answers")
            answer = self._post(f"{job.account_id}/messages", json={"recipient": {"comment_id": job.reply_to_id}, "message": {"text": job.text}})
            return Sent(platform_message_id=_required(answer, "message_id"))
        envelope: dict[str, Any] = {"recipient": {"id": job.recipient_id}}
        if job.messaging_tag:
            # An agent's reply 24 hours to 7 days after the customer wrote (Send API: MESSAGE_TAG + tag HUMAN_AGENT)
            envelope |= {"messaging_type": "MESSAGE_TAG", "tag": job.messaging_tag}
        elif job.platform != Platform.INSTAGRAM:
            envelope["messaging_type"] = "RESPONSE"  # Send API: an answer within the 24-hour window
        # Messenger hands the metadata back on the echo: ours, whatever became of the message id (Send API, message_echoes)
        ours = {"metadata": send_metadata(job)} if job.platform == Platform.MESSENGER else {}
        parts = [("", envelope | {"message": {"text": job.text, **ours}})] if job.text else []
        parts += [(url, envelope | {"message": {"attachment": _messenger_attachment(url), **ours}}) for url in job.attachment_urls]
        return send_in_order(parts, lambda body: _required(self._post(f"{job.account_id}/messages", json=body), "message_id"))

    def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return graph_post(self._session, f"{self._base}/{path}", self._token, **kwargs)


class WhatsAppSender:
    """WhatsApp Cloud API: a text message from the job's phone number id, inside the customer-service window."""

    def __init__(self, token: str, session: requests.Session, *, base_url: str = GRAPH_API) -> None:
        self._token = token
        self._session = session
        self._base = base_url.rstrip("/")

    def send(self, job: OutboundJob) -> Sent:
        if job.channel != Channel.DIRECT_MESSAGE:
            raise SendRefusedError("WhatsApp has only the chat: send a direct message")
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": job.recipient_id}
        if job.template is not None:
            # Outside the 24-hour window only a pre-approved template reaches the customer, in a language it was approved
            # in; it takes no parameters here (a template with variables would be refused, 132000).
            code = job.template_language or template_language(job.language, {})
            body |= {"type": "template", "template": {"name": job.template, "language": {"policy": "deterministic", "code": code}}}
            return Sent(platform_message_id=self._post(job.account_id, body))
        parts = [("", body | {"type": "text", "text": {"preview_url": False, "body": job.text}})] if job.text else []
        parts += [(url, body | _whatsapp_media(url)) for url in job.attachment_urls]
        return send_in_order(parts, lambda part: self._post(job.account_id, part))

    def _post(self, account_id: str, body: dict[str, Any]) -> str:
        answer = graph_post(self._session, f"{self._base}/{account_id}/messages", self._token, json=body)
        messages = answer.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict) or not messages[0].get("id"):
            raise SendUncertainError("WhatsApp answered without messages[0].id")
        return str(messages[0]["id"])


def send_in_order(parts: list[tuple[str, dict[str, Any]]], post_one: Callable[[dict[str, Any]], str]) -> Sent:
    """Each (attachment URL or "" for the text, body) as its own message, in order; the first one's failure is the job's."""
    if not parts:
        raise SendRefusedError("nothing to send: no text and no attachment this platform takes")
    ids: list[str] = []
    unsent: list[str] = []
    for url, body in parts:
        if unsent:
            unsent.append(url)  # after a refusal the rest wait no more: the agent sends them again if need be
            continue
        try:
            ids.append(post_one(body))
        except SendError as exc:
            if not ids:
                raise
            unsent.append(f"{url} ({exc.reason})")
    return Sent(platform_message_id=ids[0], more_message_ids=tuple(ids[1:]), unsent=tuple(unsent))


def is_image(url: str) -> bool:
    """An image both platforms show inline (WhatsApp's image message takes JPEG and PNG only); else sent as a file."""
    return file_name(url).lower().endswith((".png", ".jpg", ".jpeg"))


def file_name(url: str) -> str:
    """The file's name: Zendesk's attachment URLs carry it as `?name=`, others end in it."""
    parsed = urlsplit(url)
    return parse_qs(parsed.query).get("name", [""])[0] or parsed.path.rstrip("/").rsplit("/", 1)[-1] or "attachment"


def _messenger_attachment(url: str) -> dict[str, Any]:
    return {"type": "image" if is_image(url) else "file", "payload": {"url": url, "is_reusable": False}}


def _whatsapp_media(url: str) -> dict[str, Any]:
    if is_image(url):
        return {"type": "image", "image": {"link": url}}
    return {"type": "document", "document": {"link": url, "filename": file_name(url)}}


def graph_post(session: requests.Session, url: str, token: str, **kwargs: Any) -> dict[str, Any]:
    response = post(session, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    answer = json_body(response)
    if response.status_code == 200 and "error" not in answer:
        return answer
    raise graph_failure(response.status_code, answer, response.headers)


def graph_failure(status: int, answer: Mapping[str, Any], headers: Mapping[str, str]) -> Exception:
    raw_error = answer.get("error")
    error: Mapping[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    code = error.get("code")
    message = str(error.get("message") or f"HTTP {status}")
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    said = f"{message}{f' ({details})' if details else ''}"
    if code == 190:
        return SendTokenRejectedError("190", f"Graph 190: {said}")
    if isinstance(code, int) and (code in THROTTLING_CODES or code in WAIT_SECONDS):
        wait = WAIT_SECONDS.get(code) or _regain_seconds(headers) or DEFAULT_THROTTLE_SECONDS
        return SendRateLimitedError(wait, f"code {code}: {said}", recipient_only=code == WHATSAPP_PAIR_RATE)
    if code in REFUSAL_REASONS:
        return SendRefusedError(REFUSAL_REASONS[code])
    if isinstance(code, int) and 200 <= code <= 299:
        return SendRefusedError(f"the app lacks a permission for this send (Graph {code}: {message})")
    if status >= 500:
        return SendUncertainError(f"Graph {status} (code {code}): {said}")
    if 400 <= status < 500:
        return SendRefusedError(f"refused (HTTP {status}, code {code}): {said}")
    return SendUncertainError(f"unexpected answer (HTTP {status}, code {code}): {said}")


def _regain_seconds(headers: Mapping[str, str]) -> int | None:
    """Graph's `x-business-use-case-usage` header: `{"<id>": [{"estimated_time_to_regain_access": <minutes>, ...}]}`."""
    raw = headers.get("x-business-use-case-usage") or headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
        minutes = max(int(entry.get("estimated_time_to_regain_access", 0)) for entries in usage.values() for entry in entries)
    except (ValueError, TypeError, AttributeError):
        return None
    return minutes * 60 or None


def _required(answer: Mapping[str, Any], key: str) -> str:
    value = answer.get(key)
    if not value:
        raise SendUncertainError(f"the platform answered 200 without {key}")
    return str(value)
