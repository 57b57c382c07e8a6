"""socialdesk's Messenger send metadata: what it writes on a send is what it recognises on the echo, and nothing else."""

from __future__ import annotations

import pytest

from socialdesk.model.event import Platform
from socialdesk.model.outbound import Channel, JobKind
from socialdesk.platforms.send_metadata import is_our_metadata, send_metadata
from tests.contract.test_graph_sender import job
from tests.support.events import TYPED_ECHO, sample_event


@pytest.mark.parametrize("kind", list(JobKind))
def test_the_metadata_of_every_kind_of_send_is_recognised_on_its_echo(kind: JobKind) -> None:
    """Given a Messenger send of any kind for ticket 4014
    When its metadata comes back on the echo
    Then it says socialdesk sent it."""
    metadata = send_metadata(job(Platform.MESSENGER, Channel.DIRECT_MESSAGE, kind=kind, ticket_id=4014))
    assert metadata.endswith(":ticket-4014")
    assert is_our_metadata(metadata)


@pytest.mark.parametrize("value", [None, "", "order:4411", "ticket-42", 42])
def test_another_apps_metadata_or_none_is_not_ours(value: object) -> None:
    """Given an echo without metadata, or with another app's
    Then it is not taken for socialdesk's own send (a person's reply still stops the clock)."""
    assert not is_our_metadata(value)


def test_the_recorded_echo_of_an_acknowledgement_is_ours_and_a_typed_one_is_not() -> None:
    """Given Meta's sample echo carrying `autoack:ticket-42`, and the same echo as a person types it in the Page inbox
    When normalised
    Then only the first is marked as sent by socialdesk."""
    assert sample_event("meta-messenger-echo").sent_by_us
    assert not sample_event(TYPED_ECHO).sent_by_us
