"""The rules file: how conversations become Zendesk tickets and Salesforce activity.

Rules are configuration (architecture principle 5): one TOML file, versioned with the
stack and validated before it is deployed (`socialdesk config check`). pydantic,
because an operator needs every problem in the file reported at once with its
location, not the first one. Only functions that call Zendesk or Salesforce load
this module, so its import cost stays off the ingest path.
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialdesk.model import Platform

if TYPE_CHECKING:
    from pathlib import Path

ZendeskPriority = Literal["low", "normal", "high", "urgent"]
ZendeskTicketType = Literal["problem", "incident", "question", "task"]
ZendeskId = Annotated[int, Field(gt=0)]
SalesforceFieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=80)]


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

    login_domain: str = Field(
        default="login",
        description="`login`, `test` (sandbox) or your My Domain prefix such as `acme.my`; client credentials need My Domain",
    )
    auth: Literal["jwt", "client_credentials"] = "jwt"
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

    @model_validator(mode="after")
    def _api_version_answers_upserts_with_a_body(self) -> SalesforceRules:
        # Before v46 an upsert that updates answers 204 without the record id, which a Composite reference needs.
        if float(self.api_version) < 46:
            raise ValueError("api_version must be 46.0 or later")
        return self

    @model_validator(mode="after")
    def _client_credentials_need_my_domain(self) -> SalesforceRules:
        if self.auth == "client_credentials" and self.login_domain in ("login", "test"):
            raise ValueError("client_credentials authentication needs your My Domain in login_domain (e.g. `acme.my`), not login/test")
        return self


class RulesConfig(Rules):
    zendesk: ZendeskRules
    salesforce: SalesforceRules | None = None


class RulesError(Exception):
    """The rules file is missing, not TOML, or invalid; `problems` lists each one with its location."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


def load_rules(path: Path) -> RulesConfig:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesError(path, ["file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(path, [f"not valid TOML: {exc}"]) from exc
    try:
        return RulesConfig.model_validate(document)
    except ValidationError as exc:
        raise RulesError(path, [_describe(error) for error in exc.errors()]) from exc


def _describe(error: object) -> str:
    assert isinstance(error, dict)
    location = ".".join(str(part) for part in error.get("loc", ())) or "(top level)"
    return f"{location}: {error.get('msg')}"
