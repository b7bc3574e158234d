"""A fake Mistral realtime transcription server (WebSocket), riding on :class:`FakeMistral`.

It plugs into ``FakeMistral.websocket_routes``, so one ``server_url`` serves both the HTTP API
and ``ws://…/v1/audio/transcriptions/realtime``, and tests drive it through the *real* SDK
client (``Mistral(api_key=..., server_url=fake.url).audio.realtime``), which turns the
``http://`` server URL into ``ws://`` and adds ``?model=<model>``. The WebSocket protocol is
``websockets``' sans-I/O :class:`~websockets.server.ServerProtocol`, pumped by hand on the
handler's thread: no second port, no asyncio, no extra thread per session.

Quick start::

    with FakeMistral() as fake, FakeRealtime(fake) as rt:
        async def main() -> None:
            client = Mistral(api_key=TEST_API_KEY, server_url=fake.url)
            async with await client.audio.realtime.connect(model="m") as conn:
                await conn.send_audio(pcm)
                await conn.end_audio()
                async for event in conn: ...
        asyncio.run(main())
        session = rt.wait_for_sessions(1)[0]
        assert session.chunk_sizes == [len(pcm)]

Protocol (the shapes of ``mistralai.extra.realtime`` and its pydantic models)
--------------------------------------------------------------------------------
Handshake: ``GET /v1/audio/transcriptions/realtime?model=M`` with ``Upgrade: websocket``.
It is refused with an HTTP response instead of ``101`` when a :meth:`FakeRealtime.reject_next`
fault is queued (that status), when the FakeMistral requires a key and the
``Authorization: Bearer`` header does not carry it (``401``, like the HTTP endpoints; see
``FakeMistral.require_key`` / ``reject_all_keys``), or when ``model`` is missing (``400``).
The body is JSON. The SDK raises ``RealtimeTranscriptionException("Failed to connect: …")``
whose ``__cause__`` is ``websockets.exceptions.InvalidStatus`` (``.response.status_code``).

Client → server (text frames, JSON): ``session.update`` ``{"session": {...}}``,
``input_audio.append`` ``{"audio": base64 PCM}``, ``input_audio.flush``, ``input_audio.end``.

Server → client:

- ``session.created`` right after the handshake, ``session.updated`` after each accepted
  ``session.update``; both carry ``session``: ``request_id``, ``model``, ``audio_format``
  (``encoding``, ``sample_rate``; default ``pcm_s16le`` at 16 kHz), ``target_streaming_delay_ms``
  (default :attr:`FakeRealtime.default_delay_ms`), ``diarize``, ``context_bias``, ``language``,
  ``speaker_references`` (the *names* only: the SDK's session model types it as a list of
  strings, while ``session.update`` sends a name → audio mapping) and ``turn_detection`` (the
  config received, completed with the SDK defaults). Unset values are ``null``.
- ``error`` ``{"error": {"message", "code"}}``; the session stays open. Sent for: invalid JSON,
  an unknown message type, a binary frame, bad base64 (code 400); a ``session.update`` value
  out of range (422: encoding not one of ``pcm_s16le pcm_s32le pcm_f16le pcm_f32le pcm_mulaw
  pcm_alaw``, ``sample_rate`` outside 8000-192000, ``target_streaming_delay_ms`` not in
  80-1200 and not 2400, ``language`` not two letters, ``speaker_references`` without
  ``diarize``, a bad ``turn_detection``; an invalid update changes nothing); a
  ``session.update`` once audio has started (409: settings lock at the first accepted chunk);
  a chunk over 262,144 decoded bytes (413; not counted as audio); a message after
  ``input_audio.end`` (409).
- Transcript: audio seconds = decoded bytes / (bytes per sample * ``sample_rate``) of the
  session's encoding (2 for s16/f16, 4 for s32/f32, 1 for mu-law/A-law). Each time another
  :attr:`FakeRealtime.segment_seconds` of audio has arrived, one sentence of
  ``fake_mistral.SENTENCES`` (cycling) goes out as ``transcription.text.delta`` pieces (word
  by word, a space before every piece but the very first) followed by ``transcription.segment``
  (``text``, ``start``, ``end`` in seconds of audio since the session's first chunk, plus
  ``speaker_id`` when ``diarize``: ``speaker_1``/``speaker_2`` alternating, or the
  ``speaker_references`` names in order). ``transcription.language`` (the session's
  ``language``, else :attr:`FakeRealtime.language`) precedes the first delta, once.
  ``input_audio.flush`` emits the partial segment heard so far (the next one starts there).
  ``input_audio.end`` emits the partial segment, ends an open turn, sends
  ``transcription.done`` (``model``, ``text``, ``language``, ``segments`` as
  ``transcription_segment`` entries, ``usage`` with ``prompt_audio_seconds`` = ceil(seconds)
  and 12.5 prompt tokens per second) and then closes the WebSocket (code 1000).
- Turns, only when the session set ``turn_detection``: the received PCM is cut into 10 ms
  frames; a frame is voiced when its RMS (full scale = 1.0) is at least
  :attr:`FakeRealtime.silence_threshold`. ``turn.start`` at the first voiced frame;
  ``turn.eager_end`` after ``min_silence_ms / 2`` of silence and ``turn.end``
  (``end_reason: "threshold"``) after ``min_silence_ms``, both with ``time_s`` = where the
  silence began; ``turn.resume`` when voice comes back after an eager end; with
  ``end_timeout_ms`` a turn that lasts that long ends with ``end_reason: "timeout"`` (a new
  turn starts at the next voiced frame). The thresholds are recorded, not used.
  Every event goes out when the audio that triggers it has been received.

Knobs (attributes of :class:`FakeRealtime`; change them any time)
-------------------------------------------------------------------
``segment_seconds`` (2.0), ``language`` ("en"), ``default_delay_ms`` (480),
``silence_threshold`` (0.02), ``event_delay`` (seconds added before *every* outgoing event,
session.created included; closes and drops queue behind the events, so order is kept),
``close_timeout`` (how long a server-initiated close waits for the client's close frame),
``keep_audio`` (keep the decoded PCM in ``RealtimeSession.audio``). Faults:
:meth:`~FakeRealtime.reject_next` (HTTP status at the handshake),
:meth:`~FakeRealtime.error_after` (an ``error`` event after N seconds of audio, optionally
closing with 1011), :meth:`~FakeRealtime.drop_after` (abrupt TCP close, no close frame, after
N seconds of audio). ``times`` is the number of sessions a fault hits, ``None`` = every one.

Records
-------
:attr:`FakeRealtime.sessions` holds one :class:`RealtimeSession` per handshake (rejected ones
too): the ``RecordedRequest``, ``query``, ``headers`` (``redacted_headers`` hides the key;
``repr`` never shows it), ``status`` (101 or the rejection), every client message in order
(``messages``, ``message_types``), the ``session.update`` payloads as received (``updates``),
the effective ``settings``, decoded audio (``audio_bytes``, ``chunk_sizes``,
``rejected_chunks``, ``audio``), every event sent (``events``: type, data, ``queued_at``,
``sent_at``, ``time.monotonic()`` values) and ``close_reason``: ``rejected`` (handshake
refused), ``done`` (closed by the fake after ``transcription.done``), ``client`` (the client's
close frame came first), ``dropped`` / ``error`` (the faults), ``closed``
(:meth:`FakeRealtime.close`), ``stopped`` (FakeMistral stopped), ``eof`` (the client went away
without a close frame), ``protocol_error``. Waits are bounded:
:meth:`FakeRealtime.wait_for_sessions`, :meth:`RealtimeSession.wait_for_events`,
:meth:`RealtimeSession.wait_for_messages`, :meth:`RealtimeSession.wait_closed` raise
``TimeoutError``.

Shutdown: :meth:`FakeRealtime.close` (or leaving its ``with`` block) removes the route, sends
every open session a close frame (1001), waits a bounded time, then cuts what is left.
When the FakeMistral stops, its open sessions are cut without a close frame (like its
in-flight HTTP requests; the SDK raises ``ConnectionClosedError``); nothing blocks longer than
a 50 ms tick. Call ``close()`` off the event loop (``asyncio.to_thread``) when a
client in the same loop should answer the close frame.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import itertools
import json
import math
import re
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import numpy as np
from fake_mistral import SENTENCES, FakeMistral, Headers, RecordedRequest
from websockets.datastructures import Headers as WsHeaders
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import SEND_EOF, State
from websockets.server import ServerProtocol

if TYPE_CHECKING:
    from fake_mistral import _Handler

__all__ = [
    "ENCODINGS",
    "MAX_CHUNK_BYTES",
    "REALTIME_PATH",
    "ClientMessage",
    "FakeRealtime",
    "RealtimeSession",
    "SentEvent",
    "apply_update",
    "decode_pcm",
    "valid_delay_ms",
]

REALTIME_PATH = "/v1/audio/transcriptions/realtime"
#: Largest decoded ``input_audio.append`` chunk the API accepts.
MAX_CHUNK_BYTES = 262_144
#: Bytes per sample of every encoding the API knows (mono).
ENCODINGS: dict[str, int] = {
    "pcm_s16le": 2,
    "pcm_s32le": 4,
    "pcm_f16le": 2,
    "pcm_f32le": 4,
    "pcm_mulaw": 1,
    "pcm_alaw": 1,
}
#: ``TurnDetectionConfig`` defaults of the SDK (what a bare ``TurnDetectionConfig()`` sends).
TURN_DEFAULTS: dict[str, Any] = {
    "start_threshold": 0.5,
    "eager_end_threshold": 0.5,
    "end_threshold": 0.33,
    "min_silence_ms": 500,
    "end_timeout_ms": None,
}

ERROR_INVALID_MESSAGE = 400
ERROR_CHUNK_TOO_LARGE = 413
ERROR_SETTINGS_LOCKED = 409
ERROR_INVALID_SETTINGS = 422

_TICK = 0.05  # longest blocking wait, so stop/close requests are seen quickly
_RECV_BYTES = 256 * 1024
_FRAME_SECONDS = 0.01  # turn detection frame
_EPS = 1e-9
_TOKENS_PER_SECOND = 12.5


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass
class ClientMessage:
    """One message the client sent (``type`` is ``"<invalid>"`` for non-JSON or untyped)."""

    type: str
    received_at: float
    size: int  # bytes of the WebSocket message


@dataclass
class SentEvent:
    """One event the fake sent; times are ``time.monotonic()`` values."""

    type: str
    data: dict[str, Any]
    queued_at: float  # when the fake produced it (after the message/audio that caused it)
    sent_at: float  # when its frame was written to the socket

    @property
    def latency(self) -> float:
        """Seconds between producing and sending the event (``event_delay`` shows here)."""
        return self.sent_at - self.queued_at


def _redact(name: str, value: str) -> str:
    if name.lower() == "authorization":
        scheme, _, _ = value.partition(" ")
        return f"{scheme} <redacted>" if scheme else "<redacted>"
    return value


@dataclass
class RealtimeSession:
    """Everything one WebSocket session did. Lists only grow; read them any time."""

    id: int
    request: RecordedRequest = field(repr=False)
    query: dict[str, list[str]]
    headers: Headers = field(repr=False)
    model: str | None
    request_id: str
    status: int | None = None  # 101, or the HTTP status the handshake was refused with
    opened_at: float = 0.0
    closed_at: float | None = None
    close_reason: str | None = None  # done, client, dropped, eof... (module docstring)
    client_close_code: int | None = None  # code of the client's close frame, if it sent one
    messages: list[ClientMessage] = field(default_factory=list, repr=False)
    updates: list[Any] = field(default_factory=list)  # session.update payloads, as received
    settings: dict[str, Any] = field(default_factory=dict)
    first_audio_at: float | None = None  # monotonic time of the first accepted chunk
    audio_bytes: int = 0
    chunk_sizes: list[int] = field(default_factory=list, repr=False)
    rejected_chunks: list[int] = field(default_factory=list)  # sizes of refused chunks
    audio: bytearray = field(default_factory=bytearray, repr=False)
    events: list[SentEvent] = field(default_factory=list, repr=False)
    _cond: threading.Condition = field(
        default_factory=threading.Condition, repr=False, compare=False
    )

    # -- derived views --------------------------------------------------------------------

    @property
    def accepted(self) -> bool:
        return self.status == 101

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def authorization_sent(self) -> bool:
        return self.headers.get("Authorization") is not None

    @property
    def redacted_headers(self) -> dict[str, str]:
        """The handshake headers with the API key hidden (safe to print)."""
        return {k: _redact(k, v) for k, v in self.headers.items()}

    @property
    def message_types(self) -> list[str]:
        return [m.type for m in list(self.messages)]

    @property
    def event_types(self) -> list[str]:
        return [e.type for e in list(self.events)]

    def events_of(self, *types: str) -> list[SentEvent]:
        return [e for e in list(self.events) if e.type in types]

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio accepted so far, in the session's (locked) format."""
        fmt = self.settings.get("audio_format") or {}
        width = ENCODINGS.get(fmt.get("encoding", ""), 2)
        return self.audio_bytes / (width * int(fmt.get("sample_rate") or 16000))

    # -- bounded waits --------------------------------------------------------------------

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"session {self.id}: timed out waiting for {what}")
                self._cond.wait(left)

    def wait_for_events(
        self, count: int = 1, type: str | None = None, timeout: float = 5.0
    ) -> list[SentEvent]:
        """Block until ``count`` events (of ``type``, if given) were sent; returns them."""

        def matching() -> list[SentEvent]:
            return [e for e in self.events if type is None or e.type == type]

        self._wait(lambda: len(matching()) >= count, timeout, f"{count} {type or ''} events")
        return matching()

    def wait_for_messages(
        self, count: int = 1, type: str | None = None, timeout: float = 5.0
    ) -> list[ClientMessage]:
        """Block until ``count`` client messages (of ``type``, if given) arrived."""

        def matching() -> list[ClientMessage]:
            return [m for m in self.messages if type is None or m.type == type]

        self._wait(lambda: len(matching()) >= count, timeout, f"{count} {type or ''} messages")
        return matching()

    def wait_closed(self, timeout: float = 5.0) -> RealtimeSession:
        """Block until the session is over (its connection handed back to FakeMistral)."""
        self._wait(lambda: self.closed, timeout, "the close")
        return self

    # -- updates (handler thread) ---------------------------------------------------------

    def _update(self, change: Callable[[], None]) -> None:
        with self._cond:
            change()
            self._cond.notify_all()


