"""``--report PATH``: one JSON line per input, appended as each one finishes.

The report is a log: each run appends to it, so two overlapping runs (cron) can
share one path. Every record goes out as a single ``write`` of one complete line on
a descriptor opened with ``O_APPEND``, which the kernel appends as a whole, so lines
from concurrent runs never interleave or overwrite each other. Users rotate or
truncate the file themselves (``logrotate``, ``: > report.jsonl``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from voxcli.errors import UsageError
from voxcli.transcript import Usage


class ReportWriter:
    """Appends report lines to ``path`` (created if missing, never truncated)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        try:
            self._fd: int | None = os.open(path, flags, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot write --report {path}: {exc.strerror or exc}") from None

    def write(
        self,
        *,
        source: str,
        output: str | None,
        status: str,
        error: str | None = None,
        audio_seconds: float | None = None,
        usage: Usage | None = None,
        elapsed: float = 0.0,
    ) -> None:
        record: dict[str, Any] = {
            "source": source,
            "output": output,
            "status": status,
            "error": error,
            "audio_seconds": None if audio_seconds is None else round(audio_seconds, 3),
            "usage": asdict(usage) if usage is not None else None,
            "elapsed": round(elapsed, 3),
        }
        if self._fd is None:
            return
        # A name that is not UTF-8 (surrogate escapes) becomes a JSON \u escape: still valid.
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        written = os.write(self._fd, line)
        while written < len(line):  # only short of space or on a signal; finish the line
            written += os.write(self._fd, line[written:])

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
