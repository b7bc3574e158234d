"""A fake, Mistral-compatible HTTP server for tests and benchmarks.

The tests run voxcli (and through it the *real* ``mistralai`` SDK) against this
server, so every answer has exactly the shape the SDK's pydantic models validate.
The server side uses the standard library only (``http.server``); ``soundfile``
is imported lazily, and only to learn the duration of uploaded audio.

Quick start::

    with FakeMistral() as fake:
        client = Mistral(api_key=TEST_API_KEY, server_url=fake.url)
        client.audio.transcriptions.complete(model="voxtral-mini-latest", file=...)
        req = fake.transcription_requests()[0]
        assert req.fields["timestamp_granularities"] == ["segment", "word"]

Endpoints
---------
- ``POST /v1/audio/transcriptions``: a ``TranscriptionResponse``; with the form field
  ``stream=true`` an SSE stream of ``transcription.*`` events. The body is multipart, or
  ``application/x-www-form-urlencoded`` when there is no file part (``file_url``/``file_id``:
  that is what the SDK sends then); both end up in ``RecordedRequest.fields``.
  ``speaker_references`` arrives as one JSON part (``RecordedRequest.speaker_references``).
- ``POST /v1/chat/completions`` (JSON): a ``ChatCompletionResponse``; with
  ``"stream": true`` SSE ``data:`` chunks ending with ``data: [DONE]``.
- ``POST /v1/files`` (``purpose``, ``expiry`` in hours and ``visibility`` are kept on the
  :class:`StoredFile`), ``GET /v1/files``, ``GET /v1/files/{id}``, ``DELETE /v1/files/{id}``
  (ids go to ``deleted_file_ids``), ``GET /v1/files/{id}/url``, ``GET /v1/files/{id}/content``
  (``application/octet-stream``, what ``files.download`` insists on); ``GET /signed/{id}``
  serves the bytes behind a signed URL with the type they were uploaded with.
- ``GET /v1/models`` (the catalogue ``models``) and ``GET /v1/models/{id}`` (by id or alias;
  the card keeps its canonical id). ``models_endpoint = False`` makes both answer 404, like
  a gateway without them.
- ``POST /v1/batch/jobs``, ``GET /v1/batch/jobs`` (``page``, ``page_size``, ``model``,
  ``status``, ``order_by``), ``GET /v1/batch/jobs/{id}`` (``inline=true`` adds ``outputs``),
  ``POST /v1/batch/jobs/{id}/cancel``: see "Batch jobs".
- Anything else: 404 with a Mistral-style error body.

Default transcription
---------------------
The text is built from :data:`SENTENCES`, one sentence per segment, cycling. The number of
segments is ``max(2, ceil(duration / segment_seconds))`` and they split the audio duration
evenly. ``duration`` is the decoded duration of the uploaded audio; if it cannot be decoded,
``default_duration`` (2.0 s); for ``file_url`` requests ``url_duration`` (5.0 s) unless the
URL is one of our signed URLs; for ``file_id`` the uploaded file's duration.

``segments`` is present only when ``timestamp_granularities`` was sent:

- ``segment``: one entry per sentence;
- ``word``: one entry per word (the word as it appears in the text, punctuation included),
  each sentence's span split evenly over its words;
- both: every segment entry is immediately followed by the entries of its own words.

Every entry has ``type: "transcription_segment"`` (the SDK insists, even for words). With
``diarize=true`` every entry gets ``speaker_id``: ``speaker_1`` and ``speaker_2`` alternate per
segment (words inherit their segment's speaker); with ``speaker_references`` the first and
second reference names replace ``speaker_1`` and ``speaker_2``.

Validation (``strict=True``, the default) mirrors Mistral's published schema: exactly one
of ``file``/``file_url``/``file_id``; ``language`` two word characters; ``context_bias`` at most
100 terms without whitespace or commas; ``timestamp_granularities`` in {segment, word} and
not combined with ``language``; ``file_url`` at most 2083 characters; ``file_id`` known;
``speaker_references`` a JSON object of at most 8 clips of 3 to 15 s (decodable base64 audio
or a URL, which counts as ``url_duration``) and only with ``diarize=true``. Violations
answer 422 (schema) or 400 (rules) with a Mistral-style error body.

Models
------
``models`` starts as :func:`fake_models.default_catalogue` (Voxtral 3, ``voxtral-mini-2602``
alias ``voxtral-mini-latest`` with word timestamps, a deprecated realtime model, the chat
model ``voxtral-small-2507`` and ``mistral-small-2506``; ``voxtral-mini-2507`` is retired, so
absent). Replace, add (:func:`fake_models.model_card`) or delete cards at will. With
``enforce_models=True`` (the default) a transcription is refused like the API does: 404 for
a model without a card, 400 for a model without offline transcription (chat or realtime), a
``language`` the card does not list, ``word`` (exactly "Word-level segments are not enabled
for this model"), diarization or ``context_bias`` the card lacks, or audio + bias tokens over
``max_context_length`` (12.5 tokens per audio second; a bias term is one token per 4
characters, at least 1). Chat answers 404 for a model without a card and 400 when a chat
model's context is exceeded; a card without ``completion_chat`` is let through (voxcli's
chat defaults to ``voxtral-mini-latest``). Names in ``unlisted_models`` (by default
:data:`UNLISTED_TEST_MODELS`) skip every model check. ``models_requests()`` counts lookups.

Batch jobs
----------
Only ``endpoint="/v1/audio/transcriptions"``. A job takes ``input_files`` (files uploaded
with ``purpose="batch"``, JSONL lines ``{"custom_id": ..., "body": {...}}``) or inline
``requests``, and the ``model`` (checked at creation: 404/400 as above). It is created
QUEUED; every ``GET`` of it moves it one step (RUNNING, then done), or, with
``batch_step_seconds`` set, one step per that many seconds. When done it ends as
``batch_outcome`` says: SUCCESS runs every line, FAILED none (and a job error),
TIMEOUT_EXCEEDED and CANCELLED the first half. ``cancel`` sets CANCELLATION_REQUESTED; the
next ``GET`` settles it on CANCELLED (half the lines if it had started, none otherwise).
Each line is answered exactly as ``POST /v1/audio/transcriptions`` would answer its body
(same checks, default answer or override, the ``file_id``'s real duration); lines whose
``custom_id`` is in :meth:`FakeMistral.fail_batch_requests` fail as told. Successes go to the
``output_file``, failures to the ``error_file`` (each absent when empty), as lines ``{"id",
"custom_id", "response": {"status_code", "body"}, "error"}``. Jobs are kept in
``batch_jobs`` (:class:`fake_batch.FakeBatchJob`, with their input ``lines``).

Running it on its own
---------------------
``python tests/fake_mistral.py [--port 8799] [--latency SECONDS] [--require-key]`` serves on
127.0.0.1 in the foreground (port 0, the default, picks a free one), prints one line
``export MISTRAL_SERVER_URL=... MISTRAL_API_KEY=...`` and stops on Ctrl-C or SIGTERM.

Faults, auth and timing
-----------------------
Faults are queued and consumed one per matching request, in order. ``fail_next`` and
``drop_next`` share one queue (they decide the outcome); ``slow_next`` has its own queue, so
a request can be both slow and failed. Faults are applied before the auth check. Every
request is recorded, faulted or not. The answer to a request is delayed by ``latency`` +
``latency_per_audio_second * duration`` (transcription and chat only) + any ``slow_next`` +
``delay_fn(request)``; delays are interruptible, so :meth:`FakeMistral.stop` never hangs.
Model lookups (``/v1/models``) are the exception: ``latency`` and ``delay_fn`` skip them,
and so do faults and waits that name no ``path``, so tests about the work that follows a
lookup need not count it.

Hostile answers share the ``fail_next``/``drop_next`` queue:

- ``drip_next(interval)``: a 200 whose body (``body``, by default 100 KB of JSON whitespace
  then ``{}``) goes out one byte every ``interval`` seconds; with ``headers=True`` the status
  line goes out and then an endless header, one byte per ``interval``.
- ``flood_next(size)``: a 200 JSON answer of ``size`` bytes of whitespace (then ``{}``), or a
  never-ending chunked one with ``size=None``; written as fast as the client reads.
- ``end_next(after_events=N)``: a stream that ends *cleanly* (the terminating chunk) after
  N SSE frames, before its final event (``transcription.done``, ``[DONE]``).
- A redirect is a ``fail_next(307, headers={"Location": ...})``; point it at a second
  :class:`FakeMistral` for another origin.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hashlib
import io
import json
import math
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, parse_qsl, urlsplit

from fake_batch import (
    BATCH_OUTCOMES,
    BatchLine,
    FakeBatchJob,
    batch_line,
    form_fields,
    output_line,
    parse_jsonl,
)
from fake_models import (
    ApiError,
    audio_tokens,
    check_model_exists,
    check_transcription,
    default_catalogue,
    find_card,
)

__all__ = [
    "SENTENCES",
    "TEST_API_KEY",
    "UNLISTED_TEST_MODELS",
    "ApiError",
    "FakeBatchJob",
    "FakeMistral",
    "Headers",
    "MultipartParser",
    "RecordedRequest",
    "StoredFile",
    "UploadedFile",
    "main",
    "parse_multipart",
    "probe_audio_duration",
    "sse_frame",
]

#: A recognisable, obviously fake key: tests assert it never leaks into output or logs.
TEST_API_KEY = "sk-test-SECRET-6f1c2e"

#: The fixed sentences the default transcription is made of (one per segment, cycling).
SENTENCES: tuple[str, ...] = (
    "Hello from the fake Mistral server.",
    "This transcript is generated, not heard.",
    "Each segment is one sentence from a fixed list.",
    "The timestamps are spread evenly over the audio.",
    "Tests can rely on this text being deterministic.",
    "Speakers alternate when diarization is on.",
    "Word timings split every sentence evenly.",
    "That is all for this part of the recording.",
)

#: Made-up model names other tests send (config precedence tests): accepted without a card
#: and never checked. Extend ``FakeMistral.unlisted_models`` rather than this.
UNLISTED_TEST_MODELS: frozenset[str] = frozenset({"from-config", "from-env", "from-flag"})

MAX_SPEAKER_REFERENCES = 8
SPEAKER_REFERENCE_SECONDS = (3.0, 15.0)  # inclusive range of a reference clip's duration

_READ_CHUNK = 256 * 1024
_HEAD_BYTES = 256 * 1024  # bytes of each uploaded file kept for probing when bodies are dropped
_MAX_PART_HEADERS = 64 * 1024

TranscriptionOverride = Mapping[str, Any] | Callable[["RecordedRequest", float], Mapping[str, Any]]
StreamEvents = list[tuple[str, Mapping[str, Any]]]
StreamOverride = StreamEvents | Callable[["RecordedRequest", float], StreamEvents]
ChatOverride = str | Callable[["RecordedRequest"], "str | Mapping[str, Any]"]


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """Read-only HTTP headers with case-insensitive lookup; keeps repeated headers."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)

    def __getitem__(self, key: str) -> str:
        lower = key.lower()
        for k, v in self._items:
            if k.lower() == lower:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._items:
            if k.lower() not in seen:
                seen.add(k.lower())
                yield k

    def __len__(self) -> int:
        return len({k.lower() for k, _ in self._items})

    def get_all(self, key: str) -> list[str]:
        """Every value of a (possibly repeated) header, in order."""
        return [v for k, v in self._items if k.lower() == key.lower()]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class UploadedFile:
    """A file part of a multipart request (or a file stored by ``POST /v1/files``)."""

    filename: str | None
    content_type: str | None
    data: bytes | None  # None when the server runs with keep_bodies=False
    size: int = 0
    sha256: str = ""
    field_name: str = "file"
    duration: float | None = None  # decoded audio duration in seconds, None if not audio

    @classmethod
    def from_bytes(
        cls, data: bytes, filename: str | None = None, content_type: str | None = None
    ) -> UploadedFile:
        """Build a record from complete file bytes."""
        return cls(
            filename=filename,
            content_type=content_type,
            data=data,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            duration=probe_audio_duration(data),
        )