# --------------------------------------------------------------------------------------
# Audio: decoding, transcript, turns
# --------------------------------------------------------------------------------------


def _mulaw_to_linear(byte: int) -> int:
    b = ~byte & 0xFF
    exponent, mantissa = (b >> 4) & 0x07, b & 0x0F
    sample = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -sample if b & 0x80 else sample


def _alaw_to_linear(byte: int) -> int:
    b = byte ^ 0x55
    exponent, mantissa = (b >> 4) & 0x07, b & 0x0F
    sample = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return sample if b & 0x80 else -sample


_MULAW = np.array([_mulaw_to_linear(b) for b in range(256)], dtype=np.float32) / 32768.0
_ALAW = np.array([_alaw_to_linear(b) for b in range(256)], dtype=np.float32) / 32768.0
_DTYPES = {"pcm_s16le": "<i2", "pcm_s32le": "<i4", "pcm_f16le": "<f2", "pcm_f32le": "<f4"}
_SCALES = {"pcm_s16le": 32768.0, "pcm_s32le": 2147483648.0}


def decode_pcm(data: bytes, encoding: str) -> np.ndarray:
    """Mono PCM bytes (a whole number of samples) → float32 samples, full scale 1.0."""
    if encoding == "pcm_mulaw":
        return _MULAW[np.frombuffer(data, dtype=np.uint8)]
    if encoding == "pcm_alaw":
        return _ALAW[np.frombuffer(data, dtype=np.uint8)]
    samples = np.frombuffer(data, dtype=_DTYPES[encoding]).astype(np.float32)
    scale = _SCALES.get(encoding)
    return samples / scale if scale else samples


