"""Attack (issue 8, item 2): `socialdesk local` and its state directory, and rules files it cannot read.

README, Running it locally: the sandboxes keep "their state in `.socialdesk/local/<port>/sandbox/zendesk.json` and
`salesforce.json` (cleared at each start)"; `--state-dir D` is "where sandbox state is kept"; and "a mistake is always
one line on stderr ... never a traceback", `local` exiting 1 "with the reason when it cannot start".

- The runner clears its state with `shutil.rmtree(<state dir>/sandbox)`: everything in that folder goes, not only the
  two files the sandboxes write. Given `--state-dir` of a folder of one's own that has a `sandbox` folder, a start
  deletes it whole (attack 7 fixed the same for the demo's state-dir root, not for this).
- When `<state dir>/sandbox` is a file (or a symlink), rmtree fails silently (`ignore_errors`) and the `mkdir` after it
  raises FileExistsError: a traceback, not a reason.
- A rules file nested a few thousand levels deep makes tomllib raise RecursionError, which the start-up check does not
  expect: a traceback instead of "rules file ...: ..." and exit 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.cli import main
from socialdesk.devtools.local_aws import TEMPLATE
from socialdesk.local.gateway import free_port
from socialdesk.local.runner import LocalRunner, RunnerOptions

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def test_a_start_clears_only_the_sandbox_files_it_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a folder of one's own, given as --state-dir, that already holds a `sandbox` folder with the user's files
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    state = tmp_path / "my-project"
    notes = state / "sandbox" / "notes" / "plan.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("not socialdesk's")
    # When the local stack starts on it
    with LocalRunner(RunnerOptions(template=TEMPLATE, port=free_port(), state_dir=state)):
        pass
    # Then the user's file is still there: a fresh start clears only zendesk.json and salesforce.json
    assert notes.read_text() == "not socialdesk's"


def test_a_state_dir_whose_sandbox_is_a_file_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a state directory whose `sandbox` is a file
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    state = tmp_path / "state"
    state.mkdir()
    (state / "sandbox").write_text("a file")
    # When local starts on it
    code = main(["local", "--port", str(free_port()), "--state-dir", str(state)])
    # Then it cannot start, and says why in one line of the command
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("socialdesk local: ")
    assert err.count("\n") == 1


def test_local_refuses_a_deeply_nested_rules_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a rules file nesting arrays thousands deep
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    rules = tmp_path / "rules.toml"
    rules.write_text("zendesk = " + "[" * 5000 + "]" * 5000 + "\n")
    # When local is started with it
    code = main(["local", "--port", str(free_port()), "--rules", str(rules), "--state-dir", str(tmp_path / "state")])
    # Then it refuses with the reason, in one line, exit 1
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"socialdesk local: rules file {rules}")
    assert err.count("\n") == 1
