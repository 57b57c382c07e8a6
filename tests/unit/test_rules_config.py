"""The rules file: what operators may write, and every mistake reported with where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.model import Platform
from socialdesk.rules import RulesError, load_rules

REPO_RULES = Path(__file__).resolve().parents[2] / "config" / "socialdesk.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "socialdesk.toml"
    path.write_text(text)
    return path


def test_the_shipped_rules_file_is_valid() -> None:
    rules = load_rules(REPO_RULES)
    assert rules.salesforce is not None
    assert rules.salesforce.contact_external_id_field == "Social_Handle__c"


def test_platform_overrides_replace_only_what_they_set(tmp_path: Path) -> None:
    rules = load_rules(
        write(
            tmp_path,
            '[zendesk]\nsubdomain = "acme"\n[zendesk.ticket]\npriority = "normal"\ngroup_id = 1\ntags = ["social"]\n'
            "[zendesk.platforms.whatsapp]\ngroup_id = 2\n",
        )
    )
    whatsapp, x = rules.zendesk.ticket_defaults(Platform.WHATSAPP), rules.zendesk.ticket_defaults(Platform.X)
    assert (whatsapp.group_id, whatsapp.priority, whatsapp.tags) == (2, "normal", ("social",))
    assert x.group_id == 1
    assert rules.salesforce is None  # no [salesforce] section: Zendesk alone


def test_every_problem_is_reported_with_its_location(tmp_path: Path) -> None:
    path = write(tmp_path, '[zendesk]\nsubdomain = "Acme Corp"\n[zendesk.ticket]\npriority = "asap"\n[salesforce]\nmode = "crm"\nextra = 1\n')
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert raised.value.problems == [
        "zendesk.subdomain: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
        "zendesk.ticket.priority: Input should be 'low', 'normal', 'high' or 'urgent'",
        "salesforce.contact_external_id_field: Field required",
        "salesforce.mode: Input should be 'task' or 'social'",
        "salesforce.extra: Extra inputs are not permitted",
    ]


@pytest.mark.parametrize(
    ("salesforce", "problem"),
    [
        ('api_version = "45.0"', "salesforce.api_version: must be 46.0 or later"),
        ('auth = "client_credentials"\nlogin_domain = "login"', 'salesforce.login_domain: auth = "client_credentials" needs your My Domain'),
        ('auth = "client_credentials"', 'salesforce.login_domain: auth = "client_credentials" needs your My Domain'),
    ],
    ids=["old-api", "client-credentials-on-login", "client-credentials-by-default"],
)
def test_salesforce_settings_that_cannot_work_are_refused(tmp_path: Path, salesforce: str, problem: str) -> None:
    path = write(tmp_path, f'[zendesk]\nsubdomain = "acme"\n[salesforce]\ncontact_external_id_field = "Social_Handle__c"\n{salesforce}\n')
    with pytest.raises(RulesError, match=problem):
        load_rules(path)


def test_a_setting_that_cannot_work_is_reported_in_the_same_pass_as_every_other_problem(tmp_path: Path) -> None:
    # Given an api_version too old, client credentials on the generic login domain, and two plain mistakes beside them
    path = write(
        tmp_path,
        '[zendesk]\nsubdomain = "Acme"\n[salesforce]\nauth = "client_credentials"\napi_version = "40.0"\nmode = "crm"\n',
    )
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    # Then all of them come at once, each under its own key
    assert raised.value.problems == [
        "zendesk.subdomain: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
        'salesforce.login_domain: auth = "client_credentials" needs your My Domain here (e.g. `acme.my`), not login',
        "salesforce.api_version: must be 46.0 or later",
        "salesforce.contact_external_id_field: Field required",
        "salesforce.mode: Input should be 'task' or 'social'",
    ]


def test_key_paths_are_written_as_in_toml(tmp_path: Path) -> None:
    # Given mistakes in a list item, in a table's key and in a key that needs quotes
    path = write(
        tmp_path,
        '[zendesk]\nsubdomain = "acme"\n[zendesk.ticket]\ncustom_fields = [{ id = 0, value = 1 }]\n[zendesk.platforms.tiktok]\n'
        '[salesforce]\ncontact_external_id_field = "H__c"\ncontact_fields = { "Lead Source" = "x" }\n',
    )
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert [problem.partition(": ")[0] for problem in raised.value.problems] == [
        "zendesk.ticket.custom_fields[0].id",
        "zendesk.platforms.tiktok (the key)",
        'salesforce.contact_fields."Lead Source" (the key)',
    ]


@pytest.mark.parametrize(("make", "problem"), [("directory", "a directory, not a rules file"), ("latin-1", "not UTF-8 text")])
def test_a_file_that_cannot_be_read_is_unreadable_not_invalid(tmp_path: Path, make: str, problem: str) -> None:
    path = tmp_path / "socialdesk.toml"
    if make == "directory":
        path.mkdir()
    else:
        path.write_bytes('[zendesk]\nsubdomain = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert raised.value.unreadable
    assert raised.value.problems[0].startswith(problem)


@pytest.mark.parametrize(("app_id", "problem"), [("", "must be set to acknowledge messenger"), ('meta_app_id = "app-1"\n', "String should match")])
def test_acknowledging_messenger_needs_a_valid_meta_app_id(tmp_path: Path, app_id: str, problem: str) -> None:
    """Given rules that acknowledge Messenger direct messages, without a Meta app id or with one that is no number
    When they are loaded
    Then they are refused at acknowledgement.meta_app_id: without it our own echoes would read as a person's answers."""
    channels = '[acknowledgement.channels]\nmessenger = { direct_message = "direct_message" }\n'
    text = f'[zendesk]\nsubdomain = "acme"\n[acknowledgement]\n{app_id}{channels}'
    with pytest.raises(RulesError) as raised:
        load_rules(write(tmp_path, text))
    assert any(line.startswith("acknowledgement") and problem in line for line in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(
    ("languages", "problem"),
    [
        ("", "must say which region the template was approved in: pt = one of pt_BR, pt_PT"),
        ('whatsapp_template_languages = { pt = "es_ES" }\n', "es_ES is no code of pt"),
    ],
)
def test_a_whatsapp_template_for_portuguese_needs_the_region_it_was_approved_in(tmp_path: Path, languages: str, problem: str) -> None:
    """Given rules with a WhatsApp template and a Portuguese acknowledgement, without a template language for pt, or a wrong one
    When they are loaded
    Then they are refused: WhatsApp knows Portuguese templates only as pt_BR or pt_PT (its supported-languages list)."""
    templates = '[acknowledgement.templates]\nen = "Hi"\npt = "Olá"\n'
    text = f'[zendesk]\nsubdomain = "acme"\n[acknowledgement]\nwhatsapp_template = "ticket_received"\n{languages}{templates}'
    with pytest.raises(RulesError) as raised:
        load_rules(write(tmp_path, text))
    assert any(problem in line for line in raised.value.problems), raised.value.problems
