"""Our own model card: what one model can do, parsed from the API's JSON.

:meth:`ModelCard.from_json` reads the wire shape of ``GET /v1/models`` entries (the SDK's
``BaseModelCard`` dumped with ``model_dump(mode="json")``) and :meth:`ModelCard.to_json`
writes that same shape back, so the cache and the API go through one parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeGuard

from voxcli.catalog.kinds import Kind

AUDIO_TOKENS_PER_SECOND = 12.5
"""Audio costs one token per 80 ms (Mistral's figure for Voxtral)."""

TRANSCRIPT_TOKENS_PER_SECOND = 4.0
"""Room kept for the transcript's own tokens, per second of audio: fast speech is about
3 words (4 tokens) a second, so this is an upper bound for the text a second produces."""

RESERVED_TOKENS = 1024
"""A fixed margin per request: instructions, special and timestamp tokens, the language."""

BIAS_CHARS_PER_TOKEN = 3
"""A context-bias term costs about one token per 3 characters (rounded up) plus one token
to separate it from the next: deliberately more than the usual 4 characters a token."""

CAPABILITY_FLAGS = (
    "audio",
    "audio_transcription",
    "audio_transcription_realtime",
    "completion_chat",
)


def estimate_bias_tokens(terms: Iterable[str]) -> int:
    """The tokens ``context_bias`` terms take, estimated from above (see
    :data:`BIAS_CHARS_PER_TOKEN`)."""
    return sum(math.ceil(len(term) / BIAS_CHARS_PER_TOKEN) + 1 for term in terms)


@dataclass(frozen=True)
class ModelCard:
    """One model as the API describes it; capability lists are tuples of strings.

    ``has_transcription_capabilities`` is False when the card carried no
    ``audio_transcription_capabilities`` object: its diarization, bias, timestamp and
    language fields are then unknown rather than absent.
    """

    id: str
    aliases: tuple[str, ...] = ()
    name: str | None = None
    max_context_length: int | None = None
    deprecation: datetime | None = None
    deprecation_replacement_model: str | None = None
    audio: bool = False
    audio_transcription: bool = False
    audio_transcription_realtime: bool = False
    completion_chat: bool = False
    has_transcription_capabilities: bool = False
    modes: tuple[str, ...] = ()
    diarization: bool = False
    context_bias: bool = False
    turn_detection: bool = False
    timestamp_granularities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    streaming_delays_ms: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelCard:
        """A card from the API's JSON; missing, null or mistyped fields take their
        defaults and unknown fields are ignored. ValueError if there is no ``id``."""
        model_id = data.get("id")
        if not isinstance(model_id, str) or not model_id:
            raise ValueError("a model card without an id")
        flags = _mapping(data.get("capabilities"))
        caps = data.get("audio_transcription_capabilities")
        details = _mapping(caps)
        context = data.get("max_context_length")
        return cls(
            id=model_id,
            aliases=tuple(a for a in _strings(data.get("aliases")) if a != model_id),
            name=_text(data.get("name")),
            max_context_length=context if _is_int(context) and context > 0 else None,
            deprecation=_datetime(data.get("deprecation")),
            deprecation_replacement_model=_text(data.get("deprecation_replacement_model")),
            audio=flags.get("audio") is True,
            audio_transcription=flags.get("audio_transcription") is True,
            audio_transcription_realtime=flags.get("audio_transcription_realtime") is True,
            completion_chat=flags.get("completion_chat") is True,
            has_transcription_capabilities=isinstance(caps, Mapping),
            modes=_strings(details.get("modes")),
            diarization=details.get("diarization") is True,
            context_bias=details.get("context_bias") is True,
            turn_detection=details.get("turn_detection") is True,
            timestamp_granularities=_strings(details.get("timestamp_granularities")),
            languages=_strings(details.get("languages")),
            streaming_delays_ms=_delays(details.get("streaming_delays_ms")),
        )

    def to_json(self) -> dict[str, Any]:
        """The card in the API's shape (what :meth:`from_json` reads back)."""
        caps: dict[str, Any] | None = None
        if self.has_transcription_capabilities:
            caps = {
                "modes": list(self.modes),
                "diarization": self.diarization,
                "context_bias": self.context_bias,
                "turn_detection": self.turn_detection,
                "timestamp_granularities": list(self.timestamp_granularities),
                "languages": list(self.languages),
                "streaming_delays_ms": [
                    {"min": lo, "max": hi} for lo, hi in self.streaming_delays_ms
                ],
            }
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "name": self.name,
            "max_context_length": self.max_context_length,
            "deprecation": self.deprecation.isoformat() if self.deprecation else None,
            "deprecation_replacement_model": self.deprecation_replacement_model,
            "capabilities": {flag: getattr(self, flag) for flag in CAPABILITY_FLAGS},
            "audio_transcription_capabilities": caps,
        }

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that selects this model: its id, then its aliases."""
        return (self.id, *self.aliases)

    @property
    def is_audio(self) -> bool:
        """Whether the model takes audio at all (in chat or for transcription)."""
        return self.audio or self.audio_transcription or self.audio_transcription_realtime

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """What the model can be used for. A kind needs its capability flag and, when the
        card lists ``modes``, its mode there too; ``chat`` needs audio input as well."""
        kinds: list[Kind] = []
        if self.audio_transcription and (not self.modes or "offline" in self.modes):
            kinds.append("offline")
        if self.audio_transcription_realtime and (not self.modes or "realtime" in self.modes):
            kinds.append("realtime")
        if self.completion_chat and self.audio:
            kinds.append("chat")
        return tuple(kinds)

    def max_audio_seconds(self, bias_tokens: int = 0) -> float | None:
        """The longest audio one request holds, in seconds; None without a context length.

        The context window holds the audio (:data:`AUDIO_TOKENS_PER_SECOND`), the bias
        terms (``bias_tokens``, see :func:`estimate_bias_tokens`) and the transcript
        (:data:`TRANSCRIPT_TOKENS_PER_SECOND`), less a fixed :data:`RESERVED_TOKENS`::

            seconds = (max_context_length - RESERVED_TOKENS - bias_tokens)
                      / (AUDIO_TOKENS_PER_SECOND + TRANSCRIPT_TOKENS_PER_SECOND)

        so a 65,536-token model holds (65,536 - 1,024) / 16.5 ≈ 3,910 s ≈ 65 minutes
        without bias terms. Never negative.
        """
        if self.max_context_length is None:
            return None
        room = self.max_context_length - RESERVED_TOKENS - max(0, bias_tokens)
        return max(0.0, room / (AUDIO_TOKENS_PER_SECOND + TRANSCRIPT_TOKENS_PER_SECOND))


def parse_cards(items: Iterable[Any]) -> list[ModelCard]:
    """Cards from a list of JSON objects, skipping anything that is not a card."""
    cards = []
    for item in items:
        if isinstance(item, Mapping):
            try:
                cards.append(ModelCard.from_json(item))
            except ValueError:
                continue
    return cards


def find_card(cards: Iterable[ModelCard], name: str) -> ModelCard | None:
    """The card whose id is ``name``, else the first with ``name`` among its aliases."""
    cards = tuple(cards)
    exact = next((card for card in cards if card.id == name), None)
    return exact or next((card for card in cards if name in card.aliases), None)


def distinct_models(cards: Iterable[ModelCard]) -> list[ModelCard]:
    """One card per model, in first-seen order.

    The API may list a model once per name, each entry naming the others as aliases;
    entries with the same set of names are one model. The one kept is named by an id that
    does not end in ``-latest`` if there is one (the longest such: a pinned version).
    """
    groups: dict[frozenset[str], list[ModelCard]] = {}
    for card in cards:
        groups.setdefault(frozenset(card.names), []).append(card)
    return [max(group, key=_pinned_first) for group in groups.values()]


def _pinned_first(card: ModelCard) -> tuple[bool, int]:
    return (not card.id.endswith("-latest"), len(card.id))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(dict.fromkeys(item for item in value if isinstance(item, str) and item))


def _delays(value: Any) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges, from ``{"min": a, "max": b}`` objects or ``[a, b]`` pairs."""
    if not isinstance(value, list | tuple):
        return ()
    ranges = []
    for item in value:
        if isinstance(item, Mapping):
            low, high = item.get("min"), item.get("max")
        elif isinstance(item, list | tuple) and len(item) == 2:
            low, high = item
        else:
            continue
        if _is_int(low) and _is_int(high) and low <= high:
            ranges.append((low, high))
    return tuple(ranges)


def _datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time (``Z`` allowed); naive ones are taken as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
