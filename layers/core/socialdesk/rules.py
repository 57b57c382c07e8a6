"""The rules file: how conversations become Zendesk tickets and Salesforce activity.

Rules are configuration (architecture principle 5): one TOML file, versioned with the
stack and validated before it is deployed (`socialdesk config check`). pydantic,
because an operator needs every problem in the file reported at once with its
location, not the first one. Only functions that call Zendesk or Salesforce load
this module, so its import cost stays off the ingest path.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from socialdesk.model import Platform
from socialdesk.platforms.whatsapp_templates import REGION_ONLY, TEMPLATE_CODE_PATTERN

if TYPE_CHECKING:
    from pathlib import Path

ZendeskPriority = Literal["low", "normal", "high", "urgent"]
ZendeskTicketType = Literal["problem", "incident", "question", "task"]
ZendeskId = Annotated[int, Field(gt=0)]
SalesforceFieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]
# config/socialdesk.toml ships with it: valid, so `socialdesk local` runs on sandboxes, but no real Zendesk answers there.
PLACEHOLDER_SUBDOMAIN = "your-subdomain"


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomFieldValue(Rules):
    id: ZendeskId
    value: str | int | float | bool


class TicketDefaults(Rules):
    """Ticket properties; per-platform overrides replace any field they set."""

    priority: ZendeskPriority | None = None
    type: ZendeskTicketType | None = None
    group_id: ZendeskId | None = None
    brand_id: ZendeskId | None = None
    tags: tuple[str, ...] = ()
    custom_fields: tuple[CustomFieldValue, ...] = ()


class ContextFields(Rules):
    """Ids of ticket fields that receive the social context. Unset means: write it in an internal note instead."""

    platform: ZendeskId | None = None
    profile_url: ZendeskId | None = None
    follower_count: ZendeskId | None = None
    verified: ZendeskId | None = None
    permalink: ZendeskId | None = None
    language: ZendeskId | None = None
    customer_id: ZendeskId | None = None

    def configured(self) -> bool:
        return any(value is not None for value in self.model_dump().values())


class InfluencerPriority(Rules):
    """Customers with at least `min_followers` get `priority` on their new tickets."""

    min_followers: Annotated[int, Field(ge=1)]
    priority: ZendeskPriority


class ZendeskRules(Rules):
    subdomain: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    domain: str = "zendesk.com"
    timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 10
    ticket: TicketDefaults = TicketDefaults()
    platforms: dict[Platform, TicketDefaults] = {}
    context_fields: ContextFields = ContextFields()
    influencer: InfluencerPriority | None = None

    def ticket_defaults(self, platform: Platform) -> TicketDefaults:
        override = self.platforms.get(platform)
        if override is None:
            return self.ticket
        return self.ticket.model_copy(update=override.model_dump(exclude_defaults=True))

    def agent_url(self, ticket_id: int) -> str:
        return f"https://{self.subdomain}.{self.domain}/agent/tickets/{ticket_id}"


class SalesforceRules(Rules):
    """Present to record activity in Salesforce; leave the [salesforce] section out to use Zendesk alone."""

    # Every check is a field validator, so each problem is reported with its own key, all in one pass
    # (a model validator runs only once every field is valid, and reports at the section).
    auth: Literal["jwt", "client_credentials"] = "jwt"
    login_domain: str = Field(
        default="login",
        validate_default=True,
        description="`login`, `test` (sandbox) or your My Domain prefix such as `acme.my`; client credentials need My Domain",
    )
    api_version: Annotated[str, Field(pattern=r"^\d{2}\.0$")] = "62.0"
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10
    contact_external_id_field: SalesforceFieldName = Field(
        description="Contact field holding `<platform>:<user id>`; it must be External ID and Unique, or concurrent upserts duplicate contacts",
    )
    contact_fields: dict[SalesforceFieldName, str] = Field(default={}, description="static values set on contacts socialdesk creates")
    task_event_key_field: SalesforceFieldName | None = Field(
        default=None,
        description="optional text field on Activity holding the event key, so a retry after a crash finds the Task it already created",
    )
    task_type: str | None = None
    mode: Literal["task", "social"] = Field(
        default="task",
        description="`social` writes SocialPersona and SocialPost (Social Customer Service), falling back to Contact + Task on 404",
    )
    limit_backoff_seconds: Annotated[int, Field(ge=60, le=43200)] = 900

    @field_validator("api_version")
    @classmethod
    def _api_version_answers_upserts_with_a_body(cls, value: str) -> str:
        # Before v46 an upsert that updates answers 204 without the record id, which a Composite reference needs.
        if float(value) < 46:
            raise ValueError("must be 46.0 or later")
        return value

    @field_validator("login_domain")
    @classmethod
    def _client_credentials_need_my_domain(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("auth") == "client_credentials" and value in ("login", "test"):
            raise ValueError(f'auth = "client_credentials" needs your My Domain here (e.g. `acme.my`), not {value}')
        return value


LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
TagName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=60)]
SEVEN_LANGUAGES = ("en", "ko", "ja", "es", "fr", "de", "pt")


class PrioritySignals(Rules):
    """The Zendesk priority each signal gives; unset: that signal raises nothing. Followers: `zendesk.influencer`."""

    vip: ZendeskPriority | None = "urgent"
    verified: ZendeskPriority | None = None
    negative: ZendeskPriority | None = "high"
    urgent_keywords: ZendeskPriority | None = "urgent"


# A group holding an unbounded quantifier, itself repeated without bound: `(a+)+`, `(\w+\s?)*`, `(.*){2,}`. Their
# backtracking is exponential in the text; a heuristic (it does not parse the expression), as the usual ReDoS linters do.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[*+]|\{\d*,\})(?:[^()\\]|\\.)*\)(?:[*+]|\{\d*,\})")


class Intent(Rules):
    """A question customers ask often: detected by keywords (at a word start; anywhere in Korean, Japanese, Chinese) or regular
    expressions (Python syntax, matched case-insensitively), per language; a key `any` applies to every language."""

    name: TagName
    keywords: dict[str, tuple[str, ...]] = {}
    patterns: dict[str, tuple[str, ...]] = {}

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for language, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{language}: {pattern!r} is not a regular expression: {exc}") from exc
                if _NESTED_QUANTIFIER.search(pattern):
                    raise ValueError(f"{language}: {pattern!r} repeats a repetition, which takes exponential time on hostile text: write it flat")
        return value


class ClassificationRules(Rules):
    """Present to classify each customer message (language, sentiment, priority, intents) before its ticket is written."""

    languages: Annotated[tuple[LanguageCode, ...], Field(min_length=1)] = SEVEN_LANGUAGES
    fallback_language: LanguageCode = "en"
    confidence_floor: Annotated[float, Field(ge=0, le=1)] = 0.3
    sentiment: Literal["offline", "comprehend"] = "offline"
    negative_keywords: dict[str, tuple[str, ...]] = {}
    urgent_keywords: dict[str, tuple[str, ...]] = {}
    vip: tuple[Annotated[str, Field(pattern=r"^(x|facebook|instagram|messenger|whatsapp):@?\S+$")], ...] = Field(
        default=(), description="`<platform>:<user id>` or `<platform>:@<handle>`"
    )
    priority: PrioritySignals = PrioritySignals()
    intents: tuple[Intent, ...] = ()

    @field_validator("fallback_language")
    @classmethod
    def _fallback_is_configured(cls, value: str, info: ValidationInfo) -> str:
        if value not in info.data.get("languages", (value,)):
            raise ValueError(f"{value} is not one of classification.languages")
        return value


ChannelChoice = Literal["public_reply", "private_reply", "direct_message", "none"]
MessageKindName = Literal["post", "reply", "comment", "direct_message"]
_INTERVAL = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# The outbound queue carries the delay as SQS DelaySeconds, which tops out at 15 minutes.
DelaySeconds = Annotated[int, Field(ge=0, le=900)]
PerLanguage = dict[LanguageCode, Annotated[str, Field(min_length=1)]]


class CalendarRules(Rules):
    """Business hours: an IANA time zone, opening intervals per weekday (several a day), a country's public holidays
    (the `holidays` package; ISO 3166 code, optional subdivision) plus explicit closed dates; or `always_open` (24/7)."""

    zone: str = "UTC"
    hours: dict[Weekday, tuple[Annotated[str, Field(pattern=_INTERVAL)], ...]] = {}
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    subdivision: str | None = None
    closed: tuple[date, ...] = ()
    always_open: bool = False

    @field_validator("zone")
    @classmethod
    def _zone_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _intervals_end_after_they_start(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, intervals in value.items():
            for interval in intervals:
                start, _, end = interval.partition("-")
                if end != "24:00" and end <= start:
                    raise ValueError(f"{day}: {interval} ends before it starts (use 24:00 for midnight)")
        return value


class AcknowledgementRules(Rules):
    """Automatic messages on the platform: an acknowledgement in the customer's language, or the answer to a recognised
    question (`answers`, by intent). At most one per conversation per `window_hours`, always disclosed as automated."""

    enabled: bool = True
    window_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24
    channels: dict[Platform, dict[MessageKindName, ChannelChoice]] = {}
    """Per platform and message kind: where the automatic message goes; unset: none."""
    fallback_language: LanguageCode = "en"
    calendar: str | None = None
    """The `[calendars.<name>]` whose hours decide between `templates` and `closed_templates`; unset: always open."""
    templates: PerLanguage = {}
    closed_templates: PerLanguage = {}
    intent_templates: dict[TagName, PerLanguage] = {}
    """An acknowledgement worded for an intent (no answer configured for it), per language."""
    answers: dict[TagName, PerLanguage] = {}
    """Self-service: the real answer (FAQ) to an intent, per language; the ticket is still opened, tagged auto_answered."""
    reach_person: PerLanguage = {}
    """Appended to every answer: how to reach a person."""
    disclosure: PerLanguage = {}
    """Appended to every automatic message: "Automated reply" in the customer's language."""
    response_time: PerLanguage = {}
    """`{response_time}` during business hours."""
    closed_response_time: PerLanguage = {}
    """`{response_time}` outside business hours; `{opens}` in it is the next opening, local time."""
    x_handles: tuple[Annotated[str, Field(pattern=r"^@?\w{1,15}$")], ...] = ()
    """The brand's X handles: a public reply on X only to posts that mention one (self-serve apps are refused otherwise)."""
    x_dm_fallback: bool = False
    """When X refuses a public reply because the customer did not summon the brand (403), send a DM instead; false: a
    note on the ticket says why nothing was sent."""
    meta_app_id: Annotated[str, Field(pattern=r"^\d{1,20}$")] | None = None
    """socialdesk's Meta app id (the app dashboard's App ID): a Messenger or Instagram echo carrying it (`app_id`) is our
    own send even when its message id was never recorded (a lost answer); another app's or none is a person's. Required
    when Messenger or Instagram direct messages are acknowledged."""
    whatsapp_template: str | None = None
    """A pre-approved WhatsApp template for outside the 24-hour window; unset: nothing is sent there."""
    whatsapp_template_languages: dict[LanguageCode, Annotated[str, Field(pattern=TEMPLATE_CODE_PATTERN)]] = {}
    """The WhatsApp language code the template was approved in, per reply language (`pt = "pt_BR"`); unset for a
    language: its bare code (`es`). Required for a language WhatsApp knows only by region (Portuguese, Chinese)."""
    delay_seconds: DelaySeconds = 0
    """Wait this long before sending, and send nothing if a person answered meanwhile (0: send at once)."""
    delays: dict[Platform, dict[MessageKindName, DelaySeconds]] = {}
    """Per platform and message kind: a delay that replaces `delay_seconds` there."""

    def delay_for(self, platform: Platform, kind: str) -> int:
        return next((delay for name, delay in self.delays.get(platform, {}).items() if name == kind), self.delay_seconds)

    @model_validator(mode="after")
    def _template_languages_whatsapp_has(self) -> AcknowledgementRules:
        for language, code in self.whatsapp_template_languages.items():
            if code.partition("_")[0] != language:
                raise ValueError(f"whatsapp_template_languages.{language}: {code} is no code of {language}")
        if self.whatsapp_template is not None:
            regional = sorted(language for language in set(self.templates) & set(REGION_ONLY) if language not in self.whatsapp_template_languages)
            if regional:
                options = "; ".join(f"{language} = one of {', '.join(REGION_ONLY[language])}" for language in regional)
                raise ValueError(f"whatsapp_template_languages must say which region the template was approved in: {options}")
        return self

    @model_validator(mode="after")
    def _meta_app_id_for_meta_messages(self) -> AcknowledgementRules:
        direct = (self.channels.get(platform, {}).get("direct_message", "none") for platform in (Platform.MESSENGER, Platform.INSTAGRAM))
        meta = [str(platform) for platform, choice in zip((Platform.MESSENGER, Platform.INSTAGRAM), direct, strict=True) if choice != "none"]
        if meta and self.meta_app_id is None:
            raise ValueError(
                f"meta_app_id must be set to acknowledge {' and '.join(meta)} direct messages: it tells the echoes of our own sends from a person's"
            )
        return self

    @field_validator("templates")
    @classmethod
    def _fallback_has_a_template(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        fallback = info.data.get("fallback_language")
        if value and fallback not in value:
            raise ValueError(f"no template for the fallback language {fallback}")
        return value


class ReplyRules(Rules):
    """Agents' replies from Zendesk, carried to the customer by the outbound function (README, Agent replies)."""

    x_links: Literal["send", "strip", "refuse"] = "refuse"
    """A public X reply holding a link costs 20 x a plain one ($0.200 against $0.010: X API pricing): send it as it is,
    send it without the link, or send nothing and tell the agent in a note."""
    human_agent_accounts: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    """Messenger Page ids and Instagram account ids whose app has Meta's Human Agent permission: their replies go out
    with the `HUMAN_AGENT` tag up to 7 days after the customer's last message (without it: 24 hours)."""
    whatsapp_template: str | None = None
    """A pre-approved WhatsApp template sent instead of the agent's text outside the 24-hour window (the note says so);
    unset: nothing is sent there and the note says why."""
    whatsapp_template_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "en"


class EscalationStep(Rules):
    """One rung of the ladder: reached `after_minutes` (wall time) past the previous rung, level 1 at the breach itself.

    Every level tags the ticket (`sla_breached` at level 1, `sla_level_<n>` from level 2) and writes an internal note."""

    after_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0
    priority: ZendeskPriority | None = None
    """Raise the ticket to this priority (never lowers it)."""
    group_id: ZendeskId | None = None
    """Reassign the ticket to this Zendesk group."""
    alert: bool = False
    """Publish an alert on the SLA alert topic (SNS)."""
    tags: tuple[TagName, ...] = ()
    note: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    """The internal note's words; `{level}`, `{due}` and `{target}` are filled in. Unset: a standard sentence."""


class SlaPolicy(Rules):
    """Response targets for the conversations it matches (empty lists match everything), first matching policy wins."""

    name: TagName
    platforms: tuple[Platform, ...] = ()
    kinds: tuple[MessageKindName, ...] = ()
    priorities: tuple[ZendeskPriority, ...] = ()
    first_response_minutes: Annotated[int, Field(ge=1, le=30 * 24 * 60)]
    next_response_minutes: Annotated[int, Field(ge=1, le=30 * 24 * 60)]
    calendar: str | None = None
    """The `[calendars.<name>]` whose open hours the clock counts; unset: round the clock."""
    ladder: Annotated[tuple[EscalationStep, ...], Field(min_length=1, max_length=9)]

    @field_validator("ladder")
    @classmethod
    def _later_levels_wait(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        if any(step.after_minutes == 0 for step in value[1:]):
            raise ValueError("every level after the first needs after_minutes > 0")
        return value

    def matches(self, platform: str, kind: str, priority: str | None) -> bool:
        return (
            (not self.platforms or platform in self.platforms)
            and (not self.kinds or kind in self.kinds)
            and (not self.priorities or priority in self.priorities)
        )


class SlaRules(Rules):
    """Present to run the response clock: targets per platform, kind and priority, and what happens when one is missed."""

    policies: Annotated[tuple[SlaPolicy, ...], Field(min_length=1)]
    window_warning_minutes: Annotated[int, Field(ge=1, le=23 * 60)] | None = 120
    """Flag a WhatsApp or Messenger conversation still unanswered this long before its 24-hour window closes; unset: never."""
    due_at_field: ZendeskId | None = None
    """A Zendesk text ticket field that shows when the response is due (ISO 8601, UTC), emptied once answered; unset: none."""

    def policy_for(self, platform: str, kind: str, priority: str | None) -> SlaPolicy | None:
        return next((policy for policy in self.policies if policy.matches(platform, kind, priority)), None)


class RulesConfig(Rules):
    zendesk: ZendeskRules
    salesforce: SalesforceRules | None = None
    classification: ClassificationRules | None = None
    calendars: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")], CalendarRules] = {}
    acknowledgement: AcknowledgementRules | None = None
    replies: ReplyRules = ReplyRules()
    sla: SlaRules | None = None

    @field_validator("sla")
    @classmethod
    def _sla_calendars_are_defined(cls, value: SlaRules | None, info: ValidationInfo) -> SlaRules | None:
        known = info.data.get("calendars", {})
        for policy in value.policies if value is not None else ():
            if policy.calendar is not None and policy.calendar not in known:
                raise ValueError(f"policy {policy.name}: calendar {policy.calendar!r} is not one of [calendars.*]")
        return value

    @field_validator("acknowledgement")
    @classmethod
    def _calendar_is_defined(cls, value: AcknowledgementRules | None, info: ValidationInfo) -> AcknowledgementRules | None:
        if value is None:
            return value
        if value.calendar is not None and value.calendar not in info.data.get("calendars", {}):
            raise ValueError(f"calendar {value.calendar!r} is not one of [calendars.*]")
        classification = info.data.get("classification")
        known = {intent.name for intent in classification.intents} if classification is not None else set()
        if unknown := sorted((set(value.answers) | set(value.intent_templates)) - known):
            raise ValueError(f"answers or intent_templates for {', '.join(unknown)}: not a classification.intents name (nothing would select it)")
        return value


class RulesError(Exception):
    """The rules file is unreadable (missing, a directory, not UTF-8 or not TOML) or invalid; `problems` lists each one with its key."""

    def __init__(self, path: Path, problems: list[str], *, unreadable: bool = False) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems
        self.unreadable = unreadable


_TOO_DEEP = "cannot be read as TOML: its arrays or tables are nested too deeply"


def load_rules(path: Path) -> RulesConfig:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesError(path, ["file not found"], unreadable=True) from exc
    except IsADirectoryError as exc:
        raise RulesError(path, ["a directory, not a rules file"], unreadable=True) from exc
    except OSError as exc:
        raise RulesError(path, [f"cannot be read: {exc.strerror or exc}"], unreadable=True) from exc
    except UnicodeDecodeError as exc:
        raise RulesError(path, [f"not UTF-8 text: {exc.reason} at byte {exc.start}"], unreadable=True) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(path, [f"not valid TOML: {exc}"], unreadable=True) from exc
    except RecursionError as exc:  # tomllib recurses once per nested array or inline table
        raise RulesError(path, [_TOO_DEEP], unreadable=True) from exc
    try:
        return RulesConfig.model_validate(document)
    except ValidationError as exc:
        raise RulesError(path, [_describe(error) for error in exc.errors()]) from exc


def placeholder_warnings(rules: RulesConfig) -> list[str]:
    """Valid values that still cannot reach a real system: the shipped placeholders."""
    if rules.zendesk.subdomain == PLACEHOLDER_SUBDOMAIN:
        return [f'zendesk.subdomain: "{PLACEHOLDER_SUBDOMAIN}" is the shipped placeholder; set your Zendesk subdomain before deploying']
    return []


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _describe(error: object) -> str:
    """`salesforce.api_version: must be 46.0 or later`: the key as it is written in TOML, then what is wrong."""
    assert isinstance(error, dict)
    location, is_key = "", False
    for part in error.get("loc", ()):
        if part == "[key]":
            is_key = True
        elif isinstance(part, int):
            location += f"[{part}]"
        else:
            name = str(part) if _BARE_KEY.match(str(part)) else json.dumps(str(part))  # quoted as TOML quotes it
            location += f".{name}" if location else name
    message = str(error.get("msg")).removeprefix("Value error, ")
    return f"{location or '(top level)'}{' (the key)' if is_key else ''}: {message}"
