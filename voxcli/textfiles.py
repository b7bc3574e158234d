"""Reading the small files flags point at (key file, bias terms, file lists).

Such a path may name anything: ``/dev/zero``, ``/dev/urandom`` or a FIFO nobody writes
to would be read until memory runs out, or forever. So only a regular file, or a pipe a
process already writes into (``--files-from <(find ...)``, stdin), is read, and never
more than a cap; a device, a socket or a named FIFO is a usage error. A named FIFO is
opened without waiting for a writer (``O_NONBLOCK``), so the refusal is immediate.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from pathlib import Path
from typing import BinaryIO

from voxcli.errors import InputError
from voxcli.sizes import format_size

FLAG_FILE_MAX_BYTES = 1_000_000
"""The most a key file or a bias-term file may hold (a bias list is 100 short terms)."""
_CHUNK = 1 << 16


def read_flag_file(path: str, flag: str, *, max_bytes: int = FLAG_FILE_MAX_BYTES) -> bytes:
    """The bytes of the file given to ``flag``; a one-line InputError naming both otherwise
    (missing, unreadable, not a regular file or pipe, or larger than ``max_bytes``)."""
    name = Path(path).expanduser()
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{flag}: no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{flag}: {path} is a directory") from None
    except OSError as exc:
        raise InputError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
    with open(fd, "rb", buffering=0, closefd=True) as stream:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{flag}: {path} is a directory")
        if not (stat.S_ISREG(mode) or _is_anonymous_pipe(fd)):
            raise InputError(
                f"{flag}: {path} is not a regular file",
                hint="give a file (or a pipe from a command, such as <(command))",
            )
        os.set_blocking(fd, True)  # a pipe: its writer is running; wait for what it sends
        try:
            return read_capped(stream, max_bytes, what=f"{flag}: {path}")
        except OSError as exc:
            raise InputError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def read_capped(stream: BinaryIO, max_bytes: int, *, what: str) -> bytes:
    """Everything ``stream`` holds, or an InputError once it holds more than ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_CHUNK, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InputError(
                f"{what} is larger than {format_size(max_bytes)}",
                hint="is it the right file?",
            )
    return b"".join(chunks)


@functools.cache
def _pipe_device() -> int | None:
    """The device number pipes live on (Linux: pipefs), learnt from a pipe of our own."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        return os.fstat(read).st_dev
    finally:
        with contextlib.suppress(OSError):
            os.close(read)
            os.close(write)


def _is_anonymous_pipe(fd: int) -> bool:
    """A pipe made by a shell (``<(...)``, ``|``), not a FIFO in the filesystem."""
    st = os.fstat(fd)
    return stat.S_ISFIFO(st.st_mode) and st.st_dev == _pipe_device()


def read_flag_text(path: str, flag: str, *, max_bytes: int = FLAG_FILE_MAX_BYTES) -> str:
    """Like :func:`read_flag_file`, decoded as UTF-8 (a leading BOM is dropped)."""
    try:
        return read_flag_file(path, flag, max_bytes=max_bytes).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{flag}: {path} is not UTF-8 text") from None
