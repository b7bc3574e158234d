"""Temporary audio files: stdin spooled to disk, scratch files that always go away, hashing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from voxcli.audio.formats import sniff_suffix
from voxcli.errors import InputError

_CHUNK = 1 << 20  # 1 MiB, for copying and hashing


def spool_stdin(stream: BinaryIO, dest_dir: Path | None = None) -> Path:
    """Copy binary ``stream`` to a temporary file named by its magic bytes; return its path.

    The caller deletes the file. Raises InputError if the stream is empty.
    """
    head = b""
    while len(head) < 64:
        chunk = stream.read(64 - len(head))
        if not chunk:
            break
        head += chunk
    if not head:
        raise InputError("stdin is empty", hint="pipe audio into voxcli, or pass a file path")
    suffix = sniff_suffix(head) or ".bin"
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept past this function on purpose
        "wb", prefix="voxcli-stdin-", suffix=suffix, dir=dest_dir, delete=False
    )
    try:
        with tmp:
            tmp.write(head)
            while chunk := stream.read(_CHUNK):
                tmp.write(chunk)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return Path(tmp.name)


@contextmanager
def temp_audio_path(suffix: str, dir: Path | None = None) -> Iterator[Path]:
    """Yield the path of a new empty temporary file; remove it on exit, however we leave."""
    fd, name = tempfile.mkstemp(prefix="voxcli-", suffix=suffix, dir=dir)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def content_hash(path: Path) -> str:
    """Return the SHA-256 hex digest of the file's bytes (streamed in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
