"""Optional upload progress: a file wrapper that counts the bytes the HTTP client reads.

The runner registers a callback for the current thread with :func:`watching`; the API
layer passes every file it uploads through :func:`watch`, which is a no-op (the file
itself) when nobody is watching. Cheap: one call per 64 KiB chunk read.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

UploadCallback = Callable[[int, int], None]
"""Called with (bytes read so far, total bytes of the file)."""

_local = threading.local()


@contextmanager
def watching(callback: UploadCallback) -> Iterator[None]:
    """Report the uploads this thread makes to ``callback`` while the block runs."""
    previous = getattr(_local, "callback", None)
    _local.callback = callback
    try:
        yield
    finally:
        _local.callback = previous


def watch(stream: BinaryIO) -> BinaryIO | CountingReader:
    """``stream`` wrapped to report its reads, if this thread is being watched."""
    callback = getattr(_local, "callback", None)
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
