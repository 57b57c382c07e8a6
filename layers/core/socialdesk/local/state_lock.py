"""One local stack per state directory: the directory is locked while a stack uses it.

Each stack clears its sandbox state when it starts, so a second stack on the same directory would
empty the first's tickets and activities, even if it then failed on the port. The lock is an OS lock
on `<state dir>/.lock` (flock; msvcrt on Windows): it goes with the process however that ends, even
killed, so a stale lock never blocks the next start. The file says who holds it, for the refusal.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LOCK_FILE = ".lock"


class StateDirInUseError(Exception):
    """Another local stack holds the state directory; the message names it."""


@contextmanager
def state_lock(state_dir: Path, *, port: int) -> Iterator[None]:
    """Hold `state_dir` for this process; StateDirInUseError at once if another holds it, OSError if it cannot be created."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(descriptor):
            raise StateDirInUseError(f"state directory {state_dir} is in use by {_holder(path)}")
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"socialdesk (pid {os.getpid()}, port {port})\n".encode())
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
    except OSError:  # Windows refuses to read a locked range
        return "another process"


if sys.platform == "win32":
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
