"""The live command's shared vocabulary: audio formats, session settings and our events.

Standard library only. The SDK's realtime events never leave :mod:`voxcli.api.realtime`;
everything past it (the session driver, the transcript, the sinks) sees these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["pcm_s16le", "pcm_s32le", "pcm_f16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw"]
ENCODINGS: tuple[Encoding, ...] = (
    "pcm_s16le",
    "pcm_s32le",
    "pcm_f16le",
    "pcm_f32le",
    "pcm_mulaw",
    "pcm_alaw",
)
BYTES_PER_SAMPLE: dict[str, int] = {
    "pcm_s16le": 2,
    "pcm_s32le": 4,
    "pcm_f16le": 2,
    "pcm_f32le": 4,
    "pcm_mulaw": 1,
    "pcm_alaw": 1,
}
MAX_MESSAGE_BYTES = 262_144
"""The most decoded PCM bytes one ``input_audio.append`` may carry."""


@dataclass(frozen=True)
class PcmFormat:
    """Mono PCM as the session is told to expect it."""

    encoding: Encoding = "pcm_s16le"
    sample_rate: int = 16_000

    @property
    def bytes_per_second(self) -> int:
        return BYTES_PER_SAMPLE[self.encoding] * self.sample_rate

    @property
    def frame_bytes(self) -> int:
        """Bytes per sample frame (mono): chunks are cut on multiples of this."""
        return BYTES_PER_SAMPLE[self.encoding]


@dataclass(frozen=True)
class TurnSettings:
    """Server-side turn detection; ``min_silence_ms`` None keeps the server's default."""

    min_silence_ms: int | None = None


@dataclass(frozen=True)
class LiveSettings:
    """Everything the first ``session.update`` carries (the server locks it at the first
    audio chunk)."""

    model: str
    audio: PcmFormat = PcmFormat()
    language: str | None = None
    diarize: bool = False
    context_bias: tuple[str, ...] = ()
    speaker_references: tuple[tuple[str, str], ...] = ()
    target_streaming_delay_ms: int | None = None
    turn_detection: TurnSettings | None = None


@dataclass(frozen=True)
class TextDelta:
    """Text recognised so far in the unfinished segment (to show, then rewrite)."""

    text: str


@dataclass(frozen=True)
class SegmentDone:
    """A finished segment; times in seconds on the session's continuous timeline (already
    offset past reconnects)."""

    text: str
    start: float | None
    end: float | None
    speaker: str | None = None


@dataclass(frozen=True)
class LanguageDetected:
    language: str


@dataclass(frozen=True)
class TurnEvent:
    """``turn.start``, ``turn.eager_end``, ``turn.resume`` or ``turn.end`` (with its reason)."""

    kind: Literal["start", "eager_end", "resume", "end"]
    reason: str | None = None
    time: float | None = None
    """Where the server placed it, in seconds on the session's timeline (offset like
    segments); None when it gave none."""


@dataclass(frozen=True)
class ConnectionState:
    """The link's state for the status line and ``-v``: ``connecting``, ``connected``,
    ``reconnecting`` (``detail``: why), ``closed``. ``dropped_seconds``: audio dropped
    from the reconnect buffer so far (it overflowed)."""

    state: Literal["connecting", "connected", "reconnecting", "closed"]
    detail: str | None = None
    dropped_seconds: float = 0.0


LiveEvent = TextDelta | SegmentDone | LanguageDetected | TurnEvent | ConnectionState


@dataclass(frozen=True)
class SessionDone:
    """``transcription.done``: the server has transcribed all audio it was sent on this
    connection. Consumed by the session driver (never passed to ``on_event``)."""

    language: str | None = None


LinkEvent = LiveEvent | SessionDone
"""What one realtime connection yields (:meth:`voxcli.api.realtime.RealtimeLink.events`)."""


@dataclass(frozen=True)
class SessionSummary:
    """How a live session went, once it is over."""

    audio_seconds: float
    """Audio taken from the input: the length of the session's timeline."""
    sent_seconds: float
    """Audio sent to the server, re-sends after reconnects included."""
    reconnects: int
    """Connections made after the first one."""
    dropped_seconds: float
    """Audio lost because the reconnect buffer overflowed (never transcribed)."""
    language: str | None
    """The language the server detected (or was told), if it said."""
    complete: bool
    """True when the server confirmed the end of the audio (``transcription.done``) before
    the drain deadline: everything sent was transcribed."""