def valid_delay_ms(value: int) -> bool:
    """``target_streaming_delay_ms`` accepts 80-1200 or 2400."""
    return 80 <= value <= 1200 or value == 2400


Timed = tuple[float, dict[str, Any]]  # (audio time at which it is due, event)


class _Transcript:
    """Turns received audio into deterministic segments; times in seconds of audio."""

    def __init__(
        self,
        *,
        bytes_per_second: int,
        segment_seconds: float,
        language: str,
        speakers: list[str] | None,
    ) -> None:
        self.bytes_per_second = bytes_per_second
        self.segment_seconds = max(segment_seconds, 0.001)
        self.language = language
        self.speakers = speakers  # None: no diarization
        self.total_bytes = 0
        self.segment_start = 0.0
        self.segments: list[dict[str, Any]] = []
        self.language_sent = False

    @property
    def seconds(self) -> float:
        return self.total_bytes / self.bytes_per_second

    def feed(self, n_bytes: int) -> list[Timed]:
        """Account for ``n_bytes`` more audio; the segments it completes."""
        self.total_bytes += n_bytes
        out: list[Timed] = []
        while self.seconds + _EPS >= self.segment_start + self.segment_seconds:
            out += self._segment(self.segment_start + self.segment_seconds)
        return out

    def flush(self) -> list[Timed]:
        """The partial segment heard since the last one, if any audio was."""
        if self.seconds > self.segment_start + _EPS:
            return self._segment(self.seconds)
        return []

    def _segment(self, end: float) -> list[Timed]:
        index = len(self.segments)
        sentence = SENTENCES[index % len(SENTENCES)]
        segment: dict[str, Any] = {
            "text": sentence,
            "start": round(self.segment_start, 3),
            "end": round(end, 3),
        }
        if self.speakers is not None:
            segment["speaker_id"] = self.speakers[index % len(self.speakers)]
        self.segments.append(segment)
        self.segment_start = end
        out: list[Timed] = []
        if not self.language_sent:
            self.language_sent = True
            out.append((end, {"type": "transcription.language", "audio_language": self.language}))
        for i, word in enumerate(sentence.split()):
            piece = word if index == 0 and i == 0 else f" {word}"
            out.append((end, {"type": "transcription.text.delta", "text": piece}))
        out.append((end, {"type": "transcription.segment", **segment}))
        return out

    def done(self, model: str) -> dict[str, Any]:
        text = " ".join(s["text"] for s in self.segments)
        prompt = math.ceil(self.seconds * _TOKENS_PER_SECOND)
        completion = len(text.split())
        return {
            "type": "transcription.done",
            "model": model,
            "text": text,
            "language": self.language,
            "segments": [{**s, "type": "transcription_segment"} for s in self.segments],
            "usage": {
                "prompt_audio_seconds": math.ceil(self.seconds - _EPS),
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


class _TurnDetector:
    """Silence-based turns over 10 ms frames (see the module docstring)."""

    def __init__(
        self, encoding: str, sample_rate: int, config: Mapping[str, Any], threshold: float
    ) -> None:
        self.encoding = encoding
        self.width = ENCODINGS[encoding]
        self.rate = sample_rate
        self.frame = max(1, round(sample_rate * _FRAME_SECONDS))
        self.threshold = threshold
        self.min_silence = float(config.get("min_silence_ms") or 0) / 1000.0
        timeout = config.get("end_timeout_ms")
        self.timeout = None if timeout is None else float(timeout) / 1000.0
        self.leftover_bytes = b""
        self.leftover = np.zeros(0, dtype=np.float32)
        self.frames_done = 0
        self.in_turn = False
        self.turn_start = 0.0
        self.silence_start: float | None = None
        self.eager = False

    def feed(self, pcm: bytes) -> list[Timed]:
        data = self.leftover_bytes + pcm
        usable = len(data) - len(data) % self.width
        self.leftover_bytes = data[usable:]
        samples = np.concatenate([self.leftover, decode_pcm(data[:usable], self.encoding)])
        count = len(samples) // self.frame
        self.leftover = samples[count * self.frame :]
        frames = samples[: count * self.frame].astype(np.float64).reshape(count, self.frame)
        rms = np.sqrt(np.mean(frames * frames, axis=1)) if count else np.zeros(0)
        out: list[Timed] = []
        for level in rms:
            out += self._step(bool(level >= self.threshold))
        return out

    def _time(self, frames: int) -> float:
        return round(frames * self.frame / self.rate, 3)

    def _step(self, voiced: bool) -> list[Timed]:
        start, end = self._time(self.frames_done), self._time(self.frames_done + 1)
        self.frames_done += 1
        out: list[Timed] = []
        if not self.in_turn:
            if voiced:
                self.in_turn, self.turn_start = True, start
                self.silence_start, self.eager = None, False
                out.append((end, {"type": "turn.start", "time_s": start}))
            return out
        if voiced:
            if self.eager:
                out.append((end, {"type": "turn.resume", "time_s": start}))
            self.silence_start, self.eager = None, False
        else:
            if self.silence_start is None:
                self.silence_start = start
            silent = end - self.silence_start + _EPS
            if not self.eager and silent >= self.min_silence / 2:
                self.eager = True
                out.append((end, {"type": "turn.eager_end", "time_s": self.silence_start}))
            if silent >= self.min_silence:
                self.in_turn = False
                out.append((end, _turn_end(self.silence_start, "threshold")))
                return out
        if self.timeout is not None and end - self.turn_start + _EPS >= self.timeout:
            self.in_turn = False
            out.append((end, _turn_end(end, "timeout")))
        return out

    def finish(self, total_seconds: float) -> list[Timed]:
        """End an open turn when the audio ends."""
        if not self.in_turn:
            return []
        self.in_turn = False
        at = self.silence_start if self.silence_start is not None else round(total_seconds, 3)
        return [(total_seconds, _turn_end(at, "threshold"))]


def _turn_end(time_s: float, reason: str) -> dict[str, Any]:
    return {"type": "turn.end", "time_s": time_s, "end_reason": reason}


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def _default_settings(delay_ms: int) -> dict[str, Any]:
    return {
        "audio_format": {"encoding": "pcm_s16le", "sample_rate": 16000},
        "target_streaming_delay_ms": delay_ms,
        "diarize": False,
        "context_bias": None,
        "language": None,
        "speaker_references": None,
        "turn_detection": None,
    }


class _Invalid(ValueError):
    """A ``session.update`` value the API would refuse."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_audio_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("audio_format must be an object with encoding and sample_rate")
    encoding, rate = value.get("encoding"), value.get("sample_rate")
    if encoding not in ENCODINGS:
        raise _Invalid(
            f"Unsupported audio encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}"
        )
    if not _is_int(rate) or not 8000 <= rate <= 192000:
        raise _Invalid(f"sample_rate must be an integer from 8000 to 192000, got {rate!r}")
    return {"encoding": encoding, "sample_rate": rate}


def _check_delay(value: Any) -> int:
    if not _is_int(value) or not valid_delay_ms(value):
        raise _Invalid(
            f"target_streaming_delay_ms must be between 80 and 1200, or 2400; got {value!r}"
        )
    return int(value)


def _check_diarize(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("diarize must be a boolean")
    return value


def _check_context_bias(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _Invalid("context_bias must be a list of strings")
    if len(value) > 100:
        raise _Invalid("context_bias accepts at most 100 terms")
    return list(value)


def _check_language(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z]{2}", value):
        raise _Invalid(f"language must be an ISO-639-1 code, got {value!r}")
    return value


def _check_speakers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _Invalid("speaker_references must map speaker names to base64 audio")
    return dict(value)


def _check_turn_detection(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("turn_detection must be an object")
    unknown = set(value) - set(TURN_DEFAULTS)
    if unknown:
        raise _Invalid(f"turn_detection: unknown fields {sorted(unknown)}")
    config = {**TURN_DEFAULTS, **value}
    for name in ("start_threshold", "eager_end_threshold", "end_threshold"):
        number = config[name]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise _Invalid(f"turn_detection.{name} must be a number")
        if not 0.0 <= number <= 1.0:
            raise _Invalid(f"turn_detection.{name} must be between 0 and 1")
    if not _is_int(config["min_silence_ms"]) or config["min_silence_ms"] < 0:
        raise _Invalid("turn_detection.min_silence_ms must be a non-negative integer")
    timeout = config["end_timeout_ms"]
    if timeout is not None and (not _is_int(timeout) or timeout <= 0):
        raise _Invalid("turn_detection.end_timeout_ms must be a positive integer or null")
    return config


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "audio_format": _check_audio_format,
    "target_streaming_delay_ms": _check_delay,
    "diarize": _check_diarize,
    "context_bias": _check_context_bias,
    "language": _check_language,
    "speaker_references": _check_speakers,
    "turn_detection": _check_turn_detection,
}


def apply_update(
    settings: Mapping[str, Any], payload: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """The settings after a ``session.update`` payload; raises ``ValueError`` if invalid.

    ``null`` resets a setting to its default; unknown fields are ignored.
    """
    new = dict(settings)
    for name, value in payload.items():
        check = _CHECKS.get(name)
        if check is not None:
            new[name] = defaults[name] if value is None else check(value)
    if new["speaker_references"] and not new["diarize"]:
        raise _Invalid("speaker_references requires diarize")
    return new


def _session_object(
    settings: Mapping[str, Any], request_id: str, model: str | None
) -> dict[str, Any]:
    """The ``session`` of session.created/updated, as ``RealtimeTranscriptionSession``."""
    speakers = settings.get("speaker_references")
    return {
        "request_id": request_id,
        "model": model or "",
        **settings,
        "audio_format": dict(settings["audio_format"]),
        "speaker_references": list(speakers) if speakers else None,
    }


def _error_event(message: str, code: int) -> dict[str, Any]:
    return {"type": "error", "error": {"message": message, "code": code}}


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------


@dataclass
class _Fault:
    kind: str  # "reject" | "error" | "drop"
    remaining: int | None  # sessions left to hit; None = every session
    seconds: float = 0.0
    status: int = 500
    message: str = ""
    code: int = 500
    close: bool = False
    reset: bool = False
    serial: int = field(default_factory=itertools.count().__next__)

    def claim(self) -> bool:
        """Take one use; False when used up."""
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass
class _Outgoing:
    due: float
    kind: str  # "event" | "close" | "drop"
    data: dict[str, Any] = field(default_factory=dict)
    queued_at: float = 0.0
    code: int = 1000
    reason: str = ""
    reset: bool = False


# --------------------------------------------------------------------------------------
# The server side of one session
# --------------------------------------------------------------------------------------


def _rebuild_request(h: _Handler) -> bytes:
    """The handshake request as the client sent it (http.server already consumed it)."""
    lines = [h.requestline] + [f"{k}: {v}" for k, v in h.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _http_response(status: int, body: Mapping[str, Any]) -> Response:
    payload = json.dumps(body).encode("utf-8")
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    headers = WsHeaders(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
        ]
    )
    return Response(status, phrase, headers, payload)


class _Session:
    """Runs one WebSocket session on the FakeMistral handler thread."""

    def __init__(self, rt: FakeRealtime, h: _Handler, record: RealtimeSession) -> None:
        self.rt = rt
        self.h = h
        self.sock: socket.socket = h.connection
        self.record = record
        self.protocol = ServerProtocol(max_size=rt.max_message_bytes)
        self.outbox: deque[_Outgoing] = deque()
        self.fragments: tuple[Opcode, list[bytes]] | None = None
        self.transcript: _Transcript | None = None
        self.turns: _TurnDetector | None = None
        self.audio_ended = False
        self.dropping = False
        self.finished = False  # the socket is done (EOF sent, dropped or gone)
        self.close_deadline: float | None = None
        self.reason: str | None = None
        self.fired: set[int] = set()
        self.done = threading.Event()

    # -- entry point ------------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self._handshake():
                self._queue(
                    {
                        "type": "session.created",
                        "session": self._session_object(),
                    }
                )
                self._receive(self._drain_rfile())
                self._loop()
        except OSError:
            self._end_reason("eof")
        finally:
            self.finished = True
            rec = self.record
            rec._update(lambda: self._close_record(rec))
            self.done.set()

    def _close_record(self, rec: RealtimeSession) -> None:
        rec.closed_at = time.monotonic()
        rec.close_reason = self.reason or "eof"

    def _end_reason(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    # -- handshake --------------------------------------------------------------------------

    def _handshake(self) -> bool:
        rec = self.record
        self.protocol.receive_data(_rebuild_request(self.h))
        request = next((e for e in self.protocol.events_received() if isinstance(e, Request)), None)
        if request is None:  # not even HTTP: the protocol only queued an EOF
            self._write_pending()
            rec._update(lambda: setattr(rec, "status", 400))
            self._end_reason("rejected")
            return False
        verdict = self.rt._handshake_verdict(rec)
        response = self.protocol.accept(request) if verdict is None else verdict
        self.protocol.send_response(response)
        rec.request.status = response.status_code
        if response.status_code == 401:
            rec.request.fault = "auth"
        rec._update(lambda: setattr(rec, "status", response.status_code))
        self._write_pending()
        if response.status_code != 101:
            self._end_reason("rejected")
            return False
        return True

    def _drain_rfile(self) -> bytes:
        """Bytes the handler's buffered reader read past the headers (normally none)."""
        self.sock.setblocking(False)
        try:
            data = self.h.rfile.peek()
            if data:
                self.h.rfile.read(len(data))
            return bytes(data)
        except (OSError, ValueError):
            return b""
        finally:
            self.sock.settimeout(self.rt.send_timeout)

    # -- the pump ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self.finished:
            self._send_due()
            if self.finished:
                return
            now = time.monotonic()
            if self.close_deadline is not None and now >= self.close_deadline:
                return  # the client never answered our close frame
            if self.rt._fake_stopping():  # FakeMistral cuts in-flight requests: so do we
                self._end_reason("stopped")
                self._drop(reset=False)
                return
            if self.close_deadline is None and self.rt._closing.is_set():
                self._end_reason("closed")
                self._start_close(1001, "server shutting down")
                continue
            timeout = _TICK
            if self.outbox:
                timeout = min(timeout, max(0.0, self.outbox[0].due - now))
            if self.close_deadline is not None:
                timeout = min(timeout, max(0.0, self.close_deadline - now))
            try:
                readable, _, _ = select.select([self.sock], [], [], timeout)
            except (OSError, ValueError):
                self._end_reason("eof")
                return
            if readable:
                self._read_once()

    def _read_once(self) -> None:
        try:
            data = self.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return
        except OSError:
            data = b""
        if data:
            self._receive(data)
            return
        self._end_reason("stopped" if self.rt._fake_stopping() else "eof")
        self.protocol.receive_eof()
        with contextlib.suppress(OSError):
            self._write_pending()
        self.finished = True

    def _receive(self, data: bytes) -> None:
        if not data:
            return
        self.protocol.receive_data(data)
        self._write_pending()
        for event in self.protocol.events_received():
            if not isinstance(event, Frame):
                continue
            if event.opcode is Opcode.CLOSE or not self.finished:
                self._on_frame(event)
            self._send_due()  # events go out as soon as their audio is processed
        if self.protocol.parser_exc is not None:
            self._end_reason("protocol_error")

    def _write_pending(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk == SEND_EOF:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_WR)
                self.finished = True
            else:
                self.sock.sendall(chunk)

    def _send_due(self) -> None:
        while self.outbox and not self.finished and self.outbox[0].due <= time.monotonic():
            item = self.outbox.popleft()
            if item.kind == "drop":
                self._drop(item.reset)
            elif item.kind == "close":
                self._start_close(item.code, item.reason)
            elif self.protocol.state is State.OPEN:
                self._send_event(item)

    def _send_event(self, item: _Outgoing) -> None:
        self.protocol.send_text(json.dumps(item.data).encode("utf-8"))
        self._write_pending()
        sent = SentEvent(str(item.data.get("type")), item.data, item.queued_at, time.monotonic())
        self.record._update(lambda: self.record.events.append(sent))

    def _start_close(self, code: int, reason: str) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self._write_pending()
            self.close_deadline = time.monotonic() + self.rt.close_timeout
        else:
            self.finished = True

    def _drop(self, reset: bool) -> None:
        """Close the TCP connection without a close frame (RST with ``reset``)."""
        self._end_reason("dropped")
        self.finished = True
        with contextlib.suppress(OSError):
            if reset:
                self.sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.sock.close()
            else:
                self.sock.shutdown(socket.SHUT_RDWR)

    def _queue(self, data: dict[str, Any]) -> None:
        now = time.monotonic()
        self.outbox.append(_Outgoing(now + self.rt.event_delay, "event", data, queued_at=now))

    def _queue_action(self, kind: str, **kwargs: Any) -> None:
        now = time.monotonic()
        self.outbox.append(_Outgoing(now + self.rt.event_delay, kind, queued_at=now, **kwargs))

    def _error(self, message: str, code: int) -> None:
        self._queue(_error_event(message, code))

    # -- frames and messages ------------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        op = frame.opcode
        if op is Opcode.CLOSE:
            close = self.protocol.close_rcvd
            code = None if close is None else int(close.code)
            self.record._update(lambda: setattr(self.record, "client_close_code", code))
            self._end_reason("client")
            return
        if op in (Opcode.TEXT, Opcode.BINARY):
            if not frame.fin:
                self.fragments = (op, [frame.data])
                return
            self._on_message(op, frame.data)
        elif op is Opcode.CONT and self.fragments is not None:
            self.fragments[1].append(frame.data)
            if frame.fin:
                kind, parts = self.fragments
                self.fragments = None
                self._on_message(kind, b"".join(parts))

    def _on_message(self, op: Opcode, data: bytes) -> None:
        now = time.monotonic()
        if self.dropping:
            return
        if op is Opcode.BINARY:
            self._record_message("<binary>", now, len(data))
            self._error("Binary frames are not supported; send JSON text", ERROR_INVALID_MESSAGE)
            return
        try:
            msg = json.loads(data.decode("utf-8", "replace"))
        except ValueError:
            msg = None
        mtype = msg.get("type") if isinstance(msg, dict) else None
        if not isinstance(msg, dict) or not isinstance(mtype, str):
            self._record_message("<invalid>", now, len(data))
            self._error("Invalid message: expected a JSON object with a type", 400)
            return
        self._record_message(mtype, now, len(data))
        if self.audio_ended:
            self._error(f"{mtype} after input_audio.end", ERROR_SETTINGS_LOCKED)
            return
        handler = {
            "session.update": lambda: self._on_update(msg.get("session")),
            "input_audio.append": lambda: self._on_append(msg.get("audio")),
            "input_audio.flush": self._on_flush,
            "input_audio.end": self._on_end,
        }.get(mtype)
        if handler is None:
            self._error(f"Unknown message type {mtype!r}", ERROR_INVALID_MESSAGE)
        else:
            handler()

    def _record_message(self, mtype: str, now: float, size: int) -> None:
        msg = ClientMessage(mtype, now, size)
        self.record._update(lambda: self.record.messages.append(msg))

    def _session_object(self) -> dict[str, Any]:
        rec = self.record
        return _session_object(rec.settings, rec.request_id, rec.model)

    def _on_update(self, payload: Any) -> None:
        rec = self.record
        rec._update(lambda: rec.updates.append(payload))
        if rec.first_audio_at is not None:
            self._error("Session settings are locked once audio has started", ERROR_SETTINGS_LOCKED)
            return
        if not isinstance(payload, dict):
            self._error("session.update needs a session object", ERROR_INVALID_SETTINGS)
            return
        try:
            new = apply_update(rec.settings, payload, self.rt._defaults())
        except _Invalid as exc:
            self._error(str(exc), ERROR_INVALID_SETTINGS)
            return
        rec._update(lambda: setattr(rec, "settings", new))
        self._queue({"type": "session.updated", "session": self._session_object()})

    def _start_audio(self) -> None:
        """Lock the settings: the first chunk fixes format, diarization and turns."""
        rec, rt = self.record, self.rt
        settings = rec.settings
        fmt = settings["audio_format"]
        encoding, rate = fmt["encoding"], int(fmt["sample_rate"])
        speakers: list[str] | None = None
        if settings["diarize"]:
            speakers = list(settings["speaker_references"] or ()) or ["speaker_1", "speaker_2"]
        self.transcript = _Transcript(
            bytes_per_second=ENCODINGS[encoding] * rate,
            segment_seconds=rt.segment_seconds,
            language=settings["language"] or rt.language,
            speakers=speakers,
        )
        if settings["turn_detection"] is not None:
            self.turns = _TurnDetector(
                encoding, rate, settings["turn_detection"], rt.silence_threshold
            )
        rec._update(lambda: setattr(rec, "first_audio_at", time.monotonic()))

    def _on_append(self, audio: Any) -> None:
        rec = self.record
        try:
            if not isinstance(audio, str):
                raise ValueError("audio must be a string")
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            self._error("input_audio.append: audio is not valid base64", ERROR_INVALID_MESSAGE)
            return
        if len(pcm) > MAX_CHUNK_BYTES:
            rec._update(lambda: rec.rejected_chunks.append(len(pcm)))
            self._error(
                f"Audio chunk too large: {len(pcm)} bytes decoded (max {MAX_CHUNK_BYTES})",
                ERROR_CHUNK_TOO_LARGE,
            )
            return
        if self.transcript is None:
            self._start_audio()
        assert self.transcript is not None

        def add() -> None:
            rec.audio_bytes += len(pcm)
            rec.chunk_sizes.append(len(pcm))
            if self.rt.keep_audio:
                rec.audio += pcm

        rec._update(add)
        timed = self.transcript.feed(len(pcm))
        if self.turns is not None:
            timed += self.turns.feed(pcm)
        self._queue_timed(timed)
        self._check_faults()

    def _queue_timed(self, timed: Iterable[Timed]) -> None:
        for _, data in sorted(timed, key=lambda item: item[0]):
            self._queue(data)

    def _on_flush(self) -> None:
        if self.transcript is not None:
            self._queue_timed(self.transcript.flush())

    def _on_end(self) -> None:
        self.audio_ended = True
        if self.transcript is None:
            self._start_audio()
        assert self.transcript is not None
        timed = self.transcript.flush()
        if self.turns is not None:
            timed += self.turns.finish(self.transcript.seconds)
        self._queue_timed(timed)
        self._queue(self.transcript.done(self.record.model or ""))
        self._end_reason("done")
        self._queue_action("close", code=1000, reason="transcription done")

    def _check_faults(self) -> None:
        seconds = self.transcript.seconds if self.transcript is not None else 0.0
        for fault in self.rt._due_faults(seconds, self.fired):
            if fault.kind == "drop":
                self.dropping = True
                self._queue_action("drop", reset=fault.reset)
                return
            self._error(fault.message, fault.code)
            if fault.close:
                self._end_reason("error")
                self.dropping = True
                self._queue_action("close", code=1011, reason=fault.message[:100])
                return


# --------------------------------------------------------------------------------------
# The public object
# --------------------------------------------------------------------------------------


class FakeRealtime:
    """The realtime endpoint on a :class:`FakeMistral`; see the module docstring."""

    path = REALTIME_PATH

    def __init__(
        self,
        fake: FakeMistral,
        *,
        segment_seconds: float = 2.0,
        language: str = "en",
        default_delay_ms: int = 480,
        silence_threshold: float = 0.02,
        event_delay: float = 0.0,
        close_timeout: float = 1.0,
        send_timeout: float = 5.0,
        keep_audio: bool = True,
        max_message_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.fake = fake
        self.segment_seconds = segment_seconds
        self.language = language
        self.default_delay_ms = default_delay_ms
        self.silence_threshold = silence_threshold
        self.event_delay = event_delay
        self.close_timeout = close_timeout
        self.send_timeout = send_timeout
        self.keep_audio = keep_audio
        self.max_message_bytes = max_message_bytes
        #: unexpected exceptions raised while serving a session (a bug in the fake)
        self.errors: list[BaseException] = []

        self._sessions: list[RealtimeSession] = []
        self._live: set[_Session] = set()
        self._rejects: list[_Fault] = []
        self._audio_faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._counter = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def install(self) -> FakeRealtime:
        """Serve the realtime path on the FakeMistral (started or not)."""
        self._closing.clear()
        self.fake.websocket_routes[self.path] = self._serve
        return self

    def close(self, timeout: float = 3.0) -> None:
        """Remove the route and end every open session: a close frame (1001), then, if the
        client has not answered within ``timeout``, the socket is cut. Idempotent."""
        if self.fake.websocket_routes.get(self.path) == self._serve:
            del self.fake.websocket_routes[self.path]
        self._closing.set()
        deadline = time.monotonic() + timeout
        for runner in self._live_sessions():
            runner.done.wait(max(0.0, deadline - time.monotonic()))
        for runner in self._live_sessions():  # still there: cut them off
            with contextlib.suppress(OSError):
                runner.sock.shutdown(socket.SHUT_RDWR)
            runner.done.wait(1.0)

    def __enter__(self) -> FakeRealtime:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``ws://host:port/v1/audio/transcriptions/realtime`` (no query)."""
        return self.fake.url.replace("http://", "ws://", 1) + self.path

    # -- records --------------------------------------------------------------------------------

    @property
    def sessions(self) -> list[RealtimeSession]:
        """Every session (handshake) so far, in arrival order (a copy of the list)."""
        with self._lock:
            return list(self._sessions)

    def wait_for_sessions(
        self, count: int, timeout: float = 5.0, *, accepted: bool = False
    ) -> list[RealtimeSession]:
        """Block until ``count`` sessions (only accepted ones with ``accepted``) started."""
        deadline = time.monotonic() + timeout

        def matching() -> list[RealtimeSession]:
            return [s for s in self._sessions if not accepted or s.status == 101]

        with self._changed:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"got {len(matching())} of {count} realtime sessions")
                self._changed.wait(left)
            return matching()

    def reset(self) -> None:
        """Forget sessions, queued faults and errors (knobs stay)."""
        with self._lock:
            self._sessions.clear()
            self._rejects.clear()
            self._audio_faults.clear()
            self.errors.clear()

    # -- faults ---------------------------------------------------------------------------------

    def reject_next(self, status: int, times: int | None = 1, message: str | None = None) -> None:
        """Refuse the next ``times`` handshakes (None: all) with HTTP ``status``."""
        text = message or _phrase(status)
        with self._lock:
            self._rejects.append(_Fault("reject", times, status=status, message=text))

    def error_after(
        self,
        seconds: float,
        message: str = "Internal server error",
        code: int = 500,
        *,
        times: int | None = 1,
        close: bool = False,
    ) -> None:
        """Send an ``error`` event once a session has received ``seconds`` of audio, in
        ``times`` sessions (None: every one); ``close`` then closes it with code 1011."""
        fault = _Fault("error", times, seconds=seconds, message=message, code=code, close=close)
        with self._lock:
            self._audio_faults.append(fault)

    def drop_after(self, seconds: float, *, times: int | None = 1, reset: bool = False) -> None:
        """Cut the TCP connection (no close frame; RST with ``reset``) once a session has
        received ``seconds`` of audio, in ``times`` sessions (None: every one)."""
        with self._lock:
            self._audio_faults.append(_Fault("drop", times, seconds=seconds, reset=reset))

    # -- internals (handler threads) ----------------------------------------------------------

    def _defaults(self) -> dict[str, Any]:
        return _default_settings(self.default_delay_ms)

    def _live_sessions(self) -> list[_Session]:
        with self._lock:
            return list(self._live)

    def _fake_stopping(self) -> bool:
        stopping = getattr(self.fake, "_stopping", None)
        return bool(stopping is not None and stopping.is_set())

    def _handshake_verdict(self, rec: RealtimeSession) -> Response | None:
        """An HTTP response refusing the handshake, or None to accept it."""
        with self._lock:
            fault = next((f for f in self._rejects if f.claim()), None)
            self._rejects = [f for f in self._rejects if f.remaining is None or f.remaining > 0]
        if fault is not None:
            return _http_response(fault.status, _error_body(fault.status, fault.message))
        if not self.fake._authorized(rec.request):
            return _http_response(401, {"message": "Unauthorized", "request_id": rec.request_id})
        if not rec.model:
            return _http_response(400, _error_body(400, "Query parameter 'model' is required"))
        return None

    def _due_faults(self, seconds: float, fired: set[int]) -> list[_Fault]:
        """Audio faults whose threshold this session has reached (each fires once here)."""
        due: list[_Fault] = []
        with self._lock:
            for fault in self._audio_faults:
                if fault.serial in fired or seconds + _EPS < fault.seconds:
                    continue
                fired.add(fault.serial)
                if fault.claim():
                    due.append(fault)
            self._audio_faults = [
                f for f in self._audio_faults if f.remaining is None or f.remaining > 0
            ]
        return due

    def _serve(self, h: _Handler, request: RecordedRequest) -> None:
        """The route: record the session, then run it until the connection is done."""
        with self._changed:
            self._counter += 1
            model = (request.query.get("model") or [None])[0]
            record = RealtimeSession(
                id=self._counter,
                request=request,
                query=request.query,
                headers=request.headers,
                model=model,
                request_id=uuid.uuid4().hex,
                opened_at=time.monotonic(),
                settings=self._defaults(),
            )
            runner = _Session(self, h, record)
            self._sessions.append(record)
            self._live.add(runner)
            self._changed.notify_all()
        try:
            runner.run()
        except Exception as exc:
            with self._lock:
                self.errors.append(exc)
            raise
        finally:
            with self._changed:
                self._live.discard(runner)
                self._changed.notify_all()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"object": "error", "message": message, "type": "error", "code": str(status)}
