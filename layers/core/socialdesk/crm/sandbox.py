"""A sandbox CRM: the `Crm` port kept in memory and in a JSON file, for local runs without Salesforce.

Contacts are upserted by their external id and activities recorded against them, as the
Salesforce adapter does; every change is reported on the `socialdesk.sandbox` logger, each
line naming it a sandbox. Never used in a deployed stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from socialdesk.crm.port import CrmActivity, CrmContact, RecordedActivity
from socialdesk.sandbox_state import JsonSandbox, first_line, load_state, report

if TYPE_CHECKING:
    from pathlib import Path


class SandboxContact(msgspec.Struct, kw_only=True):
    id: str
    name: str
    handle: str | None = None


class SandboxActivity(msgspec.Struct, kw_only=True):
    id: str
    contact_id: str
    activity: CrmActivity
    persona_id: str | None = None


class SandboxCrmState(msgspec.Struct, kw_only=True):
    contacts: dict[str, SandboxContact] = msgspec.field(default_factory=dict)
    activities: dict[str, SandboxActivity] = msgspec.field(default_factory=dict)


class SandboxCrm(JsonSandbox[SandboxCrmState]):
    """Implements `Crm`; `path` (optional) is the JSON file the state is written to after every change."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(SandboxCrmState, path)

    def record_activity(self, activity: CrmActivity, *, contact: CrmContact, contact_id: str | None, persona_id: str | None) -> RecordedActivity:
        self._before("record_activity" if contact_id is None else "insert_task")
        with self._lock:
            if contact_id is None:
                existing = self.state.contacts.get(contact.external_id)
                stored = existing or SandboxContact(id=f"003SBX{len(self.state.contacts):012d}", name=contact.name, handle=contact.handle)
                self.state.contacts[contact.external_id] = stored
                contact_id = stored.id
                if existing is None:
                    report.info("[sandbox salesforce] contact %s created: %s (%s)", contact_id, contact.name, contact.external_id)
            activity_id = f"00TSBX{len(self.state.activities):012d}"
            self.state.activities[activity_id] = SandboxActivity(id=activity_id, contact_id=contact_id, activity=activity, persona_id=persona_id)
            self._save()
        report.info("[sandbox salesforce] completed task %s on contact %s: %s", activity_id, contact_id, first_line(activity.subject))
        return RecordedActivity(contact_id=contact_id, activity_id=activity_id)

    def find_activity(self, activity: CrmActivity, *, contact_id: str | None) -> RecordedActivity | None:
        self._before("find_activity")
        with self._lock:
            found = next((found for found in self.state.activities.values() if found.activity.event_key == activity.event_key), None)
        return RecordedActivity(contact_id=found.contact_id, activity_id=found.id, persona_id=found.persona_id) if found else None


def load_crm_state(path: Path) -> SandboxCrmState:
    return load_state(path, SandboxCrmState)
