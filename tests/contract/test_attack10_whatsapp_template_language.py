"""Attack on issue 10's WhatsApp rule: outside the 24-hour window, "a configured template", in the customer's language.

WhatsApp templates are approved per language code, from Meta's list of supported template languages: Portuguese exists
only as `pt_BR` and `pt_PT` (Spanish has `es`, English `en`, German `de`, French `fr`, Korean `ko`, Japanese `ja`). A
template sent with `"code": "pt"` names a translation no one can approve, and WhatsApp refuses it (132001, "template
name does not exist in the translation") for every Portuguese customer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import msgspec
import pytest
import responses

from socialdesk.platforms.meta_send import GRAPH_API, WhatsAppSender
from socialdesk.platforms.send_http import platform_session
from tests.contract.test_whatsapp_sender import JOB

PHONE_NUMBER_ID = "106540352242922"
URL = f"{GRAPH_API}/{PHONE_NUMBER_ID}/messages"
# Meta's supported template language codes (WhatsApp Business Platform, "Supported languages"), those of the seven.
WHATSAPP_TEMPLATE_CODES = {"en", "en_US", "en_GB", "es", "es_ES", "es_MX", "es_AR", "fr", "de", "ko", "ja", "pt_BR", "pt_PT"}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.parametrize("language", ["en", "es", "fr", "de", "ko", "ja", "pt"])
def test_the_out_of_window_template_is_asked_for_in_a_language_code_whatsapp_templates_can_have(api: responses.RequestsMock, language: str) -> None:
    """Given a job for a customer who last wrote over 24 hours ago, carrying the rules' whatsapp_template, in a shipped language
    When the WhatsApp sender sends it
    Then the template's language code is one WhatsApp can approve a template in (pt_BR/pt_PT for Portuguese, never "pt")."""
    api.add(responses.POST, URL, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.T"}]})
    job = msgspec.structs.replace(JOB, template="ticket_received", language=language)
    WhatsAppSender("EAAGwhatsapptoken", platform_session(5)).send(job)
    sent = api.calls[0].request.body
    assert sent is not None
    body = json.loads(sent)
    assert body["type"] == "template"
    assert body["template"]["language"]["code"] in WHATSAPP_TEMPLATE_CODES, body["template"]
