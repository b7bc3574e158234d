"""Per-output locks, so two overlapping runs never work on the same output at once.

The lock is an ``flock`` on a hidden file beside the output (``.talk.srt.voxcli-lock``),
opened with ``O_NOFOLLOW`` (and created with ``O_EXCL``): a symlink planted there in a
shared folder is refused, never followed to create or lock the file it points at.
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

Taking a lock creates the output's missing parent directories, and this process
remembers the ones it created. A lock released without its output having been written
(the input failed, or the run was stopped) removes those of them on its output's path
again, deepest first and only while they are empty, so failed and interrupted runs
leave no empty folders behind. A folder shared by several inputs of the run goes with
the last of them; folders that existed before, or that another run made, stay. Another
run may remove such a folder between our ``mkdir`` and our ``open``; :func:`try_lock`
then creates it again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from voxcli.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; locking is skipped there
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".voxcli-lock"

# Directories this process created for outputs and has neither removed nor written into.
_created: set[Path] = set()
_created_lock = threading.Lock()


def lock_path(output: Path) -> Path:
    """The lock file guarding ``output``."""
    return output.with_name(f".{output.name}{LOCK_SUFFIX}")


@dataclass
class OutputLock:
    """A held lock; :meth:`release` removes the file and lets go (idempotent)."""

    path: Path
    fd: int | None

    def release(self, *, written: bool = False) -> None:
        """Let go; unless the output was ``written``, remove the empty folders we created."""
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(fd)
        folder = self.path.parent
        with _created_lock:
            ours = [d for d in _created if d == folder or d in folder.parents]
            if written:  # they hold an output now: never ours to remove
                _created.difference_update(ours)
            else:
                _created.difference_update(_remove_empty(_deepest_first(ours)))


def _make_dirs(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return those we created, deepest first."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    created: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue  # another run made it at the same moment: not ours to remove
            created.append(path)
    except OSError as exc:
        _remove_empty(created[::-1])
        raise InputError(
            f"cannot create directory {exc.filename or directory}: {exc.strerror}"
        ) from None
    return created[::-1]


def _deepest_first(paths: list[Path]) -> list[Path]:
    return sorted(set(paths), key=lambda p: len(p.parts), reverse=True)


def _remove_empty(directories: list[Path]) -> list[Path]:
    """Remove ``directories`` (deepest first) until one is not empty; return those removed."""
    removed: list[Path] = []
    for path in directories:
        try:
            path.rmdir()
        except FileNotFoundError:
            removed.append(path)
        except OSError:  # not empty: another input's output or lock, or someone else's file
            break
        else:
            removed.append(path)
    return removed


_OPEN_FLAGS = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


def _open_lock_file(path: Path) -> int:
    """Open the lock file, never through a symlink and never anything but a regular file.

    First ``O_CREAT | O_EXCL`` (a new file, whatever was planted can't be followed), else
    the existing file with ``O_NOFOLLOW`` (a leftover of a killed run; a symlink there
    fails with ELOOP); a FIFO or device there is refused without being waited on.
    """
    while True:
        try:
            return os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except FileNotFoundError:
            continue  # its holder removed it between our two opens: create it again
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(
                f"the lock file {path} is not a regular file; voxcli does not use it",
                hint="remove it (and check who can write that folder)",
            )
        return fd


def try_lock(output: Path) -> OutputLock | None:
    """Take the lock for ``output`` without waiting; None when another run holds it."""
    path = lock_path(output)
    if fcntl is None:  # pragma: no cover
        return OutputLock(path, None)
    created: list[Path] = []
    attempts = 0
    while True:
        created = _deepest_first(created + _make_dirs(path.parent))
        attempts += 1
        try:
            fd = _open_lock_file(path)
        except FileNotFoundError as exc:
            if attempts < 5:
                continue  # another run removed the empty directory we just made: again
            _remove_empty(created)
            raise InputError(
                f"cannot write {output} ({exc.strerror})",
                hint=f"check that {output.parent} exists and that you may write in it",
            ) from None
        except OSError as exc:
            _remove_empty(created)
            if exc.errno == errno.ELOOP:
                raise InputError(
                    f"the lock file {path} is a symbolic link; voxcli does not follow it",
                    hint="someone planted it: remove it (and check who can write that folder)",
                ) from None
            raise InputError(
                f"cannot write {output} ({exc.strerror})",
                hint=f"check that {output.parent} exists and that you may write in it",
            ) from None
        except InputError:
            _remove_empty(created)
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            _remove_empty(created)
            return None
        except BaseException:
            os.close(fd)
            _remove_empty(created)
            raise
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        held = os.fstat(fd)
        if current is not None and (current.st_ino, current.st_dev) == (held.st_ino, held.st_dev):
            with _created_lock:
                _created.update(created)
            return OutputLock(path, fd)
        # The holder we waited behind removed the file: ours is an orphan; start over.
        os.close(fd)