@dataclass
class StoredFile(UploadedFile):
    """A file kept by the Files API (an upload, or a batch job's output) with its metadata."""

    purpose: str | None = None
    expiry: int | None = None  # hours, as sent with the upload
    visibility: str | None = None
    created_at: int = 0  # Unix time
    source: str = "upload"  # "upload", or "mistral" for files the fake wrote
    sample_type: str = "instruct"  # "batch_request", "batch_result", "batch_error", ...

    @classmethod
    def from_upload(cls, upload: UploadedFile, **meta: Any) -> StoredFile:
        """Keep ``upload`` (a multipart file part) with the metadata ``meta``."""
        parts = {f.name: getattr(upload, f.name) for f in dataclasses.fields(UploadedFile)}
        return cls(**parts, **meta)

    @property
    def expires_at(self) -> int | None:
        return None if self.expiry is None else self.created_at + self.expiry * 3600

    @property
    def num_lines(self) -> int | None:
        """Non-empty lines of a batch file (None for other files)."""
        if self.purpose != "batch" or self.data is None:
            return None
        return sum(1 for line in self.data.splitlines() if line.strip())


@dataclass
class RecordedRequest:
    """One request the fake received. Times are ``time.monotonic()`` values."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: Headers
    body: bytes | None = None  # raw body; None when keep_bodies=False (see body_size)
    body_size: int = 0
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = dataclasses.field(default_factory=dict)
    json: Any = None
    received_at: float = 0.0  # request line read
    body_read_at: float | None = None  # whole body read
    finished_at: float | None = None  # response written, connection dropped or client gone
    audio_seconds: float | None = None  # decoded duration of the audio sent, if known
    status: int | None = None  # status code answered; None when no answer was sent
    #: "fail", "drop", "auth", "drip", "flood" or "end" when the answer was an injected fault
    fault: str | None = None
    client_aborted: bool = False  # the client went away before the exchange completed

    def field(self, name: str, default: str | None = None) -> str | None:
        """First value of a multipart text field."""
        values = self.fields.get(name)
        return values[0] if values else default

    def file(self, name: str = "file") -> UploadedFile | None:
        """First uploaded file of a multipart field."""
        values = self.files.get(name)
        return values[0] if values else None

    @property
    def speaker_references(self) -> dict[str, str] | None:
        """The ``speaker_references`` field (one JSON part) parsed: name -> reference audio;
        None when absent or not a JSON object."""
        raw = self.field("speaker_references")
        if raw is None:
            return None
        try:
            refs = json.loads(raw)
        except ValueError:
            return None
        return refs if isinstance(refs, dict) else None

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header as sent, if any."""
        return self.headers.get("Authorization")

    @property
    def duration(self) -> float | None:
        """Seconds from the request line to the end of the exchange."""
        return None if self.finished_at is None else self.finished_at - self.received_at


# --------------------------------------------------------------------------------------
# Helpers: multipart, SSE, audio
# --------------------------------------------------------------------------------------


class PartSink(Protocol):
    """Receives the body of one multipart part (``data`` may be a memoryview)."""

    def write(self, data: bytes | memoryview) -> None: ...

    def close(self) -> None: ...


_PARAM_RE = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="x"; filename="y"`` into ``("form-data", {...})``.

    Quoted values are unescaped the way httpx (and browsers) escape them: backslash escapes,
    ``%22`` for a double quote and ``%XX`` for control characters.
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for m in _PARAM_RE.finditer(";" + rest):
        key, raw = m.group(1).lower(), m.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            raw = re.sub(r"%([01][0-9A-Fa-f]|22)", lambda mm: chr(int(mm.group(1), 16)), raw)
        params[key] = raw
    return main.strip().lower(), params


class MultipartParser:
    """Incremental ``multipart/form-data`` parser: feed it chunks of any size.

    For every part, ``on_part(headers)`` is called with the part's headers (lower-cased
    names) and must return a :class:`PartSink` that gets the part's bytes.
    """

    def __init__(self, boundary: bytes, on_part: Callable[[dict[str, str]], PartSink]) -> None:
        self._delim = b"\r\n--" + boundary
        self._buf = bytearray(b"\r\n")  # lets the opening boundary match like the others
        self._state = "preamble"
        self._sink: PartSink | None = None
        self._on_part = on_part
        self.finished = False

    def feed(self, data: bytes) -> None:
        """Parse another chunk of the body."""
        if self._state == "epilogue":
            return
        keep = len(self._delim) - 1
        if self._state == "body" and self._sink is not None and len(data) > 4 * keep:
            # Fast path for big parts: no copy through the buffer when ``data`` holds no
            # delimiter (the carried tail is shorter than one, so check the seam separately).
            tail = bytes(self._buf)
            if (tail + data[:keep]).find(self._delim) < 0 and data.find(self._delim) < 0:
                if tail:
                    self._sink.write(tail)
                view = memoryview(data)
                self._sink.write(view[:-keep])
                self._buf = bytearray(view[-keep:])
                return
        self._buf += data
        self._run()

    def close(self) -> None:
        """Signal the end of the body; raises ValueError if it was truncated."""
        if not self.finished:
            raise ValueError("multipart body ended before the closing boundary")

    def _run(self) -> None:
        buf, delim = self._buf, self._delim
        while True:
            if self._state in ("preamble", "body"):
                i = buf.find(delim)
                if i < 0:
                    safe = len(buf) - (len(delim) - 1)
                    if safe > 0:
                        if self._sink is not None:
                            self._sink.write(bytes(buf[:safe]))
                        del buf[:safe]
                    return
                if self._sink is not None:
                    self._sink.write(bytes(buf[:i]))
                    self._sink.close()
                    self._sink = None
                del buf[: i + len(delim)]
                self._state = "after_delim"
            elif self._state == "after_delim":
                if len(buf) < 2:
                    return
                if buf[:2] == b"--":
                    self._state, self.finished = "epilogue", True
                    buf.clear()
                    return
                j = buf.find(b"\r\n")
                if j < 0:
                    if len(buf) > 1024:
                        raise ValueError("malformed multipart boundary line")
                    return
                del buf[: j + 2]
                self._state = "headers"
            elif self._state == "headers":
                if buf.startswith(b"\r\n"):
                    block, end = b"", 2
                else:
                    j = buf.find(b"\r\n\r\n")
                    if j < 0:
                        if len(buf) > _MAX_PART_HEADERS:
                            raise ValueError("multipart part headers too long")
                        return
                    block, end = bytes(buf[:j]), j + 4
                del buf[:end]
                headers: dict[str, str] = {}
                for line in block.decode("utf-8", "replace").split("\r\n"):
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                self._sink = self._on_part(headers)
                self._state = "body"
            else:
                buf.clear()
                return


