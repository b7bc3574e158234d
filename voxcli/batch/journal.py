"""Append-only journals: what finished, recorded the moment it finished.

A journal is a JSONL file; every record is one complete line written with one ``write``
on a descriptor opened with ``O_APPEND``, so a process killed at any point leaves whole
lines (and at worst one torn last line, which :func:`read_journal` skips). The
submission journal records finished uploads, the collection journal written inputs and
deleted files: a re-run reads them and does only what is missing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is not one voxcli wrote: it is skipped."""


class Journal:
    """Appends records to one journal file (created if missing); thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None

    def append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        with self._lock:
            if self._fd is None:
                flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(self.path, flags, 0o600)
                _end_torn_line(self._fd)
            written = os.write(self._fd, line)
            while written < len(line):  # short only when out of space or on a signal
                written += os.write(self._fd, line[written:])

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end_torn_line(fd: int) -> None:
    """A line torn by a crash (power loss, full disk) gets its end, so the next record
    starts a line of its own."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's records in order; a missing journal has none, torn or foreign lines
    are skipped."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            if not raw.endswith(b"\n"):  # too long (skip the rest of it), or torn at the end
                while raw and not raw.endswith(b"\n"):
                    raw = handle.readline(MAX_LINE_BYTES + 1)
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
