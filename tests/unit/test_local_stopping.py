"""A local stack stops on SIGINT or SIGTERM even when started with SIGINT ignored, and one state directory serves one stack."""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from typing import TYPE_CHECKING

import pytest

from socialdesk.local.state_lock import StateDirInUseError, state_lock
from socialdesk.local.stopping import Stopped, raise_if_stopped, stop_on_signals

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored, as a shell leaves it for a background job or a CI step."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_ignored")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_stops_even_where_sigint_was_ignored(signum: signal.Signals, code: int) -> None:
    # When the signal arrives while the stack runs
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        os.kill(os.getpid(), signum)
    # Then it stops, with the exit code a shell expects for that signal
    assert stopped.value.signal == signum
    assert stopped.value.exit_code == code


@pytest.mark.usefixtures("sigint_ignored")
def test_the_previous_handlers_come_back_afterwards() -> None:
    terminate = signal.getsignal(signal.SIGTERM)
    with stop_on_signals():
        assert signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, signal.SIG_DFL)
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) == terminate


def test_a_second_signal_while_stopping_does_not_interrupt_the_clean_up() -> None:
    # Given a stack already stopping after a first Ctrl+C
    cleaned = False
    with pytest.raises(Stopped), stop_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGINT)
        finally:
            # When a second one arrives during the clean-up, the clean-up still completes
            os.kill(os.getpid(), signal.SIGINT)
            cleaned = True
    assert cleaned


@pytest.mark.usefixtures("sigint_ignored")
def test_a_signal_whose_stopped_was_lost_still_stops_the_command_where_it_settles() -> None:
    # Given a SIGINT whose Stopped was lost on the way (CPython drops one now and then inside C code, such as the
    # compiler while a module is imported from source: the stack would start and run on, deaf to further signals)
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        with suppress(Stopped):
            os.kill(os.getpid(), signal.SIGINT)
        # When the command reaches the point where it settles (the stack up, before it waits)
        raise_if_stopped()
    # Then it stops as for the signal
    assert stopped.value.exit_code == 130
    # And once the command is over, nothing is left of it
    raise_if_stopped()


def test_a_held_state_directory_is_refused_naming_who_holds_it(tmp_path: Path) -> None:
    # Given a stack holding its state directory
    held = rf"state directory {tmp_path / 'state'} is in use by socialdesk \(pid {os.getpid()}, port 3000\)"
    # Then a second one is refused, told which process and port hold it
    with state_lock(tmp_path / "state", port=3000), pytest.raises(StateDirInUseError, match=held), state_lock(tmp_path / "state", port=3001):
        pass
    # And once the first has stopped, the directory is free again
    with state_lock(tmp_path / "state", port=3001):
        pass