class _FieldSink:
    """Collects one multipart part into ``fields`` or ``files``."""

    def __init__(
        self,
        headers: dict[str, str],
        fields: dict[str, list[str]],
        files: dict[str, list[UploadedFile]],
        keep_data: bool,
    ) -> None:
        _, params = parse_header_params(headers.get("content-disposition", ""))
        self.name = params.get("name", "")
        self.filename = params.get("filename")
        self.content_type = headers.get("content-type")
        self.keep_data = keep_data or self.filename is None  # text fields are always kept
        self._fields, self._files = fields, files
        self._chunks: list[bytes] = []
        self._head = bytearray()
        self._size = 0
        self._hash = hashlib.sha256()

    def write(self, data: bytes | memoryview) -> None:
        if not len(data):
            return
        self._size += len(data)
        if self.filename is None:
            self._chunks.append(bytes(data))
            return
        self._hash.update(data)
        if self.keep_data:
            self._chunks.append(bytes(data))
        elif len(self._head) < _HEAD_BYTES:
            self._head += data[: _HEAD_BYTES - len(self._head)]

    def close(self) -> None:
        if self.filename is None:
            text = b"".join(self._chunks).decode("utf-8", "replace")
            self._fields.setdefault(self.name, []).append(text)
            return
        data = b"".join(self._chunks) if self.keep_data else None
        probe = data if data is not None else bytes(self._head)
        self._files.setdefault(self.name, []).append(
            UploadedFile(
                filename=self.filename,
                content_type=self.content_type,
                data=data,
                size=self._size,
                sha256=self._hash.hexdigest(),
                field_name=self.name,
                duration=probe_audio_duration(probe, self._size),
            )
        )


def multipart_boundary(content_type: str) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type, or None."""
    kind, params = parse_header_params(content_type or "")
    if not kind.startswith("multipart/") or "boundary" not in params:
        return None
    return params["boundary"].encode("latin-1")


def parse_multipart(
    body: bytes, content_type: str, keep_data: bool = True
) -> tuple[dict[str, list[str]], dict[str, list[UploadedFile]]]:
    """Parse a complete ``multipart/form-data`` body into ``(fields, files)``.

    Parts without a ``filename`` are text fields (repeated names keep their order); parts
    with one are files.
    """
    boundary = multipart_boundary(content_type)
    if boundary is None:
        raise ValueError(f"not a multipart content type: {content_type!r}")
    fields: dict[str, list[str]] = {}
    files: dict[str, list[UploadedFile]] = {}
    parser = MultipartParser(boundary, lambda h: _FieldSink(h, fields, files, keep_data))
    parser.feed(body)
    parser.close()
    return fields, files


def sse_frame(data: Any, event: str | None = None) -> bytes:
    """One server-sent-events frame: optional ``event:`` line, ``data:`` line(s), blank line.

    ``data`` that is not a string is JSON-encoded (compactly, on one line).
    """
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in text.split("\n")]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def _wav_duration(head: bytes, total_size: int | None) -> float | None:
    """Duration of a RIFF/WAVE file from its header (and the real size when it is known)."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    order = "little" if head[:4] == b"RIFF" else "big"
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], order)
        body = pos + 8
        if cid == b"fmt " and body + 12 <= len(head):
            byte_rate = int.from_bytes(head[body + 8 : body + 12], order)
        elif cid == b"data":
            if byte_rate <= 0:
                return None
            available = (total_size if total_size is not None else len(head)) - body
            if size in (0, 0xFFFFFFFF) or size > available:
                size = max(available, 0)
            return size / byte_rate
        pos = body + size + (size & 1)
    return None


def probe_audio_duration(data: bytes, total_size: int | None = None) -> float | None:
    """Audio duration in seconds, or None if ``data`` is not decodable audio.

    ``data`` is normally the whole file. When only the first bytes are available, pass the
    file's real size as ``total_size``: WAV durations are then exact (from the header), other
    formats are estimated by libsndfile from what is there.
    """
    if not data:
        return None
    partial = total_size is not None and total_size > len(data)
    if partial:
        wav = _wav_duration(data, total_size)
        if wav is not None:
            return wav
    try:
        import soundfile  # lazily: the server itself needs nothing outside the stdlib

        info = soundfile.info(io.BytesIO(data))
        if info.samplerate > 0 and info.frames >= 0:
            return info.frames / info.samplerate
    except Exception:
        pass
    return None if partial else _wav_duration(data, total_size)


def _error_body(status: int, message: Any, err_type: str | None = None) -> dict[str, Any]:
    """A Mistral-style error body."""
    default_types = {
        400: "invalid_request_error",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
        422: "invalid_request_message_error",
        429: "rate_limited",
    }
    return {
        "object": "error",
        "message": message,
        "type": err_type or default_types.get(status, "internal_server_error"),
        "param": None,
        "code": str(status),
    }


def _default_fault_message(status: int) -> str:
    if status == 429:
        return "Requests rate limit exceeded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _invalid(loc: str, msg: str, kind: str, value: Any) -> ApiError:
    """A 422 schema error about body field ``loc``, shaped like Mistral's (pydantic's)."""
    return ApiError(
        422, {"detail": [{"type": kind, "loc": ["body", loc], "msg": msg, "input": value}]}
    )


def _missing(loc: str, value: Any = None) -> ApiError:
    return _invalid(loc, "Field required", "missing", value)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


@dataclass
class _Fault:
    kind: str  # "fail" | "drop" | "slow" | "drip" | "flood" | "end"
    remaining: int
    path: str | None
    status: int = 500
    headers: dict[str, str] | None = None
    body: Any = None
    seconds: float = 0.0
    reset: bool = False
    after_events: int | None = None
    when: Callable[[RecordedRequest], bool] | None = None
    size: int | None = None
    drip_headers: bool = False


class _ClientGone(Exception):
    """The client closed the connection (or the server is stopping)."""


