"""Real Zendesk or Salesforce credentials for a local run, from a file or environment variables.

Given them, the local stack talks to that system for real (a Zendesk sandbox, a Salesforce
sandbox org); without them, to the local sandbox. The keys are the CRM secret's (README).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

CRM_KEYS = (
    "zendesk_email",
    "zendesk_api_token",
    "zendesk_oauth_token",
    "salesforce_consumer_key",
    "salesforce_username",
    "salesforce_private_key",
    "salesforce_consumer_secret",
)
DEFAULT_FILE = Path(".socialdesk/credentials.toml")
ENV_PREFIX = "SOCIALDESK_CRM_"


class CredentialsError(Exception):
    """The credentials file cannot be used; the message says why."""


def local_credentials(path: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """Values from the file (`salesforce_private_key_file` may name a PEM file), then `SOCIALDESK_CRM_<KEY>` variables."""
    values: dict[str, str] = {}
    if path is not None and path.exists():
        try:
            document = tomllib.loads(_text(path, path))
        except tomllib.TOMLDecodeError as exc:
            raise CredentialsError(f"{path}: not valid TOML: {exc}") from exc
        except RecursionError as exc:  # tomllib recurses once per nested array or inline table
            raise CredentialsError(f"{path}: cannot be read as TOML: its arrays or tables are nested too deeply") from exc
        if key_file := document.pop("salesforce_private_key_file", None):
            key_path = path.parent / str(key_file)
            if not key_path.is_file():
                raise CredentialsError(f"{path}: salesforce_private_key_file {key_path} not found")
            document["salesforce_private_key"] = _text(key_path, path)
        unknown = sorted(set(document) - set(CRM_KEYS))
        if unknown:
            raise CredentialsError(f"{path}: unknown keys {unknown}; allowed: {', '.join(CRM_KEYS)}, salesforce_private_key_file")
        values.update({key: str(value) for key, value in document.items()})
    for key in CRM_KEYS:
        if environ.get(ENV_PREFIX + key.upper()):
            values[key] = environ[ENV_PREFIX + key.upper()]
    return {key: value for key, value in values.items() if value}


def _text(path: Path, named_in: Path) -> str:
    """The text of the credentials file itself (`path` is `named_in`) or of the key file it names; errors name each path once."""
    subject = f"{named_in}:" if path == named_in else f"{named_in}: salesforce_private_key_file {path} is"
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError as exc:
        raise CredentialsError(f"{subject} a directory, not a file") from exc
    except OSError as exc:
        raise CredentialsError(f"{subject} unreadable ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise CredentialsError(f"{subject} not UTF-8 text") from exc
