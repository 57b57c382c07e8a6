"""Attack (issue 7, item 7 and the fault suite's last promise): no Zendesk call before a Retry-After expired, in any container.

Each container reads the shared pause once, when its batch begins (`begin_batch`). Up to ProcessMaxConcurrency
containers work at once; one that began its batch a moment before another got a 429 goes on calling Zendesk for the
rest of its batch. The fault suite never sees it: its containers run their batches one after the other.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from socialdesk.desk.port import DeskRateLimitedError
from socialdesk.process.failures import WaitError
from tests.support.events import sample_event
from tests.support.process_world import World


def test_a_container_mid_batch_makes_no_zendesk_call_during_a_retry_after_another_container_received() -> None:
    # Given two process containers that each began a batch at the same moment (two concurrent Lambda invocations)
    world = World()
    container_a, container_b = world.process, world.fresh_process()
    container_a.begin_batch()
    container_b.begin_batch()
    # When container A's first event is answered 429 with Retry-After 60
    world.desk.failures.add("upsert_user", DeskRateLimitedError(60))
    with pytest.raises(WaitError):
        container_a.handle(sample_event("meta-whatsapp-text"), delivery_id="sqs-a")
    calls_when_limited = world.desk.http_calls
    # And a second later container B reaches its next event, of another conversation
    world.now += timedelta(seconds=1)
    with contextlib.suppress(WaitError):
        container_b.handle(sample_event("meta-messenger-message"), delivery_id="sqs-b")
    # Then B waits too: Zendesk is not called again until the Retry-After is over (README: paused for every container)
    assert world.desk.http_calls == calls_when_limited
