"""The fake Mistral server's model catalogue: model cards and the rules they impose.

A card is a plain dict shaped exactly like the SDK's ``BaseModelCard`` on the wire
(``client.models.retrieve`` / ``list`` validate it), built by :func:`model_card`.
:func:`default_catalogue` is the catalogue :class:`fake_mistral.FakeMistral` starts with;
:func:`check_transcription` applies a card's limits to one transcription request the way
Mistral's API does, raising :class:`ApiError`.

Standard library only: ``fake_mistral`` and ``fake_batch`` import this module, never the
other way round.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "AUDIO_TOKENS_PER_SECOND",
    "LANGUAGES",
    "ApiError",
    "audio_tokens",
    "bias_tokens",
    "check_model_exists",
    "check_transcription",
    "default_catalogue",
    "find_card",
    "model_card",
    "transcription_capabilities",
]

#: Audio costs 12.5 tokens per second of audio (one token per 80 ms).
AUDIO_TOKENS_PER_SECOND = 12.5

#: The languages the default transcription cards accept for ``language``.
LANGUAGES: tuple[str, ...] = (
    "en",
    "fr",
    "es",
    "de",
    "it",
    "pt",
    "nl",
    "hi",
    "ar",
    "ru",
    "zh",
    "ja",
    "ko",
)

#: Every flag of the SDK's ``ModelCapabilities``, all sent explicitly on a card.
CAPABILITY_FLAGS: tuple[str, ...] = (
    "completion_chat",
    "function_calling",
    "reasoning",
    "completion_fim",
    "fine_tuning",
    "vision",
    "ocr",
    "classification",
    "moderation",
    "audio",
    "audio_transcription",
    "audio_transcription_realtime",
    "audio_speech",
    "unified_resources",
)

#: ``streaming_delays_ms`` of the realtime models: 80-1200 ms, or exactly 2400 ms.
REALTIME_DELAYS: tuple[tuple[int, int], ...] = ((80, 1200), (2400, 2400))

_CREATED = 1_790_000_000  # 2026-09-21, a fixed ``created`` keeps cards deterministic


class ApiError(Exception):
    """An error answer: HTTP ``status`` and the ``message`` of a Mistral-style error body
    (a string, or ``{"detail": [...]}`` for schema errors)."""

    def __init__(self, status: int, message: Any) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def transcription_capabilities(
    *,
    modes: Sequence[str] = ("offline",),
    diarization: bool = False,
    context_bias: bool = False,
    turn_detection: bool = False,
    timestamp_granularities: Sequence[str] = (),
    languages: Sequence[str] = LANGUAGES,
    streaming_delays_ms: Iterable[tuple[int, int]] = (),
) -> dict[str, Any]:
    """An ``audio_transcription_capabilities`` object (the SDK's
    ``AudioTranscriptionCapabilities``); delay ranges are inclusive ``(min, max)`` pairs."""
    return {
        "modes": list(modes),
        "diarization": diarization,
        "context_bias": context_bias,
        "turn_detection": turn_detection,
        "timestamp_granularities": list(timestamp_granularities),
        "languages": list(languages),
        "streaming_delays_ms": [{"min": lo, "max": hi} for lo, hi in streaming_delays_ms],
    }


def model_card(
    model_id: str,
    *,
    aliases: Sequence[str] = (),
    capabilities: Iterable[str] = (),
    transcription: Mapping[str, Any] | None = None,
    max_context_length: int = 32768,
    deprecation: str | None = None,
    deprecation_replacement_model: str | None = None,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A ``BaseModelCard`` as the API sends it.

    ``capabilities`` names the flags that are true (the others are sent as false);
    ``transcription`` is the ``audio_transcription_capabilities`` object (see
    :func:`transcription_capabilities`); ``deprecation`` an ISO 8601 date-time.
    """
    flags = set(capabilities)
    unknown = flags - set(CAPABILITY_FLAGS)
    if unknown:
        raise ValueError(f"unknown capabilities: {sorted(unknown)}")
    return {
        "id": model_id,
        "object": "model",
        "created": _CREATED,
        "owned_by": "mistralai",
        "name": name or model_id,
        "description": description,
        "max_context_length": max_context_length,
        "aliases": list(aliases),
        "deprecation": deprecation,
        "deprecation_replacement_model": deprecation_replacement_model,
        "default_model_temperature": 0.0 if transcription is not None else 0.3,
        "type": "base",
        "capabilities": {flag: flag in flags for flag in CAPABILITY_FLAGS},
        "audio_transcription_capabilities": dict(transcription) if transcription else None,
    }


