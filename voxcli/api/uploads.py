"""Upload progress: a file wrapper that counts the bytes the HTTP client reads.

Whoever wants progress passes a callback with the request (``on_upload``); the API layer
wraps the file it uploads with :func:`counting`, which is the file itself when nobody
listens. Cheap: one call per 64 KiB chunk read.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import BinaryIO

UploadCallback = Callable[[int, int], None]
"""Called with (bytes read so far, total bytes of the file)."""


def counting(stream: BinaryIO, callback: UploadCallback | None) -> BinaryIO | CountingReader:
    """``stream`` wrapped to report its reads to ``callback`` (the stream itself if None)."""
    return stream if callback is None else CountingReader(stream, callback)


class CountingReader(io.RawIOBase):
    """A read-only view of a binary file that reports how far it has been read.

    ``seek(0)`` (the HTTP client rewinding for a retry) starts the count over.
    """

    def __init__(self, raw: BinaryIO, callback: UploadCallback) -> None:
        super().__init__()
        self._raw = raw
        self._callback = callback
        self._total = os.fstat(raw.fileno()).st_size
        self._position = raw.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._position = self._raw.seek(offset, whence)
        self._callback(self._position, self._total)
        return self._position

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._position += len(data)
        self._callback(self._position, self._total)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
