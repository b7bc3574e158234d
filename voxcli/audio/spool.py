"""Temporary audio files: stdin spooled to disk, scratch files that always go away, hashing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from voxcli.audio.formats import sniff_suffix
from voxcli.env import MAX_STDIN_BYTES
from voxcli.errors import InputError
from voxcli.sizes import format_size

_CHUNK = 1 << 20  # 1 MiB, for copying and hashing

_MORE_MAGIC = (
    b"RIFF",  # other RIFF and IFF kinds: libsndfile judges them when it probes
    b"RF64",
    b"FORM",
    b"riff",  # Sony Wave64
    b"NIST_1A",  # NIST SPHERE
    b"Creative Voice File",  # VOC
    b"2BIT",  # Audio Visual Research
    b"\x64\xa3\x01\x00",  # IRCAM, both byte orders, three kinds
    b"\x00\x01\xa3\x64",
    b"\x64\xa3\x02\x00",
    b"\x00\x02\xa3\x64",
    b"\x64\xa3\x04\x00",
    b"\x00\x04\xa3\x64",
)
"""Magic bytes of formats libsndfile reads that :func:`sniff_suffix` does not name."""


def looks_like_audio(head: bytes) -> bool:
    """True if ``head`` (a file's first bytes) starts like a format voxcli reads."""
    return sniff_suffix(head) is not None or head.startswith(_MORE_MAGIC)


def _too_much(max_bytes: int) -> InputError:
    return InputError(
        f"stdin holds more than {format_size(max_bytes)}; voxcli stopped reading it",
        hint="save the audio to a file and pass its path (long files are split)",
    )


class CappedStream:
    """A binary stream that raises InputError once more than ``max_bytes`` were read."""

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self._left = max_bytes
        self.max_bytes = max_bytes

    def read(self, size: int | None = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._stream.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise _too_much(self.max_bytes)
        return data

    def __getattr__(self, name: str) -> object:  # fileno, isatty, name...
        return getattr(self._stream, name)


def capped(stream: BinaryIO, max_bytes: int) -> BinaryIO:
    """``stream``, read no further than ``max_bytes`` (see :class:`CappedStream`)."""
    return cast(BinaryIO, CappedStream(stream, max_bytes))


def spool_stdin(
    stream: BinaryIO, dest_dir: Path | None = None, *, max_bytes: int = MAX_STDIN_BYTES
) -> Path:
    """Copy binary ``stream`` to a temporary file named by its magic bytes; return its path.

    The caller deletes the file. Raises InputError if the stream is empty, does not start
    like audio (``/dev/zero``, text: refused after 64 bytes, before anything is written) or
    holds more than ``max_bytes``.
    """
    head = b""
    while len(head) < 64:
        chunk = stream.read(64 - len(head))
        if not chunk:
            break
        head += chunk
    if not head:
        raise InputError("stdin is empty", hint="pipe audio into voxcli, or pass a file path")
    if not looks_like_audio(head):
        raise InputError(
            "audio on stdin is not an audio file voxcli can read (its first bytes are not audio)",
            hint="use an audio file (WAV, FLAC, MP3, OGG/Opus, M4A, AAC, WebM...) "
            "or a video with sound",
        )
    suffix = sniff_suffix(head) or ".bin"
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept past this function on purpose
        "wb", prefix="voxcli-stdin-", suffix=suffix, dir=dest_dir, delete=False
    )
    try:
        with tmp:
            tmp.write(head)
            size = len(head)
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_much(max_bytes)
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
