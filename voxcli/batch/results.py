"""A finished job's results, read from its downloaded output and error files.

:class:`ResultIndex` reads the JSONL files once and keeps, per ``custom_id``, where its
line is (file, offset, length) or the error the API gave; a result's body is read again
from disk when its input is rendered, so memory holds offsets, not transcripts. A line
counts as failed as the SDK's batch helper counts it: an ``error``, or a ``status_code``
of 400 or more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcli.api.errors import error_detail, one_line
from voxcli.errors import ApiError

MAX_RESULT_LINE = 64 * 1024 * 1024
"""A longer line is not a transcription result: it is reported, not read."""


@dataclass(frozen=True)
class ResultLine:
    """One request's result: where its body is (success), or the API's error."""

    custom_id: str
    status_code: int | None
    error: str | None = None
    file: int = 0
    offset: int = 0
    length: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class ResultIndex:
    """Every result line of a job's files, by ``custom_id`` (the first one wins)."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self.lines: dict[str, ResultLine] = {}
        self._fds: list[int] = []
        try:
            for number, path in enumerate(self.files):
                self._fds.append(os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
                for line in _scan(path, number):
                    known = self.lines.get(line.custom_id)
                    if known is None or (not known.ok and line.ok):
                        self.lines[line.custom_id] = line
        except BaseException:
            self.close()
            raise

    def get(self, custom_id: str) -> ResultLine | None:
        return self.lines.get(custom_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def body(self, line: ResultLine) -> Any:
        """A successful line's ``response.body`` (read from disk again)."""
        raw = os.pread(self._fds[line.file], line.length, line.offset)
        try:
            return json.loads(raw)["response"]["body"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(f"the result of {line.custom_id} is damaged") from None

    def close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)

    def __enter__(self) -> ResultIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scan(path: Path, number: int) -> Iterator[ResultLine]:
    offset = 0
    with path.open("rb") as handle:
        while raw := handle.readline(MAX_RESULT_LINE + 1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            if len(raw) > MAX_RESULT_LINE:
                while raw and not raw.endswith(b"\n"):  # skip the rest of it
                    raw = handle.readline(MAX_RESULT_LINE + 1)
                    offset += len(raw)
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            line = parse_line(obj, number, start, len(raw))
            if line is not None:
                yield line


def parse_line(obj: Any, file: int = 0, offset: int = 0, length: int = 0) -> ResultLine | None:
    """One output line ``{"id", "custom_id", "response": {"status_code", "body"}, "error"}``
    as a :class:`ResultLine`; None without a custom_id (nothing to attribute it to)."""
    if not isinstance(obj, Mapping) or obj.get("custom_id") is None:
        return None
    custom_id = str(obj["custom_id"])
    raw_response = obj.get("response")
    response: Mapping[str, Any] = raw_response if isinstance(raw_response, Mapping) else {}
    status = response.get("status_code")
    status = status if isinstance(status, int) else None
    error = obj.get("error")
    if error is not None or (status is not None and status >= 400):
        return ResultLine(custom_id, status, describe_error(error, response.get("body"), status))
    return ResultLine(custom_id, status, None, file, offset, length)


def describe_error(error: Any, body: Any, status: int | None) -> str:
    """The API's reason a request failed, on one line."""
    detail = None
    for candidate in (error, body):
        if isinstance(candidate, Mapping | list):
            detail = error_detail(json.dumps(candidate))
        elif isinstance(candidate, str) and candidate:
            detail = one_line(candidate)
        if detail:
            break
    code = f"HTTP {status}" if status is not None else "error"
    return f"{code}: {detail}" if detail else code
