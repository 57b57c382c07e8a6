"""A local start clears the sandboxes' state (README: "cleared at each start") and nothing else in their folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from socialdesk.crm.sandbox import SandboxCrm
from socialdesk.desk.sandbox import SandboxDesk
from socialdesk.sandbox_state import CRM_FILE, DESK_FILE, clear_sandbox_files

if TYPE_CHECKING:
    from pathlib import Path


def test_clearing_removes_every_file_the_sandboxes_write_and_keeps_the_rest(tmp_path: Path) -> None:
    # Given a sandbox folder with both sandboxes' state, a write they left half done, and files of the user's own
    sandbox = tmp_path / "sandbox"
    SandboxDesk(sandbox / DESK_FILE)._save()
    SandboxCrm(sandbox / CRM_FILE)._save()
    (sandbox / "zendesk.partial").write_text("{")
    (sandbox / "notes").mkdir()
    (sandbox / "notes" / "plan.txt").write_text("mine")
    (sandbox / "other.json").write_text("{}")
    # When it is cleared
    clear_sandbox_files(sandbox)
    # Then only the user's files are left
    assert sorted(path.relative_to(sandbox).as_posix() for path in sandbox.rglob("*")) == ["notes", "notes/plan.txt", "other.json"]


def test_clearing_creates_the_folder_and_refuses_one_that_is_a_file(tmp_path: Path) -> None:
    clear_sandbox_files(tmp_path / "new" / "sandbox")
    assert (tmp_path / "new" / "sandbox").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        clear_sandbox_files(tmp_path / "file")
