"""Locally, Zendesk and Salesforce are sandboxes unless real credentials are given; deployed, always the real ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from socialdesk.composition.desk import build_desk
from socialdesk.composition.process import _crm, missing_credentials
from socialdesk.crm.salesforce import SalesforceCrm
from socialdesk.crm.sandbox import SandboxCrm
from socialdesk.desk.sandbox import SandboxDesk
from socialdesk.desk.zendesk import ZendeskDesk
from socialdesk.ports.secrets import SecretMissingError
from socialdesk.rules import load_rules
from tests.support.fakes import FakeSecrets

if TYPE_CHECKING:
    from pathlib import Path

    from socialdesk.rules import RulesConfig

ZENDESK = {"zendesk_email": "bot@acme.example", "zendesk_api_token": "token"}
SALESFORCE = {"salesforce_consumer_key": "3MVG9", "salesforce_consumer_secret": "s3cret"}


@pytest.fixture
def rules(tmp_path: Path) -> RulesConfig:
    path = tmp_path / "socialdesk.toml"
    salesforce = 'auth = "client_credentials"\nlogin_domain = "acme.my"\ncontact_external_id_field = "Handle__c"\n'
    path.write_text(f'[zendesk]\nsubdomain = "acme"\n[salesforce]\n{salesforce}')
    return load_rules(path)


def test_a_local_run_without_credentials_uses_both_sandboxes(rules: RulesConfig, tmp_path: Path) -> None:
    secret = FakeSecrets(current={})
    assert isinstance(build_desk(rules, secret, tmp_path), SandboxDesk)
    assert isinstance(_crm(rules, secret, tmp_path), SandboxCrm)


def test_a_local_run_with_zendesk_credentials_talks_to_zendesk_and_keeps_the_salesforce_sandbox(rules: RulesConfig, tmp_path: Path) -> None:
    secret = FakeSecrets(current=ZENDESK)
    assert isinstance(build_desk(rules, secret, tmp_path), ZendeskDesk)
    assert isinstance(_crm(rules, secret, tmp_path), SandboxCrm)


def test_a_local_run_with_salesforce_credentials_talks_to_salesforce(rules: RulesConfig, tmp_path: Path) -> None:
    assert isinstance(_crm(rules, FakeSecrets(current=SALESFORCE), tmp_path), SalesforceCrm)


def test_a_deployed_stack_never_falls_back_to_a_sandbox(rules: RulesConfig) -> None:
    # Given no sandbox folder (the template never sets one) and a CRM secret without the Zendesk token
    with pytest.raises(SecretMissingError, match="zendesk_email"):
        build_desk(rules, FakeSecrets(current={}), None)


@pytest.mark.parametrize(
    ("given", "local", "missing"),
    [
        ({}, False, ["zendesk_email", "zendesk_api_token", "salesforce_consumer_key", "salesforce_consumer_secret"]),
        ({"zendesk_oauth_token": "oauth", **SALESFORCE}, False, []),
        ({}, True, []),
        ({"zendesk_api_token": "token"}, True, ["zendesk_email"]),
        ({"zendesk_oauth_token": "oauth", "salesforce_consumer_key": "3MVG9"}, True, ["salesforce_consumer_secret"]),
    ],
    ids=["deployed, unfilled", "OAuth instead of email and token", "local, sandboxes", "local, half of Zendesk's", "local, half of Salesforce's"],
)
def test_every_missing_credential_is_named_at_once_zendesk_first(
    rules: RulesConfig, tmp_path: Path, given: dict[str, str], local: bool, missing: list[str]
) -> None:
    """Given a CRM secret holding some keys, deployed (no sandbox folder) or in a local run
    When the keys the rules need are checked before any client is built
    Then every blank one is named in one list, the helpdesk's before the CRM's; a sandbox needs none, and a Zendesk
    OAuth token stands for the email and API token."""
    assert missing_credentials(rules, FakeSecrets(current=given), tmp_path if local else None) == missing
