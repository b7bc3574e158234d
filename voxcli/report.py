"""``--report PATH``: one JSON line per input, written and flushed as each one finishes."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from voxcli.errors import UsageError
from voxcli.transcript import Usage


class ReportWriter:
    """Appends report lines to a file created (or truncated) when the run starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: TextIO | None = path.open("w", encoding="utf-8", newline="\n")
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
        if self._file is None:
            return
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
