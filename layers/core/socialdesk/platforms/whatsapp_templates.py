"""The language code a WhatsApp template is sent in, from the customer's reply language.

Templates are approved per language code from Meta's list of supported template languages
(developers.facebook.com/documentation/business-messaging/whatsapp/templates/supported-languages, as mirrored by
support.wati.io/en/articles/11463484 and docs.ycloud.com's "Supported WhatsApp template languages", May 2026): most
languages have a bare code (`en`, `es`, `fr`, `de`, `ko`, `ja`), some only regional ones: Portuguese is `pt_BR` or
`pt_PT`, Chinese `zh_CN`, `zh_HK` or `zh_TW`. A template asked for in `pt` names a translation no one can approve
(132001). Which region a brand approved is its choice: `acknowledgement.whatsapp_template_languages` says it, and the
rules refuse a region-only language without it (rules.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

TEMPLATE_CODE_PATTERN = r"^[a-z]{2,3}(_[A-Z]{2})?$"
REGION_ONLY: dict[str, tuple[str, ...]] = {"pt": ("pt_BR", "pt_PT"), "zh": ("zh_CN", "zh_HK", "zh_TW")}
"""Languages Meta lists only with a region; the first is taken for a job queued without a configured code."""


def template_language(language: str | None, configured: Mapping[str, str]) -> str:
    """The code to send a template in: the configured one for `language`, else its bare code (a region-only language's
    first region), else English."""
    language = language or "en"
    if language in configured:
        return configured[language]
    return REGION_ONLY[language][0] if language in REGION_ONLY else language
