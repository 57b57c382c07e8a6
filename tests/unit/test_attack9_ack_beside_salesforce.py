"""Attack 9: the automatic message belongs to the Zendesk side (it needs the ticket, not the Task). Run beside Salesforce,
it must not depend on how the Salesforce side ended, nor on which of the two threads finished first."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import requests

from tests.support.process_world import NOW, said
from tests.unit.test_acknowledgement import AckWorld, at_now


def test_a_salesforce_bug_beside_a_follow_up_does_not_hold_back_its_acknowledgement(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the shipped rules, a WhatsApp customer acknowledged yesterday (24-hour window over)
    When they write again and, beside the comment (Zendesk answering a little later), the Salesforce side fails at once
    with something unexpected (an answer cut mid-body, which the adapter does not translate; a bug; the store refusing
    the customer's record)
    Then the comment lands and the new window's acknowledgement is queued in that same try, as it is when the sides run
    one after the other (Zendesk, its automatic message, then Salesforce): a Salesforce failure never blocks the Zendesk
    side. Observed: the acknowledgement is skipped whenever Salesforce fails first; with a lasting bug the event is
    dead-lettered after 10 tries and the customer is never acknowledged."""
    world = AckWorld()
    first = at_now("meta-whatsapp-text")
    world.handle(first)
    assert len(world.outbound.distinct) == 1
    salesforce_failed = threading.Event()
    add_comment = world.desk.add_comment

    def failing_task(*args: Any, **kwargs: Any) -> Any:
        salesforce_failed.set()
        # What the real adapter lets through untranslated when Salesforce's answer is cut mid-body (checked against
        # SalesforceCrm with `responses`): not a CrmError, so the process takes it for the unexpected.
        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(0 bytes read)")

    def slower_comment(*args: Any, **kwargs: Any) -> Any:
        salesforce_failed.wait(timeout=5)
        return add_comment(*args, **kwargs)

    monkeypatch.setattr(world.crm, "record_activity", failing_task)
    monkeypatch.setattr(world.desk, "add_comment", slower_comment)
    world.now = NOW + timedelta(hours=25)
    later = said(first, 1, "¿siguen ahí?", minutes=25 * 60)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        world.handle(later)
    assert "¿siguen ahí?" in world.public_bodies(first.conversation_key)
    assert len(world.outbound.distinct) == 2, "the follow-up's acknowledgement was not queued: Salesforce failed first"