def default_catalogue() -> dict[str, dict[str, Any]]:
    """The cards the fake starts with, by model id (a fresh copy on every call).

    Voxtral 3 (segment timestamps only, 65,536-token context shared by audio and
    ``context_bias``), the previous generation (``voxtral-mini-2602``, alias
    ``voxtral-mini-latest``, with word timestamps), a deprecated realtime model, the chat
    model ``voxtral-small-2507`` and a non-audio model. ``voxtral-mini-2507`` is retired:
    absent, so it answers 404 like any unknown model.
    """
    offline_v3 = transcription_capabilities(
        diarization=True, context_bias=True, timestamp_granularities=["segment"]
    )
    cards = [
        model_card(
            "voxtral-mini-transcribe-3-0",
            aliases=["voxtral-mini-transcribe-3", "voxtral-mini-transcribe-latest"],
            capabilities=["audio", "audio_transcription"],
            transcription=offline_v3,
            max_context_length=65536,
            name="Voxtral Mini Transcribe 3",
        ),
        model_card(
            "voxtral-mini-transcribe-realtime-3-0",
            aliases=[
                "voxtral-mini-transcribe-realtime-3",
                "voxtral-mini-transcribe-realtime-latest",
            ],
            capabilities=["audio", "audio_transcription_realtime"],
            transcription=transcription_capabilities(
                modes=["realtime"],
                diarization=True,
                context_bias=True,
                turn_detection=True,
                streaming_delays_ms=REALTIME_DELAYS,
            ),
            max_context_length=65536,
            name="Voxtral Mini Transcribe Realtime 3",
        ),
        model_card(
            "voxtral-small-transcribe-3",
            aliases=["voxtral-small-transcribe-latest"],
            capabilities=["audio", "audio_transcription"],
            transcription=offline_v3,
            max_context_length=65536,
            name="Voxtral Small Transcribe 3",
        ),
        model_card(
            "voxtral-mini-2602",
            aliases=["voxtral-mini-latest"],
            capabilities=["audio", "audio_transcription"],
            transcription=transcription_capabilities(
                diarization=True,
                context_bias=True,
                timestamp_granularities=["segment", "word"],
            ),
            max_context_length=131072,  # about 2.9 hours of audio
            name="Voxtral Mini Transcribe 2",
        ),
        model_card(
            "voxtral-mini-transcribe-realtime-2602",
            capabilities=["audio", "audio_transcription_realtime"],
            transcription=transcription_capabilities(
                modes=["realtime"], streaming_delays_ms=REALTIME_DELAYS
            ),
            max_context_length=65536,
            deprecation="2027-03-31T00:00:00Z",
            deprecation_replacement_model="voxtral-mini-transcribe-realtime-3-0",
            name="Voxtral Mini Transcribe Realtime 2",
        ),
        model_card(
            "voxtral-small-2507",
            aliases=["voxtral-small-latest"],
            capabilities=["completion_chat", "function_calling", "audio"],
            name="Voxtral Small",
        ),
        model_card(
            "mistral-small-2506",
            aliases=["mistral-small-latest"],
            capabilities=["completion_chat", "function_calling", "vision"],
            max_context_length=131072,
            name="Mistral Small 3.2",
        ),
    ]
    return {card["id"]: card for card in cards}


def find_card(catalogue: Mapping[str, Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The card whose id or one of whose aliases is ``name``, or None."""
    card = catalogue.get(name)
    if card is not None:
        return card
    return next((c for c in catalogue.values() if name in (c.get("aliases") or [])), None)


def bias_tokens(terms: Iterable[str]) -> int:
    """Tokens ``context_bias`` terms take: about one per 4 characters, at least 1 a term."""
    return sum(max(1, math.ceil(len(term) / 4)) for term in terms)


def audio_tokens(seconds: float) -> int:
    """Tokens ``seconds`` of audio take (12.5 per second)."""
    return math.ceil(max(0.0, seconds) * AUDIO_TOKENS_PER_SECOND)


def check_model_exists(card: Mapping[str, Any] | None, name: str) -> Mapping[str, Any]:
    """The card, or 404 like the API for an unknown (or retired) model."""
    if card is None:
        raise ApiError(404, f"Invalid model: {name} does not exist or you do not have access")
    return card


def check_transcription(
    card: Mapping[str, Any] | None,
    name: str,
    *,
    audio_seconds: float | None = None,
    language: str | None = None,
    granularities: Sequence[str] = (),
    diarize: bool = False,
    context_bias: Sequence[str] = (),
) -> None:
    """Raise :class:`ApiError` unless ``card`` allows this offline transcription.

    404 for an unknown model; 400 for a model without offline transcription (a chat or a
    realtime model), a ``language`` it does not list, a timestamp granularity, diarization
    or context bias it lacks, or audio plus ``context_bias`` longer than its context.
    ``audio_seconds`` None skips the context check (a batch job being created).
    """
    card = check_model_exists(card, name)
    caps = card.get("audio_transcription_capabilities") or {}
    flags = card.get("capabilities") or {}
    if not flags.get("audio_transcription") or "offline" not in (caps.get("modes") or []):
        raise ApiError(400, f"Model {name} does not support audio transcription")
    if language is not None and language not in (caps.get("languages") or []):
        raise ApiError(400, f"Language '{language}' is not supported by this model")
    if "word" in granularities and "word" not in (caps.get("timestamp_granularities") or []):
        raise ApiError(400, "Word-level segments are not enabled for this model")
    if "segment" in granularities and "segment" not in (caps.get("timestamp_granularities") or []):
        raise ApiError(400, "Segment-level timestamps are not enabled for this model")
    if diarize and not caps.get("diarization"):
        raise ApiError(400, "Diarization is not enabled for this model")
    if context_bias and not caps.get("context_bias"):
        raise ApiError(400, "Context bias is not enabled for this model")
    if audio_seconds is None:
        return
    needed = audio_tokens(audio_seconds) + bias_tokens(context_bias)
    limit = int(card.get("max_context_length") or 0)
    if needed > limit:
        raise ApiError(
            400,
            f"The audio and context_bias need {needed} tokens, more than this model's "
            f"context of {limit} tokens",
        )
