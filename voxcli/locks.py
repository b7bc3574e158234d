"""Per-output locks, so two overlapping runs never work on the same output at once.

The lock is an ``flock`` on a hidden file beside the output (``.talk.srt.voxcli-lock``).
The kernel drops an flock when its holder exits, crashes included, so a lock can never
outlive its run. Holders unlink the file before they let go, so normal runs (and
interrupted ones) leave nothing behind; a file left by a killed run is an unlocked,
harmless leftover that the next run on that output takes over and removes.

Why beside the output rather than under a per-user cache or runtime directory: the lock
must be seen by every run that can write the output, and those need not share a
``$HOME`` or ``$XDG_RUNTIME_DIR`` (cron has no runtime dir; another user's job may
write the same shared folder). The output's own directory is the one place they all
agree on.

Unlinking a lock file races with another run that has opened it but not locked it yet;
after acquiring, :func:`try_lock` checks that the path still names the locked inode and
starts over if not (the usual flock + unlink protocol).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from voxcli.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; locking is skipped there
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".voxcli-lock"


def lock_path(output: Path) -> Path:
    """The lock file guarding ``output``."""
    return output.with_name(f".{output.name}{LOCK_SUFFIX}")


@dataclass
class OutputLock:
    """A held lock; :meth:`release` removes the file and lets go (idempotent)."""

    path: Path
    fd: int | None

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(fd)


def try_lock(output: Path) -> OutputLock | None:
    """Take the lock for ``output`` without waiting; None when another run holds it."""
    path = lock_path(output)
    if fcntl is None:  # pragma: no cover
        return OutputLock(path, None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create directory {path.parent}: {exc.strerror}") from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise InputError(f"cannot create lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        held = os.fstat(fd)
        if current is not None and (current.st_ino, current.st_dev) == (held.st_ino, held.st_dev):
            return OutputLock(path, fd)
        # The holder we waited behind removed the file: ours is an orphan; start over.
        os.close(fd)
