"""What ``voxcli models`` prints: a plain-text table or JSON (pure renderers).

One row per model (:func:`select_models` merges the entries the API lists once per name),
audio models only unless ``include_all``. Text from the server is stripped of control
characters before it reaches a cell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from voxcli.catalog.card import ModelCard, distinct_models

HEADERS = (
    "MODEL",
    "ALIASES",
    "USE",
    "TIMESTAMPS",
    "DIARIZE",
    "BIAS",
    "LANGUAGES",
    "MAX AUDIO",
    "DEPRECATED",
)
LANGUAGES_SHOWN = 4
"""Language codes a table cell names before it says how many more there are."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def select_models(cards: Iterable[ModelCard], *, include_all: bool = False) -> list[ModelCard]:
    """One card per model, sorted by id; only models that take audio unless
    ``include_all``."""
    models = [card for card in distinct_models(cards) if include_all or card.is_audio]
    return sorted(models, key=lambda card: card.id)


def format_audio_length(seconds: float) -> str:
    """A length rounded down to the minute: "≈ 1 h 5 min", "≈ 45 min", "≈ 40 s"."""
    if seconds < 60:
        return f"≈ {int(seconds)} s"
    hours, minutes = divmod(int(seconds // 60), 60)
    if not hours:
        return f"≈ {minutes} min"
    return f"≈ {hours} h {minutes} min" if minutes else f"≈ {hours} h"


def language_summary(languages: Sequence[str], shown: int = LANGUAGES_SHOWN) -> str:
    """ "en,fr" or, for a longer list, "en,fr,es,de +9"."""
    head = ",".join(languages[:shown])
    rest = len(languages) - shown
    return f"{head} +{rest}" if rest > 0 else head


def table_row(card: ModelCard) -> tuple[str, ...]:
    """The cells of one model's row (``-`` where the card does not say)."""
    return tuple(
        _cell(text)
        for text in (
            card.id,
            ",".join(card.aliases) or "-",
            ",".join(card.kinds) or "-",
            ",".join(card.timestamp_granularities) or "-",
            _yes_no(card, card.diarization),
            _yes_no(card, card.context_bias),
            language_summary(card.languages) or "-",
            _max_audio(card),
            _deprecation(card),
        )
    )


def render_table(cards: Iterable[ModelCard], *, include_all: bool = False) -> str:
    """The models as an aligned plain-text table with a header line, one line per model,
    columns two spaces apart, no trailing spaces; ends with a newline."""
    rows = [HEADERS, *(table_row(card) for card in select_models(cards, include_all=include_all))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    return "\n".join(lines) + "\n"


def model_json(card: ModelCard) -> dict[str, Any]:
    """One model for ``-f json``; ``null`` where the card does not say."""
    known = card.has_transcription_capabilities
    seconds = card.max_audio_seconds()
    return {
        "id": card.id,
        "aliases": list(card.aliases),
        "name": card.name,
        "uses": list(card.kinds),
        "audio": card.is_audio,
        "timestamp_granularities": list(card.timestamp_granularities) if known else None,
        "diarization": card.diarization if known else None,
        "context_bias": card.context_bias if known else None,
        "turn_detection": card.turn_detection if known else None,
        "languages": list(card.languages) if known else None,
        "streaming_delays_ms": [list(pair) for pair in card.streaming_delays_ms] if known else None,
        "max_context_length": card.max_context_length,
        "max_audio_seconds": round(seconds, 1) if seconds is not None else None,
        "deprecation": card.deprecation.isoformat() if card.deprecation else None,
        "deprecation_replacement_model": card.deprecation_replacement_model,
    }


def models_json(cards: Iterable[ModelCard], *, include_all: bool = False) -> list[dict[str, Any]]:
    """The models as a list of JSON objects, in table order."""
    return [model_json(card) for card in select_models(cards, include_all=include_all)]


def render_json(cards: Iterable[ModelCard], *, include_all: bool = False) -> str:
    """:func:`models_json` as indented JSON text ending in a newline."""
    return json.dumps(models_json(cards, include_all=include_all), indent=2) + "\n"


def _cell(text: str) -> str:
    return " ".join(_UNSAFE.sub(" ", text).split()) or "-"


def _yes_no(card: ModelCard, present: bool) -> str:
    if not card.has_transcription_capabilities:
        return "-"
    return "yes" if present else "no"


def _max_audio(card: ModelCard) -> str:
    """Only for kinds that send audio in one request (offline, chat)."""
    seconds = card.max_audio_seconds()
    if seconds is None or not {"offline", "chat"} & set(card.kinds):
        return "-"
    return format_audio_length(seconds)


def _deprecation(card: ModelCard) -> str:
    if card.deprecation is None:
        return "-"
    when = f"{card.deprecation:%Y-%m-%d}"
    replacement = card.deprecation_replacement_model
    return f"{when} → {replacement}" if replacement else when
