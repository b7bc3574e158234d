"""Pure planning: requests grouped into jobs, and each request as a job's input line.

No I/O here: :mod:`.submit` writes and uploads what these functions describe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from voxcli.api.types import TranscriptionParams
from voxcli.batch.manifest import RequestEntry
from voxcli.errors import UsageError

INLINE_MAX_REQUESTS = 1000
"""Up to this many requests go inline with the job (the SDK's own ``inline_threshold``)..."""
INLINE_MAX_BYTES = 1_000_000
"""...and only while their JSON stays this small; otherwise they go as uploaded files."""


def chunk_inputs(counts: Sequence[tuple[int, int]], limit: int) -> list[list[int]]:
    """Group ``(input index, requests)`` in order into jobs of at most ``limit`` requests;
    an input's requests (the parts of a long recording) always share one job."""
    if limit < 1:
        raise ValueError(f"a job holds at least one request, not {limit}")
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, count in counts:
        if count > limit:
            raise UsageError(
                f"input {index + 1} needs {count} requests, more than the {limit} one job holds",
                hint="pass a longer --split-minutes",
            )
        if current and size + count > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += count
    if current:
        chunks.append(current)
    return chunks


def request_body(request: RequestEntry, params: TranscriptionParams) -> dict[str, Any]:
    """The transcription request of one line, as JSON: what ``transcribe`` sends as form
    fields (the model is the job's)."""
    body: dict[str, Any] = {}
    if request.file_id is not None:
        body["file_id"] = request.file_id
    elif request.url is not None:
        body["file_url"] = request.url
    else:
        raise ValueError(f"request {request.custom_id} has no audio")
    body["diarize"] = params.diarize
    if params.language is not None:
        body["language"] = params.language
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.context_bias:
        body["context_bias"] = list(params.context_bias)
    if params.timestamp_granularities:
        body["timestamp_granularities"] = list(params.timestamp_granularities)
    if params.speaker_references:
        body["speaker_references"] = dict(params.speaker_references)
    return body


def input_line(request: RequestEntry, params: TranscriptionParams) -> bytes:
    """One JSONL line ``{"custom_id", "body"}``, newline included."""
    line = {"custom_id": request.custom_id, "body": request_body(request, params)}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def fits_inline(lines: Sequence[bytes]) -> bool:
    """Whether a job's lines are few and small enough to send with the job itself."""
    return len(lines) <= INLINE_MAX_REQUESTS and sum(map(len, lines)) <= INLINE_MAX_BYTES
