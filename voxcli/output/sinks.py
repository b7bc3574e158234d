"""Where the bytes go: stdout, or a file that appears atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TextIO

from voxcli.errors import ExitCode, InputError, VoxcliError


def _read_umask() -> int:
    # os.umask can only be read by setting it; do that once, at import, before any
    # worker thread could create a file under the temporary value.
    current = os.umask(0o022)
    os.umask(current)
    return current


_UMASK = _read_umask()


def _new_file_mode(path: Path) -> int:
    """Keep an existing target's permissions; otherwise what any new file would get."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def write_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Write *text* (UTF-8) to *path* via a temporary file beside it and a rename; an
    :class:`InputError` naming *path* when that fails.

    A reader never sees half a file, and an interrupted run leaves the old file
    (or nothing) in place, never a truncated one. ``private``: missing directories are
    made 0700 and the file is 0600 (caches of what the user transcribed).
    """
    directory = path.parent
    try:
        directory.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create directory {directory}: {exc.strerror}") from None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if not private:
            os.chmod(tmp, _new_file_mode(path))  # mkstemp creates 0600
        os.replace(tmp, path)
        _fsync_directory(directory)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class StdoutClosed(VoxcliError):
    """The reader of stdout went away (``voxcli ... | head``)."""

    exit_code = ExitCode.STDOUT_CLOSED

    def __init__(self) -> None:
        super().__init__("stdout was closed")


def write_stdout(text: str, out: TextIO) -> None:
    """Write data to stdout and flush, so pipelines see each result as it is ready."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        # Raised as our own error: Typer would turn a BrokenPipeError into exit 1.
        raise StdoutClosed() from None
