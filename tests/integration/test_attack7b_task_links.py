"""Attack 7b: under the fault suite's ordinary faults, each customer message's Salesforce Task links its Zendesk ticket.

README, How it works inside (Salesforce): "each customer message a completed Task with subject, full text, permalink and
the Zendesk ticket link". The fault suite (tests/integration/test_fault_suite.py) counts Tasks, never their links.
"""

from __future__ import annotations

from tests.integration.test_fault_suite import in_memory_store, run

CONVERSATIONS = 20  # 80 customer messages on every platform: about 2 s


def test_every_task_links_its_conversations_ticket_under_the_fault_suites_faults() -> None:
    # Given the fault suite's scenario (duplicates, reordering, Zendesk 503s, 429s and lost answers, a Zendesk outage,
    # Salesforce faults and a spent allocation) on a smaller set of conversations, run until every queue drained
    outcome = run(in_memory_store, conversations=CONVERSATIONS)
    tickets = {ticket.id: str(ticket.external_id) for ticket in outcome.desk.tickets.values()}
    conversation_of = {event.dedupe_key: event.conversation_key for event in outcome.scenario.customer_messages}
    # When each Task is read
    tasks = list(outcome.crm.activities.values())
    assert len(tasks) == len(conversation_of)
    # Then each one carries the link to a ticket
    unlinked = [task.event_key for task in tasks if task.ticket_url is None]
    assert unlinked == [], f"{len(unlinked)} of {len(tasks)} Tasks have no Zendesk ticket link"
    linked = {int(str(task.ticket_url).rsplit("/", 1)[1]) for task in tasks}
    assert linked <= set(tickets)
