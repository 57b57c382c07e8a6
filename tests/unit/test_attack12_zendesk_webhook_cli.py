"""Attack on `socialdesk zendesk webhook URL` (README: exit 2 for anything but an `https://…/webhooks/zendesk` address):
addresses that end right but name no host."""

from __future__ import annotations

import pytest

from socialdesk.cli import main


@pytest.mark.parametrize(
    "endpoint",
    [
        "https:///webhooks/zendesk",  # no host at all
        "https://user@/webhooks/zendesk",  # credentials and no host
        "https://[::1/webhooks/zendesk",  # an unclosed IPv6 literal
    ],
)
def test_an_address_that_ends_like_the_route_but_names_no_host_is_a_usage_error(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Given an https address ending in /webhooks/zendesk but with no usable host, when the command runs, then exit 2 and
    nothing printed (no webhook JSON an admin would paste into Zendesk)."""
    assert main(["zendesk", "webhook", endpoint]) == 2
    assert capsys.readouterr().out == ""
