"""Our own request and result types for the API layer; no SDK import here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcli.audio.formats import CONTENT_TYPES

SIGNED_URL_EXPIRY_HOURS = 1  # the API's minimum: the URL is used once, at once


@dataclass(frozen=True)
class TranscriptionParams:
    """The API parameters of one transcription request, already validated."""

    model: str
    language: str | None = None
    temperature: float | None = None
    diarize: bool = False
    context_bias: tuple[str, ...] = ()
    timestamp_granularities: tuple[str, ...] = ()
    speaker_references: tuple[tuple[str, str], ...] = ()
    """(name, reference) pairs: base64 audio or a URL (see :mod:`voxcli.audio.references`)."""


@dataclass(frozen=True)
class AudioPayload:
    """What to send: a local file (streamed from disk) or a URL the API fetches."""

    file_name: str
    path: Path | None = None
    url: str | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(Path(self.file_name).suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class ChatParams:
    """The API parameters of one chat request besides the messages."""

    model: str
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class ChatResult:
    """A whole chat answer: its text, the model that wrote it, what it cost, why it ended."""

    text: str
    model: str | None
    usage: dict[str, Any]
    finish_reason: str | None