class _Throttle:
    """Blocks reads so that the average rate stays at ``rate`` bytes per second."""

    def __init__(self, rate: float | None, stopping: threading.Event) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.start = time.monotonic()
        self.total = 0
        self.stopping = stopping

    @property
    def chunk(self) -> int:
        if self.rate is None:
            return _READ_CHUNK
        return int(max(4096, min(_READ_CHUNK, self.rate / 50)))

    def consumed(self, n: int) -> None:
        self.total += n
        if self.rate is None:
            return
        wait = self.start + self.total / self.rate - time.monotonic()
        if wait > 0 and self.stopping.wait(wait):
            raise _ClientGone


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True
    fake: FakeMistral

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "FakeMistral/1.0"
    sys_version = ""
    #: called once, right before the last bytes of an answer go out (or the connection is
    #: dropped), so the records are final by the time the client sees the answer
    completion: Callable[[], None] | None = None
    #: whether the answer is an SSE stream (chunked), set by :meth:`start_sse`
    sse_started = False

    def completed(self) -> None:
        if self.completion is not None:
            callback, self.completion = self.completion, None
            callback()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK hold the body back ~40 ms on every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._register_connection(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._unregister_connection(self.connection)

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- body -------------------------------------------------------------------------

    def _read_exact(self, n: int, throttle: _Throttle) -> Iterator[bytes]:
        remaining = n
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, throttle.chunk))
            if not chunk:
                raise _ClientGone
            remaining -= len(chunk)
            throttle.consumed(len(chunk))
            yield chunk

    def iter_body(self, throttle: _Throttle) -> Iterator[bytes]:
        """The request body in chunks (Content-Length or chunked transfer encoding)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise _ClientGone
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield from self._read_exact(size, throttle)
                self.rfile.readline()
        else:
            yield from self._read_exact(int(self.headers.get("Content-Length") or 0), throttle)

    # -- answers ----------------------------------------------------------------------

    def send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> bytes:
        payload = obj if isinstance(obj, bytes) else json.dumps(obj).encode("utf-8")
        self.send_bytes(status, payload, "application/json", headers)
        return payload

    def send_bytes(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        self.send_response(status)
        hdrs = {"Content-Type": content_type, **(headers or {})}
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.completed()
        if self.command != "HEAD":
            self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
        self.wfile.flush()

    def start_sse(self, status: int = 200) -> None:
        self.sse_started = True
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunks(self) -> None:
        self.completed()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self, reset: bool = False) -> None:
        """Close the connection without (finishing) an answer; RST instead of FIN if reset."""
        self.close_connection = True
        self.completed()
        try:
            if reset:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FakeMistral:
    """A fake Mistral API on ``127.0.0.1``; see the module docstring for the behaviour.

    Persistent knobs (plain attributes, change them any time): ``latency``,
    ``latency_per_audio_second``, ``read_bandwidth`` (bytes/s, None = unlimited),
    ``delay_fn``, ``stream_interval`` (seconds between SSE frames), ``default_duration``,
    ``url_duration``, ``segment_seconds``, ``strict``, ``enforce_models``, ``models``,
    ``models_endpoint``, ``unlisted_models``, ``batch_outcome``, ``batch_step_seconds``.
    """

    def __init__(
        self,
        *,
        keep_bodies: bool = True,
        latency: float = 0.0,
        latency_per_audio_second: float = 0.0,
        read_bandwidth: float | None = None,
        delay_fn: Callable[[RecordedRequest], float] | None = None,
        stream_interval: float = 0.0,
        default_duration: float = 2.0,
        url_duration: float = 5.0,
        segment_seconds: float = 5.0,
        strict: bool = True,
        enforce_models: bool = True,
        batch_step_seconds: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.keep_bodies = keep_bodies
        self.latency = latency
        self.latency_per_audio_second = latency_per_audio_second
        self.read_bandwidth = read_bandwidth
        self.delay_fn = delay_fn
        self.stream_interval = stream_interval
        self.default_duration = default_duration
        self.url_duration = url_duration
        self.segment_seconds = segment_seconds
        self.strict = strict
        self.enforce_models = enforce_models
        self.batch_step_seconds = batch_step_seconds
        self.host = host
        self.requested_port = port

        #: the model catalogue: cards by model id (see ``fake_models.model_card``)
        self.models: dict[str, dict[str, Any]] = default_catalogue()
        #: False: ``/v1/models`` answers 404, like a gateway that does not expose it
        self.models_endpoint = True
        #: model names accepted without a card and without any model check
        self.unlisted_models: set[str] = set(UNLISTED_TEST_MODELS)
        #: how batch jobs end: SUCCESS, FAILED, TIMEOUT_EXCEEDED or CANCELLED
        self.batch_outcome = "SUCCESS"
        #: custom_id -> the error its batch request gets (see :meth:`fail_batch_requests`)
        self.batch_request_failures: dict[str, ApiError] = {}
        #: every batch job created, by id
        self.batch_jobs: dict[str, FakeBatchJob] = {}
        self.uploaded_files: dict[str, StoredFile] = {}
        self.deleted_file_ids: list[str] = []
        #: exceptions raised while answering (e.g. by an override callable); answered as 500
        self.errors: list[BaseException] = []
        self.max_in_flight = 0
        self.in_flight = 0

        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._slow: list[_Fault] = []
        self._transcription: TranscriptionOverride | None = None
        self._transcription_stream: StreamOverride | None = None
        self._chat: ChatOverride | None = None
        self._required_key: str | None = None
        self._reject_all = False
        self._counter = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        #: WebSocket endpoints by path: a GET with ``Upgrade: websocket`` on one of these
        #: paths is recorded like any request, then handed over whole to the route, which
        #: owns the connection (``h.rfile`` holds what the client sent after the headers,
        #: ``h.connection`` is the socket) until it returns; the connection is closed then.
        self.websocket_routes: dict[str, Callable[[_Handler, RecordedRequest], None]] = {}

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeMistral:
        """Bind a random port on ``host`` and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server((self.host, self.requested_port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.name = f"FakeMistral:{self.port}"
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; in-flight requests are cut off (their sleeps end at once)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeMistral:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeMistral is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (what the SDK calls ``server_url``)."""
        return f"http://{self.host}:{self.port}"

    # -- records ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    def transcription_requests(self) -> list[RecordedRequest]:
        """``POST /v1/audio/transcriptions`` requests (complete and stream)."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.rstrip("/") == "/v1/audio/transcriptions"
        ]

    def chat_requests(self) -> list[RecordedRequest]:
        """``POST /v1/chat/completions`` requests."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and r.path.rstrip("/") == "/v1/chat/completions"
        ]

    def file_requests(self) -> list[RecordedRequest]:
        """Requests under ``/v1/files``."""
        return [r for r in self.requests if r.path.startswith("/v1/files")]

    def work_requests(self) -> list[RecordedRequest]:
        """Every request but the model lookups (``/v1/models``) that precede the work."""
        return [r for r in self.requests if not r.path.startswith("/v1/models")]

    def models_requests(self) -> list[RecordedRequest]:
        """Requests under ``/v1/models`` (list and retrieve), answered or not."""
        return [r for r in self.requests if r.path.startswith("/v1/models")]

    def batch_requests(self) -> list[RecordedRequest]:
        """Requests under ``/v1/batch``."""
        return [r for r in self.requests if r.path.startswith("/v1/batch")]

    def wait_for_requests(
        self, count: int, timeout: float = 5.0, path: str | None = None
    ) -> list[RecordedRequest]:
        """Block until ``count`` requests (under ``path``; without it, model lookups do not
        count) were received."""
        deadline = time.monotonic() + timeout

        def matching() -> list[RecordedRequest]:
            if path is None:
                return [r for r in self._requests if not r.path.startswith("/v1/models")]
            return [r for r in self._requests if r.path.startswith(path)]

        with self._changed:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"got {len(matching())} of {count} requests")
                self._changed.wait(left)
            return matching()

    def reset(self) -> None:
        """Forget requests, uploaded files, batch jobs, queued faults, response overrides and
        batch request failures.

        Auth settings, the timing and batch knobs and the model catalogue are left as they are.
        """
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._slow.clear()
            self.uploaded_files.clear()
            self.deleted_file_ids.clear()
            self.batch_jobs.clear()
            self.batch_request_failures.clear()
            self.errors.clear()
            self._transcription = self._transcription_stream = self._chat = None
            self.max_in_flight = self.in_flight

    # -- behaviour ----------------------------------------------------------------------

    def set_transcription(self, answer: TranscriptionOverride | None) -> None:
        """Override the transcription answer (also used for ``transcription.done``).

        ``answer`` is a dict sent as is, or ``callable(request, duration) -> dict`` where
        ``duration`` is the effective audio duration in seconds. None restores the default
        (:meth:`default_transcription`, handy to start from in a callable).
        """
        self._transcription = answer

    def set_transcription_stream(self, events: StreamOverride | None) -> None:
        """Override the streamed events: a list of ``(event_name, data_dict)`` or
        ``callable(request, duration) -> list``. None restores the default."""
        self._transcription_stream = events

    def set_chat(self, answer: ChatOverride | None) -> None:
        """Override the chat answer: a text, or ``callable(request) -> text | dict``.

        A dict is sent as the whole (non-streaming) response body. None restores the default.
        """
        self._chat = answer

    def fail_batch_requests(
        self, *custom_ids: str, status: int = 500, message: str = "Internal server error"
    ) -> None:
        """Make the batch requests with these ``custom_id`` fail with ``status`` and a
        Mistral-style error body holding ``message`` (in every job, until :meth:`reset`)."""
        for custom_id in custom_ids:
            self.batch_request_failures[custom_id] = ApiError(status, message)

    def require_key(self, key: str | None = TEST_API_KEY) -> None:
        """Answer 401 unless ``Authorization: Bearer <key>``; None turns the check off."""
        self._required_key = key

    def reject_all_keys(self, reject: bool = True) -> None:
        """Answer 401 to every request (a revoked key)."""
        self._reject_all = reject

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        path: str | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` requests (under ``path``, and for which ``when`` holds)
        with ``status``. Without ``path``, model lookups (``/v1/models``) are not counted:
        every fault method aims at the work requests unless told otherwise.

        ``body``: None for a Mistral-style error JSON, a dict/list for JSON, str/bytes as is.
        ``when`` picks requests by content (e.g. an uploaded file's name), for tests where
        the order requests arrive in is not fixed.
        """
        self._queue(
            self._faults,
            _Fault(
                "fail",
                times,
                path,
                status=status,
                headers=dict(headers or {}),
                body=body,
                when=when,
            ),
        )

    def drop_next(
        self,
        times: int = 1,
        path: str | None = None,
        *,
        reset: bool = False,
        after_events: int | None = None,
    ) -> None:
        """Close the connection of the next ``times`` requests after reading them.

        By default nothing is answered and the socket is closed cleanly (httpx raises
        ``RemoteProtocolError``); ``reset=True`` sends a TCP RST instead (``ReadError``, which
        the SDK counts as a connection error). With ``after_events=N`` the answer starts
        normally and is cut off: after N SSE frames for streams, half-way through the body
        for other answers.
        """
        self._queue(
            self._faults, _Fault("drop", times, path, reset=reset, after_events=after_events)
        )

    def drip_next(
        self,
        interval: float,
        times: int = 1,
        path: str | None = None,
        *,
        body: bytes | None = None,
        headers: bool = False,
    ) -> None:
        """Answer the next ``times`` requests with a 200 that drips one byte every
        ``interval`` seconds: the body (``body``, by default 100 KB of JSON whitespace and
        ``{}``) after the headers, or with ``headers=True`` an endless header line, so the
        answer never starts. Each read the client makes gets a byte well within any
        per-read timeout; only a deadline on the whole request ends it."""
        self._queue(
            self._faults,
            _Fault("drip", times, path, seconds=interval, body=body, drip_headers=headers),
        )

    def flood_next(self, size: int | None = None, times: int = 1, path: str | None = None) -> None:
        """Answer the next ``times`` requests with a 200 JSON body of ``size`` bytes (all
        whitespace but a final ``{}``) or, with ``size=None``, a never-ending chunked one;
        written as fast as the client reads, until it goes away."""
        self._queue(self._faults, _Fault("flood", times, path, size=size))

    def end_next(self, after_events: int = 1, times: int = 1, path: str | None = None) -> None:
        """End the next ``times`` streamed answers cleanly (the terminating chunk, no error)
        after ``after_events`` SSE frames: a stream without its final event. A non-streamed
        answer is cut half-way and the connection closed, as ``drop_next`` does."""
        self._queue(self._faults, _Fault("end", times, path, after_events=after_events))

    def slow_next(self, seconds: float, times: int = 1, path: str | None = None) -> None:
        """Delay the answer to the next ``times`` requests (under ``path``) by ``seconds``."""
        self._queue(self._slow, _Fault("slow", times, path, seconds=seconds))

    def _queue(self, queue: list[_Fault], fault: _Fault) -> None:
        if fault.remaining > 0:
            with self._lock:
                queue.append(fault)

    def _pop(self, queue: list[_Fault], rec: RecordedRequest) -> _Fault | None:
        with self._lock:
            for fault in queue:
                if fault.when is not None and not fault.when(rec):
                    continue
                # A fault for "the next request" is meant for the work that follows the
                # model lookup, not for the lookup: name path="/v1/models" to hit that.
                aimed = (
                    not rec.path.startswith("/v1/models")
                    if fault.path is None
                    else rec.path.startswith(fault.path)
                )
                if aimed:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.remove(fault)
                    return fault
        return None

    # -- connection bookkeeping --------------------------------------------------------------

    def _register_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _unregister_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _ClientGone

    # -- request handling -----------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        rec = RecordedRequest(
            method=h.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=Headers(h.headers.items()),
            received_at=time.monotonic(),
        )
        with self._changed:
            self._requests.append(rec)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._changed.notify_all()
        h.completion = lambda: self._finish(rec)
        route = self.websocket_routes.get(rec.path)
        try:
            if route is not None and rec.headers.get("Upgrade", "").lower() == "websocket":
                h.close_connection = True
                route(h, rec)
                return
            self._read_request(h, rec)
            self._respond(h, rec)
        except (_ClientGone, ConnectionError, OSError):
            rec.client_aborted = True
            h.close_connection = True
        except Exception as exc:  # a bug here or in a test's override: make it visible
            self.errors.append(exc)
            h.close_connection = True
            if rec.status is None:
                with contextlib.suppress(OSError):
                    self._error(h, rec, 500, f"FakeMistral error: {exc!r}")
        finally:
            h.completed()

    def _finish(self, rec: RecordedRequest) -> None:
        rec.finished_at = time.monotonic()
        with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def _read_request(self, h: _Handler, rec: RecordedRequest) -> None:
        content_type = rec.headers.get("Content-Type", "")
        boundary = multipart_boundary(content_type)
        is_json = "json" in content_type.lower()
        # the SDK sends a multipart request without a file part (file_url / file_id) as
        # application/x-www-form-urlencoded: parse that into ``fields`` too
        is_form = "x-www-form-urlencoded" in content_type.lower()
        keep = self.keep_bodies
        parser = (
            MultipartParser(boundary, lambda hd: _FieldSink(hd, rec.fields, rec.files, keep))
            if boundary is not None
            else None
        )
        chunks: list[bytes] = []
        throttle = _Throttle(self.read_bandwidth, self._stopping)
        malformed = False
        for chunk in h.iter_body(throttle):
            rec.body_size += len(chunk)
            if keep or (parser is None and (is_json or is_form)):
                chunks.append(chunk)
            if parser is not None and not malformed:
                try:
                    parser.feed(chunk)
                except ValueError:
                    malformed = True
        rec.body_read_at = time.monotonic()
        raw = b"".join(chunks)
        rec.body = raw if keep else None
        if is_json and raw:
            try:
                rec.json = json.loads(raw)
            except ValueError:
                rec.json = None
        elif is_form:
            for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
                rec.fields.setdefault(key, []).append(value)

    def _respond(self, h: _Handler, rec: RecordedRequest) -> None:
        fault = self._pop(self._faults, rec)
        slow = self._pop(self._slow, rec)
        duration = self._effective_duration(rec)
        lookup = rec.path.startswith("/v1/models")  # answered at once, like a cached card
        delay = (0.0 if lookup else self.latency) + (slow.seconds if slow else 0.0)
        if duration is not None:
            delay += self.latency_per_audio_second * duration
        if self.delay_fn is not None and not lookup:
            delay += float(self.delay_fn(rec))
        self._sleep(delay)

        if fault is not None and fault.kind == "drop" and fault.after_events is None:
            rec.fault = "drop"
            h.drop(fault.reset)
            return
        if fault is not None and fault.kind == "fail":
            rec.fault = "fail"
            self._send_fault(h, rec, fault)
            return
        if fault is not None and fault.kind in ("drip", "flood"):
            rec.fault = fault.kind
            rec.status = 200
            h.close_connection = True
            if fault.kind == "drip":
                self._drip(h, fault)
            else:
                self._flood(h, fault.size)
            return
        if not self._authorized(rec):
            rec.fault = "auth"
            rec.status = 401
            h.send_json(401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex})
            return
        cut = fault.after_events if fault is not None else None
        if cut is not None:
            rec.fault = "end" if fault is not None and fault.kind == "end" else "drop"
        try:
            self._route(h, rec, duration, cut)
        except ApiError as err:
            self._error(h, rec, err.status, err.message)
        if cut is not None and not (rec.fault == "end" and h.sse_started):
            h.drop(fault.reset if fault else False)

    def _send_fault(self, h: _Handler, rec: RecordedRequest, fault: _Fault) -> None:
        headers = dict(fault.headers or {})
        body = fault.body
        rec.status = fault.status
        if body is None or isinstance(body, (dict, list)):
            obj = (
                body
                if body is not None
                else _error_body(fault.status, _default_fault_message(fault.status))
            )
            h.send_json(fault.status, obj, headers)
            return
        payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        ctype = headers.pop("Content-Type", None) or headers.pop("content-type", None)
        h.send_bytes(fault.status, payload, ctype or "text/plain; charset=utf-8", headers)

    def _drip(self, h: _Handler, fault: _Fault) -> None:
        h.completed()
        if fault.drip_headers:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: ")
            h.wfile.flush()
            while True:
                self._sleep(fault.seconds)
                h.wfile.write(b"a")
                h.wfile.flush()
        payload = fault.body if isinstance(fault.body, bytes) else b" " * 100_000 + b"{}"
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.flush()
        for i in range(len(payload)):
            h.wfile.write(payload[i : i + 1])
            h.wfile.flush()
            self._sleep(fault.seconds)

    def _flood(self, h: _Handler, size: int | None) -> None:
        chunk = b" " * (64 * 1024)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if size is None:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(size))
        h.end_headers()
        h.completed()
        if size is None:
            while not self._stopping.is_set():
                h.write_chunk(chunk)
            return
        left = max(0, size - 2)
        while left > 0 and not self._stopping.is_set():
            h.wfile.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
        h.wfile.write(b"{}"[:size])
        h.wfile.flush()

    def _authorized(self, rec: RecordedRequest) -> bool:
        if self._reject_all:
            return False
        if self._required_key is None:
            return True
        return rec.authorization == f"Bearer {self._required_key}"

    def _error(self, h: _Handler, rec: RecordedRequest, status: int, message: Any) -> None:
        rec.status = status
        h.send_json(status, _error_body(status, message))

    def _route(
        self, h: _Handler, rec: RecordedRequest, duration: float | None, cut: int | None
    ) -> None:
        method, path = rec.method, rec.path.rstrip("/") or "/"
        if path == "/v1/audio/transcriptions":
            if method != "POST":
                return self._error(h, rec, 405, "Method Not Allowed")
            return self._transcribe(h, rec, duration or 0.0, cut)
        if path == "/v1/chat/completions":
            if method != "POST":
                return self._error(h, rec, 405, "Method Not Allowed")
            return self._chat_completion(h, rec, cut)
        if path == "/v1/files":
            if method == "POST":
                return self._upload(h, rec, cut)
            if method == "GET":
                return self._send(h, rec, self._list_files(), cut)
            return self._error(h, rec, 405, "Method Not Allowed")
        m = re.fullmatch(r"/v1/files/([^/]+)(/url|/content)?", path)
        if m:
            return self._file_op(h, rec, m.group(1), m.group(2), cut)
        m = re.fullmatch(r"/signed/([^/]+)", path)
        if m and method in ("GET", "HEAD"):
            return self._serve_file(h, rec, m.group(1), cut)
        if (path == "/v1/models" or path.startswith("/v1/models/")) and self.models_endpoint:
            return self._send(h, rec, self._models_answer(method, path), cut)
        if path == "/v1/batch/jobs" or path.startswith("/v1/batch/jobs/"):
            return self._send(h, rec, self._batch_answer(rec, path), cut)
        raise ApiError(404, f"Not Found: {method} {rec.path}")

    def _send(self, h: _Handler, rec: RecordedRequest, obj: Any, cut: int | None) -> None:
        rec.status = 200
        payload = json.dumps(obj).encode("utf-8")
        h.send_bytes(200, payload, "application/json", truncate=cut is not None)

    # -- audio duration ---------------------------------------------------------------------

    def _effective_duration(self, rec: RecordedRequest) -> float | None:
        """Audio seconds a transcription/chat request is about (None for other requests)."""
        path = rec.path.rstrip("/")
        if rec.method != "POST":
            return None
        if path == "/v1/audio/transcriptions":
            upload = rec.file("file")
            if upload is not None:
                rec.audio_seconds = upload.duration
                return upload.duration if upload.duration is not None else self.default_duration
            if rec.field("file_id"):
                known = self.uploaded_files.get(rec.field("file_id") or "")
                if known is not None and known.duration is not None:
                    rec.audio_seconds = known.duration
                    return known.duration
                return self.default_duration
            if rec.field("file_url"):
                return self._url_duration(rec.field("file_url") or "")
            return self.default_duration
        if path == "/v1/chat/completions":
            total, decoded = 0.0, False
            for audio in _iter_input_audio(rec.json):
                seconds = self._input_audio_duration(audio)
                if seconds is not None:
                    decoded = True
                    total += seconds
                else:
                    total += self.default_duration
            if decoded:
                rec.audio_seconds = total
            return total
        return None

    def _url_duration(self, url: str) -> float:
        m = re.search(r"/signed/([^/?#]+)", url)
        if m and url.startswith(self.url):
            known = self.uploaded_files.get(m.group(1))
            if known is not None and known.duration is not None:
                return known.duration
        return self.url_duration

    def _input_audio_duration(self, audio: str) -> float | None:
        if re.match(r"https?://", audio):
            return self._url_duration(audio)
        if audio.startswith("data:") and "," in audio:
            audio = audio.split(",", 1)[1]
        try:
            raw = base64.b64decode(audio, validate=False)
        except (binascii.Error, ValueError):
            return None
        return probe_audio_duration(raw)

    # -- transcription ----------------------------------------------------------------------

    def _check_transcription(self, rec: RecordedRequest, duration: float) -> None:
        """Validate like Mistral's schema and rules (``strict``) and the model's card
        (``enforce_models``); raises :class:`ApiError` if the request is refused."""
        model = rec.field("model")
        if not model:
            raise _missing("model")
        if self.strict:
            self._check_schema(rec)
        if self.enforce_models and model not in self.unlisted_models:
            check_transcription(
                find_card(self.models, model),
                model,
                audio_seconds=duration,
                language=rec.field("language"),
                granularities=rec.fields.get("timestamp_granularities", []),
                diarize=rec.field("diarize") == "true",
                context_bias=rec.fields.get("context_bias", []),
            )

    def _check_schema(self, rec: RecordedRequest) -> None:
        for name in ("stream", "diarize"):
            for value in rec.fields.get(name, []):
                if value not in ("true", "false"):
                    raise _invalid(name, "Input should be a valid boolean", "bool_parsing", value)
        sources = [n for n in ("file", "file_url", "file_id") if n in rec.files or rec.field(n)]
        if len(sources) != 1:
            raise ApiError(400, "Exactly one of file, file_url or file_id must be provided")
        language = rec.field("language")
        if language is not None and not re.fullmatch(r"\w{2}", language):
            raise _invalid(
                "language",
                "String should match pattern '^\\w{2}$'",
                "string_pattern_mismatch",
                language,
            )
        bias = rec.fields.get("context_bias", [])
        if len(bias) > 100:
            raise ApiError(400, "context_bias accepts at most 100 terms")
        for term in bias:
            if not re.fullmatch(r"[^,\s]+", term):
                raise _invalid(
                    "context_bias",
                    "String should match pattern '^[^,\\s]+$'",
                    "string_pattern_mismatch",
                    term,
                )
        granularities = rec.fields.get("timestamp_granularities", [])
        for g in granularities:
            if g not in ("segment", "word"):
                raise _invalid(
                    "timestamp_granularities", "Input should be 'segment' or 'word'", "enum", g
                )
        if granularities and language is not None:
            raise ApiError(400, "timestamp_granularities is not compatible with language")
        url = rec.field("file_url")
        if url is not None and len(url) > 2083:
            raise _invalid(
                "file_url", "URL should have at most 2083 characters", "url_too_long", url
            )
        file_id = rec.field("file_id")
        if file_id is not None and file_id not in self.uploaded_files:
            raise ApiError(404, f"File {file_id} not found")
        self._check_speaker_references(rec)

    def _check_speaker_references(self, rec: RecordedRequest) -> None:
        raw = rec.field("speaker_references")
        if raw is None:
            return
        refs = rec.speaker_references
        if refs is None or not all(isinstance(v, str) for v in refs.values()):
            raise _invalid(
                "speaker_references", "Input should be a valid dictionary", "dict_type", raw
            )
        if len(refs) > MAX_SPEAKER_REFERENCES:
            raise ApiError(
                400,
                f"At most {MAX_SPEAKER_REFERENCES} speaker references are supported, "
                f"got {len(refs)}",
            )
        if rec.field("diarize") != "true":
            raise ApiError(400, "speaker_references requires diarize=true")
        low, high = SPEAKER_REFERENCE_SECONDS
        for name, audio in refs.items():
            seconds = self._input_audio_duration(audio)
            if seconds is None:
                raise ApiError(400, f"Speaker reference '{name}' is not decodable audio")
            if not low <= seconds <= high:
                raise ApiError(
                    400,
                    f"Speaker reference '{name}' must be {low:g} to {high:g} seconds long, "
                    f"got {seconds:.1f} s",
                )

    def default_transcription(self, rec: RecordedRequest, duration: float) -> dict[str, Any]:
        """The answer the fake gives when no override is set."""
        duration = max(0.0, float(duration))
        count = max(2, math.ceil(duration / self.segment_seconds))
        step = duration / count
        sentences = [SENTENCES[i % len(SENTENCES)] for i in range(count)]
        text = " ".join(sentences)
        granularities = rec.fields.get("timestamp_granularities", [])
        diarize = rec.field("diarize") == "true"
        names = list(rec.speaker_references or {})
        answer: dict[str, Any] = {
            "model": rec.field("model") or "voxtral-mini-latest",
            "text": text,
            "language": rec.field("language") or "en",
        }
        if granularities:
            segments: list[dict[str, Any]] = []
            for i, sentence in enumerate(sentences):
                start, end = i * step, (i + 1) * step
                speaker = names[i % 2] if i % 2 < len(names) else f"speaker_{i % 2 + 1}"
                extra = {"speaker_id": speaker} if diarize else {}
                if "segment" in granularities:
                    segments.append(_segment(sentence, start, end, extra))
                if "word" in granularities:
                    words = sentence.split()
                    per_word = (end - start) / len(words)
                    for j, word in enumerate(words):
                        w_start = start + j * per_word
                        segments.append(_segment(word, w_start, w_start + per_word, extra))
            answer["segments"] = segments
        prompt = audio_tokens(duration)
        completion = len(text.split())
        answer["usage"] = {
            "prompt_audio_seconds": math.ceil(duration),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        return answer

    def default_transcription_events(self, answer: Mapping[str, Any]) -> StreamEvents:
        """SSE events for a transcription answer: language, text deltas word by word, a
        ``transcription.segment`` right after the delta that completes each segment's text,
        then ``transcription.done`` with the whole answer."""
        text = str(answer.get("text") or "")
        events: StreamEvents = [
            (
                "transcription.language",
                {
                    "type": "transcription.language",
                    "audio_language": answer.get("language") or "en",
                },
            )
        ]
        pieces = re.findall(r"\s*\S+", text)
        if "".join(pieces) != text:
            pieces.append(text[len("".join(pieces)) :])
        # Where in the text each segment ends, to interleave segment events with the deltas.
        pending: list[tuple[int, dict[str, Any]]] = []
        anchor = 0
        for seg in answer.get("segments") or []:
            seg_text = str(seg.get("text", "")).strip()
            found = text.find(seg_text, anchor) if seg_text else -1
            end = len(text) if found < 0 else found + len(seg_text)
            if found >= 0:
                anchor = found
            data = {
                "type": "transcription.segment",
                "text": seg.get("text", ""),
                "start": seg.get("start"),
                "end": seg.get("end"),
            }
            if seg.get("speaker_id") is not None:
                data["speaker_id"] = seg["speaker_id"]
            pending.append((end, data))
        position = 0
        for piece in pieces:
            position += len(piece)
            events.append(
                ("transcription.text.delta", {"type": "transcription.text.delta", "text": piece})
            )
            while pending and pending[0][0] <= position:
                events.append(("transcription.segment", pending.pop(0)[1]))
        events += [("transcription.segment", data) for _, data in pending]
        events.append(("transcription.done", {**answer, "type": "transcription.done"}))
        return events

    def _transcribe(
        self, h: _Handler, rec: RecordedRequest, duration: float, cut: int | None
    ) -> None:
        ctype = rec.headers.get("Content-Type", "")
        if multipart_boundary(ctype) is None and "x-www-form-urlencoded" not in ctype:
            raise ApiError(400, "Expected multipart/form-data")
        answer = self._transcription_answer(rec, duration)
        if rec.field("stream") != "true":
            return self._send(h, rec, answer, cut)
        stream = self._transcription_stream
        if stream is None:
            events = self.default_transcription_events(answer)
        elif callable(stream):
            events = stream(rec, duration)
        else:
            events = stream
        self._stream(h, rec, [sse_frame(data, event) for event, data in events], cut)

    def _transcription_answer(self, rec: RecordedRequest, duration: float) -> Mapping[str, Any]:
        """Check the request, then answer it: the override if set, else the default."""
        self._check_transcription(rec, duration)
        override = self._transcription
        if override is None:
            return self.default_transcription(rec, duration)
        if callable(override):
            return override(rec, duration)
        return override

    def _stream(
        self, h: _Handler, rec: RecordedRequest, frames: list[bytes], cut: int | None
    ) -> None:
        rec.status = 200
        h.start_sse()
        for i, frame in enumerate(frames):
            if cut is not None and i >= cut:
                if rec.fault == "end":  # a clean end: the stream just stops early
                    h.end_chunks()
                return
            if i:
                self._sleep(self.stream_interval)
            h.write_chunk(frame)
        if cut is None:
            h.end_chunks()

    # -- chat ------------------------------------------------------------------------------

    def default_chat_text(self, rec: RecordedRequest) -> str:
        """The deterministic default answer: says what the request contained."""
        body = rec.json if isinstance(rec.json, dict) else {}
        audio = list(_iter_input_audio(body))
        texts = [t for t in _iter_text(body) if t.strip()]
        seconds = self._effective_duration(rec) or 0.0
        prompt = texts[-1] if texts else "(none)"
        text = (
            f"Fake answer from {body.get('model', 'unknown')}: received {len(audio)} audio "
            f"chunk(s) ({seconds:.2f} s) and {len(texts)} text part(s). Last text: {prompt}"
        )
        fmt = body.get("response_format") or {}
        if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
            return json.dumps({"answer": text, "audio_chunks": len(audio), "language": "en"})
        return text

    def _check_chat_model(self, model: str, prompt_tokens: int) -> None:
        """404 for an unknown model; 400 when a chat model's context is too small.

        A card without ``completion_chat`` is let through: voxcli's chat command defaults
        to ``voxtral-mini-latest``, which names a transcription model.
        """
        if not self.enforce_models or model in self.unlisted_models:
            return
        card = check_model_exists(find_card(self.models, model), model)
        limit = int(card.get("max_context_length") or 0)
        if (card.get("capabilities") or {}).get("completion_chat") and prompt_tokens > limit:
            raise ApiError(
                400,
                f"Prompt contains {prompt_tokens} tokens, too large for model with "
                f"{limit} maximum context length",
            )

    def _chat_completion(self, h: _Handler, rec: RecordedRequest, cut: int | None) -> None:
        body = rec.json
        if not isinstance(body, dict):
            raise ApiError(400, "Expected a JSON object body")
        if not body.get("model"):
            raise _missing("model")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise _missing("messages", body.get("messages"))
        seconds = self._effective_duration(rec) or 0.0
        prompt_tokens = sum(len(t.split()) for t in _iter_text(body)) + audio_tokens(seconds)
        self._check_chat_model(body["model"], prompt_tokens)
        override = self._chat
        if override is None:
            result: str | Mapping[str, Any] = self.default_chat_text(rec)
        elif callable(override):
            result = override(rec)
        else:
            result = override
        n_audio = len(list(_iter_input_audio(body)))
        created = int(time.time())
        chat_id = f"cmpl-fake-{self._next_id():06d}"
        model = body["model"]
        if isinstance(result, Mapping):
            if not body.get("stream"):
                return self._send(h, rec, result, cut)
            result = str(_dig(result, "choices", 0, "message", "content") or "")
        completion_tokens = len(result.split())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_audio_seconds": math.ceil(seconds) if n_audio else None,
        }
        if not body.get("stream"):
            return self._send(
                h,
                rec,
                {
                    "id": chat_id,
                    "object": "chat.completion",
                    "model": model,
                    "created": created,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": result},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
                cut,
            )

        def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
            data = {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return sse_frame(data)

        frames = [chunk({"role": "assistant", "content": ""}, None)]
        frames += [chunk({"content": piece}, None) for piece in re.findall(r"\s*\S+", result)]
        frames.append(chunk({"content": ""}, "stop", usage=usage))
        frames.append(sse_frame("[DONE]"))
        self._stream(h, rec, frames, cut)

    # -- files -----------------------------------------------------------------------------

    def _file_schema(self, file_id: str) -> dict[str, Any]:
        stored = self.uploaded_files[file_id]
        return {
            "id": file_id,
            "object": "file",
            "bytes": stored.size,
            "created_at": stored.created_at,
            "filename": stored.filename or "upload",
            "purpose": stored.purpose or "audio",
            "sample_type": stored.sample_type,
            "source": stored.source,
            "mimetype": stored.content_type,
            "visibility": stored.visibility,
            "num_lines": stored.num_lines,
            "signature": None,
            "expires_at": stored.expires_at,
        }

    def _list_files(self) -> dict[str, Any]:
        with self._lock:
            data = [self._file_schema(fid) for fid in self.uploaded_files]
        return {"object": "list", "data": data, "total": len(data)}

    def _store_file(self, stored: StoredFile) -> str:
        """Keep ``stored`` under a new file id and return the id."""
        file_id = f"00000000-0000-4000-8000-{self._next_id():012d}"
        with self._lock:
            self.uploaded_files[file_id] = stored
        return file_id

    def _upload(self, h: _Handler, rec: RecordedRequest, cut: int | None) -> None:
        upload = rec.file("file")
        if upload is None:
            raise _missing("file")
        expiry = rec.field("expiry")
        if expiry is not None and not re.fullmatch(r"\d+", expiry):
            raise _invalid("expiry", "Input should be a valid integer", "int_parsing", expiry)
        purpose = rec.field("purpose")
        stored = StoredFile.from_upload(
            upload,
            purpose=purpose,
            expiry=None if expiry is None else int(expiry),
            visibility=rec.field("visibility"),
            created_at=int(time.time()),
            sample_type="batch_request" if purpose == "batch" else "instruct",
        )
        self._send(h, rec, self._file_schema(self._store_file(stored)), cut)

    def _file_op(
        self, h: _Handler, rec: RecordedRequest, file_id: str, sub: str | None, cut: int | None
    ) -> None:
        if file_id not in self.uploaded_files:
            raise ApiError(404, f"File {file_id} not found")
        if sub == "/url" and rec.method == "GET":
            expiry = (rec.query.get("expiry") or ["24"])[0]
            sig = hashlib.sha256(f"{file_id}:{expiry}".encode()).hexdigest()[:16]
            url = f"{self.url}/signed/{file_id}?expiry={expiry}&signature={sig}"
            return self._send(h, rec, {"url": url}, cut)
        if sub == "/content" and rec.method == "GET":
            # the SDK's files.download accepts nothing but application/octet-stream
            return self._serve_file(h, rec, file_id, cut, "application/octet-stream")
        if sub is None and rec.method == "GET":
            return self._send(h, rec, {**self._file_schema(file_id), "deleted": False}, cut)
        if sub is None and rec.method == "DELETE":
            with self._lock:
                self.uploaded_files.pop(file_id, None)
                self.deleted_file_ids.append(file_id)
            return self._send(h, rec, {"id": file_id, "object": "file", "deleted": True}, cut)
        raise ApiError(405, "Method Not Allowed")

    def _serve_file(
        self,
        h: _Handler,
        rec: RecordedRequest,
        file_id: str,
        cut: int | None,
        content_type: str | None = None,
    ) -> None:
        """The file's bytes, as ``content_type`` (default: the type it was uploaded with)."""
        stored = self.uploaded_files.get(file_id)
        if stored is None or stored.data is None:
            raise ApiError(404, f"File {file_id} not found")
        rec.status = 200
        h.send_bytes(
            200,
            stored.data,
            content_type or stored.content_type or "application/octet-stream",
            truncate=cut is not None,
        )

    # -- models ----------------------------------------------------------------------------

    def _models_answer(self, method: str, path: str) -> dict[str, Any]:
        """``GET /v1/models`` (the catalogue) or ``GET /v1/models/{id}`` (id or alias)."""
        if method != "GET":
            raise ApiError(405, "Method Not Allowed")
        if path == "/v1/models":
            with self._lock:
                return {"object": "list", "data": list(self.models.values())}
        model = path.removeprefix("/v1/models/")
        if "/" in model:
            raise ApiError(404, f"Not Found: {method} {path}")
        return dict(check_model_exists(find_card(self.models, model), model))

    # -- batch -----------------------------------------------------------------------------

    def _batch_answer(self, rec: RecordedRequest, path: str) -> dict[str, Any]:
        """Create, list, get and cancel batch jobs."""
        method = rec.method
        if path == "/v1/batch/jobs":
            if method == "POST":
                return self._create_batch_job(rec).to_json()
            if method == "GET":
                return self._list_batch_jobs(rec.query)
            raise ApiError(405, "Method Not Allowed")
        m = re.fullmatch(r"/v1/batch/jobs/([^/]+)(/cancel)?", path)
        if m is None:
            raise ApiError(404, f"Not Found: {method} {path}")
        with self._lock:
            job = self.batch_jobs.get(m.group(1))
            if job is None:
                raise ApiError(404, f"Batch job {m.group(1)} not found")
            if m.group(2) and method == "POST":
                if not job.finished:
                    job.status = "CANCELLATION_REQUESTED"
                return job.to_json()
            if m.group(2) is None and method == "GET":
                job.polls += 1
                self._advance_batch_job(job)
                return job.to_json(inline=(rec.query.get("inline") or [""])[0] == "true")
        raise ApiError(405, "Method Not Allowed")

    def _create_batch_job(self, rec: RecordedRequest) -> FakeBatchJob:
        body = rec.json
        if not isinstance(body, dict):
            raise ApiError(400, "Expected a JSON object body")
        endpoint = body.get("endpoint")
        if not endpoint:
            raise _missing("endpoint")
        if endpoint != "/v1/audio/transcriptions":
            raise ApiError(
                400, f"The fake runs batch jobs for /v1/audio/transcriptions only, not {endpoint}"
            )
        model = body.get("model")
        if model and self.enforce_models and model not in self.unlisted_models:
            check_transcription(find_card(self.models, model), model)
        input_files = body.get("input_files") or []
        requests = body.get("requests") or []
        if bool(input_files) == bool(requests):
            raise ApiError(400, "Exactly one of input_files or requests must be provided")
        lines = [batch_line(r) for r in requests]
        for file_id in input_files:
            lines += self._batch_input(file_id)
        job = FakeBatchJob(
            id=str(uuid.uuid4()),
            endpoint=endpoint,
            model=model,
            metadata=body.get("metadata"),
            timeout_hours=int(body.get("timeout_hours") or 24),
            input_files=list(input_files),
            lines=lines,
            request=body,
            created_at=int(time.time()),
            created_mono=time.monotonic(),
        )
        with self._lock:
            self.batch_jobs[job.id] = job
        return job

    def _batch_input(self, file_id: str) -> list[BatchLine]:
        stored = self.uploaded_files.get(file_id)
        if stored is None:
            raise ApiError(404, f"File {file_id} not found")
        if stored.purpose != "batch":
            raise ApiError(400, f"File {file_id} was not uploaded with purpose 'batch'")
        if stored.data is None:
            raise ApiError(400, f"File {file_id} was not kept (keep_bodies=False)")
        return parse_jsonl(stored.data)

    def _list_batch_jobs(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """Jobs filtered by ``model`` and ``status``, ordered by ``order_by``, one page."""
        page = int((query.get("page") or ["0"])[0])
        size = int((query.get("page_size") or ["100"])[0])
        models, statuses = query.get("model"), query.get("status")
        with self._lock:
            jobs = list(self.batch_jobs.values())
            for job in jobs:
                self._advance_batch_job(job)
            jobs = [
                j
                for j in jobs
                if (not models or j.model in models) and (not statuses or j.status in statuses)
            ]
            if (query.get("order_by") or ["-created"])[0] == "-created":
                jobs.reverse()
            data = [j.to_json() for j in jobs[page * size : (page + 1) * size]]
        return {"object": "list", "data": data, "total": len(jobs)}

    def _advance_batch_job(self, job: FakeBatchJob) -> None:
        """Move ``job`` on to where it should be by now (call with the lock held)."""
        if job.finished:
            return
        if job.status == "CANCELLATION_REQUESTED":
            return self._finish_batch_job(job, "CANCELLED")
        stage = job.stage_due(time.monotonic(), self.batch_step_seconds)
        if stage >= 1 and job.started_at is None:
            job.status, job.started_at = "RUNNING", int(time.time())
        if stage >= 2:
            self._finish_batch_job(job, self.batch_outcome)

    def _finish_batch_job(self, job: FakeBatchJob, outcome: str) -> None:
        """Run the lines a job ending with ``outcome`` has run and write its files."""
        if outcome not in BATCH_OUTCOMES:
            raise ValueError(f"batch_outcome must be one of {sorted(BATCH_OUTCOMES)}")
        results = []
        for index, line in enumerate(job.lines_to_run(outcome)):
            status, body = self._run_batch_line(job, line)
            results.append(output_line(job.id, index, line.custom_id, status, body))
        ok = [r for r in results if r["error"] is None]
        failed = [r for r in results if r["error"] is not None]
        job.results, job.succeeded, job.failed = results, len(ok), len(failed)
        job.output_file = self._batch_file(job, "output", "batch_result", ok)
        job.error_file = self._batch_file(job, "error", "batch_error", failed)
        if outcome == "FAILED":
            job.errors = [{"message": "The batch job failed", "count": 1}]
        elif outcome == "TIMEOUT_EXCEEDED":
            message = f"The batch job did not finish within {job.timeout_hours} hours"
            job.errors = [{"message": message, "count": 1}]
        job.status, job.completed_at = outcome, int(time.time())

    def _run_batch_line(self, job: FakeBatchJob, line: BatchLine) -> tuple[int, Any]:
        """Status and body of one batch request, answered like the transcription endpoint."""
        failure = self.batch_request_failures.get(line.custom_id or "")
        if failure is not None:
            return failure.status, _error_body(failure.status, failure.message)
        if line.problem is not None:
            return 400, _error_body(400, line.problem)
        fields = form_fields(line.body)
        if job.model:
            fields["model"] = [job.model]
        rec = RecordedRequest(
            method="POST",
            path="/v1/audio/transcriptions",
            query={},
            headers=Headers(),
            json=line.body,
            fields=fields,
        )
        try:
            duration = self._effective_duration(rec) or 0.0
            return 200, dict(self._transcription_answer(rec, duration))
        except ApiError as err:
            return err.status, _error_body(err.status, err.message)
        except Exception as exc:  # an override's bug: a 500 line, and visible in ``errors``
            self.errors.append(exc)
            return 500, _error_body(500, f"FakeMistral error: {exc!r}")

    def _batch_file(
        self, job: FakeBatchJob, kind: str, sample_type: str, lines: list[dict[str, Any]]
    ) -> str | None:
        """Store ``lines`` as a job's JSONL output or error file; None when there are none."""
        if not lines:
            return None
        data = b"".join(json.dumps(line).encode("utf-8") + b"\n" for line in lines)
        stored = StoredFile.from_upload(
            UploadedFile.from_bytes(data, f"batch-{job.id}-{kind}.jsonl", "application/jsonl"),
            purpose="batch",
            created_at=int(time.time()),
            source="mistral",
            sample_type=sample_type,
        )
        return self._store_file(stored)


def _segment(text: str, start: float, end: float, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "text": text,
        "start": round(start, 3),
        "end": round(end, 3),
        "type": "transcription_segment",
        **extra,
    }


def _iter_chunks(body: Any) -> Iterator[Any]:
    if not isinstance(body, dict):
        return
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            yield from content
        elif isinstance(content, str):
            yield {"type": "text", "text": content}


def _iter_input_audio(body: Any) -> Iterator[str]:
    """Every ``input_audio`` string of a chat request body."""
    for chunk in _iter_chunks(body):
        if isinstance(chunk, dict) and chunk.get("type") == "input_audio":
            audio = chunk.get("input_audio")
            if isinstance(audio, dict):  # tolerate the OpenAI-style {"data": ...}
                audio = audio.get("data") or audio.get("url")
            if isinstance(audio, str):
                yield audio


def _iter_text(body: Any) -> Iterator[str]:
    for chunk in _iter_chunks(body):
        if isinstance(chunk, dict) and chunk.get("type") == "text":
            yield str(chunk.get("text", ""))


def _dig(obj: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


# --------------------------------------------------------------------------------------
# Running it on its own
# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python tests/fake_mistral.py [--port N] [--latency S] [--require-key]``: serve the
    HTTP API and the realtime WebSocket in the foreground until Ctrl-C or SIGTERM."""
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake Mistral API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument(
        "--require-key", action="store_true", help="answer 401 unless the test API key is sent"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    fake = FakeMistral(host=args.host, port=args.port, latency=args.latency)
    try:
        fake.start()
    except OSError as exc:
        print(f"fake_mistral: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with fake:
        if args.require_key:
            fake.require_key(TEST_API_KEY)
        from fake_realtime import FakeRealtime  # the realtime WebSocket, on the same port

        FakeRealtime(fake).install()
        print(f"export MISTRAL_SERVER_URL={fake.url} MISTRAL_API_KEY={TEST_API_KEY}", flush=True)
        while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
