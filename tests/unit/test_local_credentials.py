"""A team tries real Zendesk and Salesforce sandboxes locally by giving credentials in a file or the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from socialdesk.local.credentials import CredentialsError, local_credentials

if TYPE_CHECKING:
    from pathlib import Path


def test_no_file_and_no_variables_means_the_sandboxes(tmp_path: Path) -> None:
    assert local_credentials(tmp_path / "credentials.toml", {}) == {}


def test_file_values_are_used_and_a_variable_overrides_its_key(tmp_path: Path) -> None:
    # Given a credentials file and one SOCIALDESK_CRM_ variable
    path = tmp_path / "credentials.toml"
    path.write_text('zendesk_email = "bot@acme.example"\nzendesk_api_token = "from-file"\n')
    # When the local stack reads them
    values = local_credentials(path, {"SOCIALDESK_CRM_ZENDESK_API_TOKEN": "from-env", "UNRELATED": "x"})
    # Then the variable wins for its key and the file supplies the rest
    assert values == {"zendesk_email": "bot@acme.example", "zendesk_api_token": "from-env"}


def test_empty_values_do_not_switch_a_backend_to_real(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('salesforce_consumer_key = ""\n')
    assert local_credentials(path, {"SOCIALDESK_CRM_ZENDESK_API_TOKEN": ""}) == {}


def test_the_salesforce_private_key_can_be_a_pem_file_beside_the_credentials(tmp_path: Path) -> None:
    # Given a JWT key kept in its own file, named relative to the credentials file
    (tmp_path / "server.key").write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    path = tmp_path / "credentials.toml"
    path.write_text('salesforce_consumer_key = "3MVG9"\nsalesforce_username = "ops@acme.example"\nsalesforce_private_key_file = "server.key"\n')
    # Then the key's text is what the Salesforce adapter gets
    assert local_credentials(path, {})["salesforce_private_key"].startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('zendesk_token = "abc"\n', "unknown keys ['zendesk_token']"),
        ("zendesk_email = \n", "not valid TOML"),
        ('salesforce_private_key_file = "missing.key"\n', "missing.key not found"),
    ],
    ids=["misspelt key", "broken TOML", "missing key file"],
)
def test_a_credentials_file_that_cannot_be_used_is_refused_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(content)
    with pytest.raises(CredentialsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        local_credentials(path, {})


@pytest.mark.parametrize(("make", "problem"), [("directory", "a directory, not a file"), ("latin-1", "not UTF-8 text")])
def test_a_credentials_file_that_cannot_be_read_says_why(tmp_path: Path, make: str, problem: str) -> None:
    path = tmp_path / "credentials.toml"
    if make == "directory":
        path.mkdir()
    else:
        path.write_bytes('zendesk_email = "caf\u00e9@acme.example"\n'.encode("latin-1"))
    with pytest.raises(CredentialsError, match=f"^{path}: {problem}$"):  # the path said once
        local_credentials(path, {})


def test_a_credentials_file_nested_too_deeply_for_toml_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text("zendesk_email = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(CredentialsError, match=f"^{path}: cannot be read as TOML: its arrays or tables are nested too deeply$"):
        local_credentials(path, {})
