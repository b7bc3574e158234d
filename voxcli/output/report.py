"""``--report PATH``: one JSON line per input, appended as each one finishes.

The report is a log: each run appends to it, so two overlapping runs (cron) can
share one path. Every record goes out as a single ``write`` of one complete line on
a descriptor opened with ``O_APPEND``, which the kernel appends as a whole, so lines
from concurrent runs never interleave or overwrite each other. Users rotate or
truncate the file themselves (``logrotate``, ``: > report.jsonl``).

Each line carries the time it was written (ISO 8601, UTC) and the run's id (``run``), so
lines of overlapping runs can be told apart. A name that is not UTF-8 also goes in as
its raw bytes, base64-encoded (``source_bytes``, ``output_bytes``), since the JSON
string can only show it with replacement escapes.

The report is a record, not the work: when a line cannot be written (a full disk), the
writer says so once, through ``warn``, writes no more lines, and the run goes on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voxcli.errors import UsageError
from voxcli.transcript import Usage


def new_run_id() -> str:
    """A short random id naming one run in shared logs (12 hex digits)."""
    return secrets.token_hex(6)


def _raw_bytes(name: str | None) -> str | None:
    """``name``'s bytes as base64 when it is not valid UTF-8 (surrogate escapes), else None."""
    if name is None:
        return None
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return base64.b64encode(os.fsencode(name)).decode("ascii")
    return None


class ReportWriter:
    """Appends report lines to ``path`` (created if missing, never truncated)."""

    def __init__(
        self,
        path: Path,
        *,
        run_id: str | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.run_id = run_id or new_run_id()
        self._warn = warn
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
        model: str | None = None,
        cost: float | None = None,
        elapsed: float = 0.0,
    ) -> None:
        if self._fd is None:
            return
        record: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "run": self.run_id,
            "source": source,
            "output": output,
            "status": status,
            "error": error,
            "audio_seconds": None if audio_seconds is None else round(audio_seconds, 3),
            "usage": usage.as_dict() if usage is not None else None,
            "model": model,
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "elapsed": round(elapsed, 3),
        }
        for field, name in (("source_bytes", source), ("output_bytes", output)):
            if (raw := _raw_bytes(name)) is not None:
                record[field] = raw
        # A name that is not UTF-8 (surrogate escapes) becomes a JSON \u escape: still valid.
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        try:
            written = os.write(self._fd, line)
            while written < len(line):  # only short of space or on a signal; finish the line
                written += os.write(self._fd, line[written:])
        except OSError as exc:
            self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        """One warning; no more lines (a later one could land after half a line)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._warn is not None:
            self._warn(
                f"cannot write --report {self.path}: {exc.strerror or exc}; "
                "the run goes on without it"
            )

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as exc:  # e.g. a network filesystem reporting a failed write late
                self._give_up(exc)
