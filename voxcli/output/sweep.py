"""Leftovers of killed runs, swept when a run starts; never another live run's files.

A run killed with SIGKILL (or by a power cut) cannot clean up after itself. It leaves:

- its private temporary directory ``$TMPDIR/voxcli-run-PID-XXXXXXXX`` (spooled stdin,
  re-encoded audio, parts of split recordings): often hundreds of megabytes;
- temporary output files ``.NAME.XXXXXXXX.part`` beside an output it was writing;
- temporary files ``*.tmp`` in the part cache (see :meth:`PartCache.sweep_temporaries`).

A run directory is removed only when all of these hold: it is ours (same user, a real
directory, not a symlink), nothing in it changed for :data:`STALE_SECONDS`, no live
process holds its lock (every run keeps an ``flock`` on its directory for as long as it
lives; the kernel drops it when the process dies, however it dies) and the process named
in it is gone. Directories of older versions, without a lock or a PID, are judged by age
alone. A ``.part`` file is removed only when it belongs to an output of this run and is
older than :data:`STALE_SECONDS` (writing one takes milliseconds).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, no sweeping of run dirs
    fcntl = None  # type: ignore[assignment]

RUN_DIR_PREFIX = "voxcli-run-"
STALE_SECONDS = 3600.0
"""Leftovers younger than this may belong to a run in progress: they stay."""
_RUN_DIR_PID = re.compile(r"^voxcli-run-(\d+)-")
_PART_FILE = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.part$")
"""What :func:`voxcli.output.sinks.write_atomic` names its temporary file (mkstemp)."""


@dataclass
class RunDir:
    """A run's private temporary directory, locked for as long as the run lives."""

    path: Path
    fd: int | None

    def remove(self) -> None:
        """Delete the directory and everything in it, then let go of the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def make_run_dir(temp_dir: Path | None) -> RunDir:
    """Create ``temp_dir/voxcli-run-PID-XXXXXXXX`` (mode 700) and lock it."""
    path = Path(tempfile.mkdtemp(prefix=f"{RUN_DIR_PREFIX}{os.getpid()}-", dir=temp_dir))
    fd: int | None = None
    if fcntl is not None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a filesystem without flock: the age and PID rules still hold
            if fd is not None:
                os.close(fd)
            fd = None
    return RunDir(path, fd)


def sweep_run_dirs(temp_dir: Path, *, now: float | None = None) -> int:
    """Remove the stale run directories in ``temp_dir``; return how many went."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = [e for e in os.scandir(temp_dir) if e.name.startswith(RUN_DIR_PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        with contextlib.suppress(OSError):
            if _sweep_run_dir(Path(entry.path), now):
                removed += 1
    return removed


def _sweep_run_dir(path: Path, now: float) -> bool:
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        return False
    if (match := _RUN_DIR_PID.match(path.name)) and _alive(int(match.group(1))):
        return False
    if _newest_change(path, st) > now - STALE_SECONDS:
        return False
    if fcntl is None:  # pragma: no cover
        return False
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live run holds it
        shutil.rmtree(path)  # while we hold the lock; rmtree never follows symlinks
        return True
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell: keep its files
    return True


def _newest_change(path: Path, st: os.stat_result) -> float:
    """The latest modification time of the directory and its direct entries."""
    newest = st.st_mtime
    with os.scandir(path) as entries:
        for entry in entries:
            newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    return newest


def sweep_part_files(outputs: Iterable[Path], *, now: float | None = None) -> int:
    """Remove stale ``.NAME.XXXXXXXX.part`` files beside ``outputs`` (only for those
    outputs' names); return how many went."""
    now = time.time() if now is None else now
    names: dict[Path, set[str]] = {}
    for output in outputs:
        names.setdefault(output.parent, set()).add(output.name)
    removed = 0
    for folder, wanted in names.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # not made yet: nothing to sweep
        for entry in entries:
            match = _PART_FILE.match(entry.name)
            if match is None or match.group("name") not in wanted:
                continue
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_mtime < now - STALE_SECONDS:
                    os.unlink(entry.path)
                    removed += 1
    return removed
