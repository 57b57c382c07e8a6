"""Salesforce answers some transient conditions with a 4xx: lock contention is not a refusal of the data."""

from __future__ import annotations

import pytest
import responses

from socialdesk.crm.port import CrmRejectedError, CrmUnavailableError
from tests.contract.test_salesforce_crm import ACTIVITY, CONTACT, DATA, api, composite_answer, crm, private_key  # noqa: F401

LOCKED = [
    {"message": "unable to obtain exclusive access to this record or 1 records: 003AAAAAAAAAAAAAAA", "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}
]


def test_a_task_insert_blocked_by_a_row_lock_is_retried_not_dead_lettered(private_key: str, api: responses.RequestsMock) -> None:  # noqa: F811
    # Given two messages of one customer processed at once (ProcessMaxConcurrency 5): Salesforce locks the contact
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", json=LOCKED, status=400)
    # When the Task insert meets the lock
    # Then it is a failure worth retrying, not "Salesforce refuses the data" (dead-lettered at once)
    with pytest.raises(CrmUnavailableError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003AAAAAAAAAAAAAAA", persona_id=None)


def test_a_composite_upsert_blocked_by_a_row_lock_is_retried(private_key: str, api: responses.RequestsMock) -> None:  # noqa: F811
    # Given a new customer's contact upsert and Task, while another container holds the contact's row lock
    adapter = crm(private_key, api)
    api.post(f"{DATA}/composite", json=composite_answer(("contact", 400, LOCKED), ("task", 400, [{"errorCode": "PROCESSING_HALTED"}])))
    # Then the event is retried later
    with pytest.raises(CrmUnavailableError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id=None, persona_id=None)


def test_a_genuine_validation_refusal_is_still_a_refusal(private_key: str, api: responses.RequestsMock) -> None:  # noqa: F811
    adapter = crm(private_key, api)
    api.post(f"{DATA}/sobjects/Task", json=[{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "no"}], status=400)
    with pytest.raises(CrmRejectedError):
        adapter.record_activity(ACTIVITY, contact=CONTACT, contact_id="003AAAAAAAAAAAAAAA", persona_id=None)
