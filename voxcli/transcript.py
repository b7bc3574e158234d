"""Our own typed model of a transcription, built from the API's response.

The SDK's pydantic objects never leave ``voxcli.api``: it turns the response's
plain mapping (``response.model_dump()``) into a :class:`Transcript` at once with
:func:`transcript_from_response`. Everything downstream (renderers, merging of
split parts, the part cache, the JSON schema) works on these dataclasses only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

_SPEAKER_ID = re.compile(r"^speaker[_\s-]*(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Word:
    """One word with its time span in seconds."""

    text: str
    start: float
    end: float
    speaker: str | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech. ``start``/``end`` are None when the API gave no times."""

    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class Usage:
    """What the request cost, as the API reports it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_audio_seconds: float | None = None


@dataclass(frozen=True)
class Transcript:
    """A transcription of one source."""

    text: str
    language: str | None = None
    model: str | None = None
    segments: tuple[Segment, ...] = ()
    words: tuple[Word, ...] = ()
    usage: Usage | None = None
    source: str | None = None
    duration: float | None = field(default=None)

    @property
    def has_timestamps(self) -> bool:
        return any(s.start is not None and s.end is not None for s in self.segments) or bool(
            self.words
        )

    def with_source(self, source: str | None) -> Transcript:
        return replace(self, source=source)


def speaker_label(speaker_id: str | None) -> str | None:
    """Turn an API speaker id (``speaker_1``) into a readable label (``Speaker 1``)."""
    if speaker_id is None:
        return None
    speaker_id = str(speaker_id).strip()
    if not speaker_id:
        return None
    match = _SPEAKER_ID.match(speaker_id)
    if match:
        return f"Speaker {int(match.group(1))}"
    return speaker_id


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:  # NaN, infinite or negative: unusable
        return None
    return number


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _usage_from(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    return Usage(
        prompt_tokens=_int_or_none(data.get("prompt_tokens")),
        completion_tokens=_int_or_none(data.get("completion_tokens")),
        total_tokens=_int_or_none(data.get("total_tokens")),
        prompt_audio_seconds=_float_or_none(data.get("prompt_audio_seconds")),
    )


def _is_single_token(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not any(ch.isspace() for ch in stripped)


def _classify_entries(
    entries: Sequence[Mapping[str, Any]], granularities: Iterable[str]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split the API's ``segments`` list into (segments, words).

    The API returns word timestamps as one-word entries of ``segments``; with
    both granularities requested the two kinds arrive mixed. We accept an
    explicit ``type`` mentioning "word" and nested ``words`` lists too.
    """
    wanted = set(granularities)
    segments: list[Mapping[str, Any]] = []
    words: list[Mapping[str, Any]] = []
    for entry in entries:
        nested = entry.get("words")
        if isinstance(nested, list):
            words.extend(w for w in nested if isinstance(w, Mapping))
        if "word" in str(entry.get("type") or ""):
            words.append(entry)
        else:
            segments.append(entry)
    if "word" not in wanted or words:
        return segments, words
    if "segment" not in wanted:
        return [], segments
    # Both granularities, untyped: a one-token entry inside a longer entry's span is a
    # word, and so is the repeat of a one-word segment ("Yes." then its word "Yes.").
    spans = [
        (_float_or_none(e.get("start")), _float_or_none(e.get("end")))
        for e in segments
        if not _is_single_token(str(e.get("text") or ""))
    ]
    kept: list[Mapping[str, Any]] = []
    single_segments: list[tuple[str, float | None, float | None]] = []
    for entry in segments:
        text = str(entry.get("text") or "")
        start = _float_or_none(entry.get("start"))
        end = _float_or_none(entry.get("end"))
        if not _is_single_token(text):
            kept.append(entry)
            continue
        inside = (
            start is not None
            and end is not None
            and any(s is not None and e is not None and s <= start and end <= e for s, e in spans)
        )
        repeat = any(
            t == text.strip()
            and (s == start or (s is not None and start is not None and s <= start))
            and (e == end or (e is not None and end is not None and end <= e))
            for t, s, e in single_segments
        )
        if inside or repeat:
            words.append(entry)
        else:
            single_segments.append((text.strip(), start, end))
            kept.append(entry)
    return kept, words


def _segment_from(entry: Mapping[str, Any]) -> Segment:
    return Segment(
        text=str(entry.get("text") or ""),
        start=_float_or_none(entry.get("start")),
        end=_float_or_none(entry.get("end")),
        speaker=speaker_label(entry.get("speaker_id") or entry.get("speaker")),
    )


def _word_from(entry: Mapping[str, Any]) -> Word | None:
    start = _float_or_none(entry.get("start"))
    end = _float_or_none(entry.get("end"))
    text = str(entry.get("text") or entry.get("word") or "").strip()
    if start is None or end is None or not text:
        return None
    return Word(
        text=text,
        start=start,
        end=max(start, end),
        speaker=speaker_label(entry.get("speaker_id") or entry.get("speaker")),
    )


def transcript_from_response(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    granularities: Iterable[str] = (),
    duration: float | None = None,
) -> Transcript:
    """Build a :class:`Transcript` from the API's JSON response (a plain mapping)."""
    entries = [e for e in (data.get("segments") or []) if isinstance(e, Mapping)]
    segment_entries, word_entries = _classify_entries(entries, granularities)
    words = [w for w in (_word_from(e) for e in word_entries) if w is not None]
    words.sort(key=lambda w: (w.start, w.end))
    language = data.get("language")
    return Transcript(
        text=str(data.get("text") or "").strip(),
        language=str(language) if language else None,
        model=str(data["model"]) if data.get("model") else None,
        segments=tuple(_segment_from(e) for e in segment_entries),
        words=tuple(words),
        usage=_usage_from(data.get("usage")),
        source=source,
        duration=duration,
    )


def transcript_to_data(transcript: Transcript) -> dict[str, Any]:
    """The transcript as plain JSON data, exactly (no rounding): what the part cache keeps.

    :func:`transcript_from_data` reads it back into an equal :class:`Transcript`.
    """
    return asdict(transcript)


def transcript_from_data(data: Mapping[str, Any]) -> Transcript:
    """Read back :func:`transcript_to_data`'s output; ValueError if it is not that shape."""
    try:
        usage = data.get("usage")
        return Transcript(
            text=str(data["text"]),
            language=data.get("language"),
            model=data.get("model"),
            segments=tuple(Segment(**entry) for entry in data.get("segments") or ()),
            words=tuple(Word(**entry) for entry in data.get("words") or ()),
            usage=Usage(**usage) if usage is not None else None,
            source=data.get("source"),
            duration=data.get("duration"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored transcript: {exc}") from None
