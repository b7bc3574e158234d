"""Batch jobs of the fake Mistral server: records, input lines, lifecycle and output lines.

:class:`fake_mistral.FakeMistral` owns the jobs and runs their lines through its
transcription endpoint's own code; this module holds what needs no server: parsing the
input, the status a job is in, and the JSON the SDK's ``BatchJob`` validates.

Standard library only, and no import of ``fake_mistral`` (which imports this module).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIVE_STATUSES",
    "BATCH_OUTCOMES",
    "BatchLine",
    "FakeBatchJob",
    "batch_line",
    "form_fields",
    "output_line",
    "parse_jsonl",
]

#: Statuses of a job still in flight (the SDK's ``RUNNING_STATUSES``).
ACTIVE_STATUSES = frozenset({"QUEUED", "RUNNING", "CANCELLATION_REQUESTED"})

#: How a job may end (``FakeMistral.batch_outcome``).
BATCH_OUTCOMES = frozenset({"SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED"})


@dataclass
class BatchLine:
    """One request of a job: an input line, or one entry of the inline ``requests``."""

    custom_id: str | None
    body: Any  # the request body (a dict when the line is well-formed)
    problem: str | None = None  # why the line cannot be run (bad JSON, no body), if so


@dataclass
class FakeBatchJob:
    """A batch job as the fake keeps it. ``lines`` is its input, whatever it came from."""

    id: str
    endpoint: str
    model: str | None
    metadata: dict[str, str] | None
    timeout_hours: int
    input_files: list[str]
    lines: list[BatchLine]
    request: dict[str, Any]  # the create request's JSON body, as received
    created_at: int  # Unix time
    created_mono: float  # time.monotonic() at creation
    status: str = "QUEUED"
    polls: int = 0  # GETs of this job so far
    started_at: int | None = None
    completed_at: int | None = None
    output_file: str | None = None
    error_file: str | None = None
    errors: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # output lines
    succeeded: int = 0
    failed: int = 0

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES

    def stage_due(self, now_mono: float, seconds_per_step: float | None) -> int:
        """0 (queued), 1 (running) or 2 (done) by now: one step per GET, or per
        ``seconds_per_step`` seconds since creation."""
        if seconds_per_step is None:
            return min(self.polls, 2)
        if seconds_per_step <= 0:
            return 2
        return min(int((now_mono - self.created_mono) / seconds_per_step), 2)

    def lines_to_run(self, outcome: str) -> list[BatchLine]:
        """The lines a job ending with ``outcome`` has run: all of them on success, none
        when it failed (or was cancelled while queued), the first half otherwise."""
        if outcome == "SUCCESS":
            return self.lines
        if outcome == "FAILED" or self.started_at is None:
            return []
        return self.lines[: math.floor(len(self.lines) / 2)]

    def to_json(self, inline: bool = False) -> dict[str, Any]:
        """The job as the API answers it (the SDK's ``BatchJob``); ``inline`` adds
        ``outputs`` (every output line) once the job is done."""
        return {
            "id": self.id,
            "object": "batch",
            "input_files": list(self.input_files),
            "metadata": self.metadata,
            "endpoint": self.endpoint,
            "model": self.model,
            "agent_id": None,
            "output_file": self.output_file,
            "error_file": self.error_file,
            "errors": list(self.errors),
            "outputs": list(self.results) if inline and self.finished else None,
            "status": self.status,
            "created_at": self.created_at,
            "total_requests": len(self.lines),
            "completed_requests": self.succeeded + self.failed,
            "succeeded_requests": self.succeeded,
            "failed_requests": self.failed,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }


def parse_jsonl(data: bytes) -> list[BatchLine]:
    """The lines of a batch input file; malformed lines are kept, with a ``problem``."""
    lines: list[BatchLine] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            lines.append(BatchLine(None, None, f"Invalid JSON line: {exc}"))
            continue
        lines.append(batch_line(obj))
    return lines


def batch_line(obj: Any) -> BatchLine:
    """A :class:`BatchLine` from one ``{"custom_id": ..., "body": {...}}`` object."""
    if not isinstance(obj, dict):
        return BatchLine(None, obj, "Each line must be a JSON object")
    custom_id = obj.get("custom_id")
    custom_id = None if custom_id is None else str(custom_id)
    body = obj.get("body")
    if not isinstance(body, dict):
        return BatchLine(custom_id, body, "Each line needs a 'body' object")
    return BatchLine(custom_id, body)


def form_fields(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """A JSON request body as the multipart fields the SDK would send for it: lists as
    repeated values, booleans as ``true``/``false``, objects as JSON, None left out."""
    fields: dict[str, list[str]] = {}
    for key, value in body.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        fields[key] = [_form_value(v) for v in values]
    return fields


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def output_line(
    job_id: str, index: int, custom_id: str | None, status: int, body: Any
) -> dict[str, Any]:
    """One line of an output or error file; ``error`` is set when ``status`` >= 400."""
    error = None
    if status >= 400:
        message = body.get("message") if isinstance(body, dict) else body
        error = {"message": message, "code": str(status)}
    return {
        "id": f"{job_id}-{index:06d}",
        "custom_id": custom_id,
        "response": {"status_code": status, "body": body},
        "error": error,
    }
