"""Our own typed model of a transcription, built from the API's response.

The SDK's pydantic objects never leave ``voxcli.api``: it turns the response's
plain mapping (``response.model_dump()``) into a :class:`Transcript` at once with
:func:`transcript_from_response`. Everything downstream (renderers, merging of
split parts, the part cache, the JSON schema) works on these dataclasses only.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

_SPEAKER_ID = re.compile(r"^speaker[_\s-]*(\d+)$", re.IGNORECASE)

CONTAINMENT_SLACK = 0.05
"""Seconds by which a word entry may stick out of its segment's span (the API's rounding)."""


@dataclass(frozen=True)
class Word:
    """One word (or an entry of several, like ``New York``) with its time span in seconds.

    ``speaker`` is the display label (``Speaker 1``), ``speaker_id`` the API's raw id
    (``speaker_1``), ``score`` the API's score for the entry, when it sent one.
    """

    text: str
    start: float
    end: float
    speaker: str | None = None
    speaker_id: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech. ``start``/``end`` are None when the API gave no times.

    ``speaker`` is the display label (``Speaker 1``), ``speaker_id`` the API's raw id
    (``speaker_1``), ``score`` the API's score for the segment, when it sent one.
    """

    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    speaker_id: str | None = None
    score: float | None = None


USAGE_COUNTERS = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_audio_seconds")
"""The usage fields every transcript's JSON carries (null when the API did not send one)."""


@dataclass(frozen=True)
class Usage:
    """What the request cost, as the API reports it.

    The four counters are typed; ``prompt_audio_seconds`` keeps the API's number type
    (the API sends an integer). ``extra`` holds every other field of the API's ``usage``
    object (``service_tier``, and whatever the API adds later) exactly as sent, in its
    order; it takes no part in hashing.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_audio_seconds: int | float | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The counters, then the extra fields: the API's ``usage`` object, flat."""
        data: dict[str, Any] = {name: getattr(self, name) for name in USAGE_COUNTERS}
        data.update((k, v) for k, v in self.extra.items() if k not in data)
        return data


def sum_usages(usages: Iterable[Usage | None]) -> Usage | None:
    """The usage of several requests (the parts of a split recording) as one.

    Counters and numeric extra fields are summed (an integer sum stays an integer); any
    other extra field keeps its value when every request that sent it agrees, else it
    becomes the list of the distinct values, in order. None when no request had usage.
    """
    present = [u for u in usages if u is not None]
    if not present:
        return None

    def total(values: list[Any]) -> Any:
        return sum(values) if values else None

    counters = {
        name: total([getattr(u, name) for u in present if getattr(u, name) is not None])
        for name in USAGE_COUNTERS
    }
    extra: dict[str, Any] = {}
    for key in dict.fromkeys(k for u in present for k in u.extra):
        values = [u.extra[key] for u in present if key in u.extra]
        if all(_is_number(v) for v in values):
            extra[key] = sum(values)
        else:
            distinct: list[Any] = []
            for value in values:
                if value not in distinct:
                    distinct.append(value)
            extra[key] = distinct[0] if len(distinct) == 1 else distinct
    return Usage(**counters, extra=extra)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:  # NaN, infinite or negative: unusable
        return None
    return number


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _seconds_as_sent(value: Any) -> int | float | None:
    """A non-negative count of seconds in the API's own number type (an int stays an int)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    return _float_or_none(value)


def _score(value: Any) -> float | None:
    """The API's score for an entry: any finite number (it may be a log-probability)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _raw_speaker(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("speaker_id")
    if value is None:
        value = entry.get("speaker")
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _usage_from(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    return Usage(
        prompt_tokens=_int_or_none(data.get("prompt_tokens")),
        completion_tokens=_int_or_none(data.get("completion_tokens")),
        total_tokens=_int_or_none(data.get("total_tokens")),
        prompt_audio_seconds=_seconds_as_sent(data.get("prompt_audio_seconds")),
        extra={str(k): v for k, v in data.items() if k not in USAGE_COUNTERS},
    )


def _entry_kind(entry: Mapping[str, Any]) -> str | None:
    """What an entry's ``type`` says it is: "word", "segment", or None (no type)."""
    kind = entry.get("type")
    if not isinstance(kind, str):
        return None
    kind = kind.lower()
    if "word" in kind:
        return "word"
    if "segment" in kind:
        return "segment"
    return None


def _classify_entries(
    entries: Sequence[Mapping[str, Any]], granularities: Iterable[str]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split the API's ``segments`` list into (segments, words); never by their text.

    The API returns word timestamps as entries of ``segments`` too; with both
    granularities requested the two kinds arrive mixed. Nested ``words`` lists are
    words. When any entry's ``type`` names a word (``transcription_word``), the type
    decides for every entry: an entry typed as a word is a word whatever its text
    (``New York``, ``24 000``). Otherwise the type tells nothing: it is absent, or the
    same on every entry (the SDK fills in ``transcription_segment`` for words too). Then
    the granularities requested decide, and when both were requested an entry lying
    within a longer entry's span (by :data:`CONTAINMENT_SLACK`; of the same speaker, or
    either has none) is a word, the rest are segments; of two entries with the same
    span (a one-word segment and its word) the first is the segment.
    """
    wanted = set(granularities)
    words: list[Mapping[str, Any]] = []
    for entry in entries:
        nested = entry.get("words")
        if isinstance(nested, list):
            words.extend(w for w in nested if isinstance(w, Mapping))
    kinds = [_entry_kind(e) for e in entries]
    if "word" in kinds:
        words.extend(e for e, kind in zip(entries, kinds, strict=True) if kind == "word")
        segments = [e for e, kind in zip(entries, kinds, strict=True) if kind != "word"]
        return segments, words
    if "word" not in wanted or words:
        return list(entries), words
    if "segment" not in wanted:
        return [], list(entries)
    contained = _contained(entries)
    segments = [e for e, inside in zip(entries, contained, strict=True) if not inside]
    words = [e for e, inside in zip(entries, contained, strict=True) if inside]
    return segments, words


class _MaxTree:
    """Prefix maxima over a fixed set of positions (a Fenwick tree)."""

    def __init__(self, size: int) -> None:
        self._tree = [-math.inf] * (size + 1)

    def insert(self, position: int, value: float) -> None:
        i = position + 1
        while i < len(self._tree):
            self._tree[i] = max(self._tree[i], value)
            i += i & -i

    def max_upto(self, count: int) -> float:
        """The largest value inserted at positions 0 .. count - 1."""
        best, i = -math.inf, count
        while i > 0:
            best = max(best, self._tree[i])
            i -= i & -i
        return best


def _contained(entries: Sequence[Mapping[str, Any]]) -> list[bool]:
    """For each entry, whether it lies within a longer entry's span (see _classify_entries)."""
    timed = []
    for index, entry in enumerate(entries):
        start, end = _float_or_none(entry.get("start")), _float_or_none(entry.get("end"))
        if start is not None and end is not None:
            timed.append((index, start, max(start, end), _raw_speaker(entry)))
    starts = sorted({start for _, start, _, _ in timed})
    trees: dict[str | None, _MaxTree] = {}
    everyone = _MaxTree(len(starts))

    def tree(speaker: str | None) -> _MaxTree:
        if speaker not in trees:
            trees[speaker] = _MaxTree(len(starts))
        return trees[speaker]

    inside = [False] * len(entries)
    # Longest first (the API's order among equals): each entry is checked against those
    # already seen, which are longer, or as long and earlier.
    for index, start, end, speaker in sorted(timed, key=lambda t: (t[1] - t[2], t[0])):
        reach = bisect.bisect_right(starts, start + CONTAINMENT_SLACK)
        if speaker is None:
            furthest = everyone.max_upto(reach)
        else:
            furthest = max(tree(speaker).max_upto(reach), tree(None).max_upto(reach))
        inside[index] = furthest >= end - CONTAINMENT_SLACK
        position = bisect.bisect_left(starts, start)
        everyone.insert(position, end)
        tree(speaker).insert(position, end)
    return inside


def _segment_from(entry: Mapping[str, Any]) -> Segment:
    raw = _raw_speaker(entry)
    return Segment(
        text=str(entry.get("text") or ""),
        start=_float_or_none(entry.get("start")),
        end=_float_or_none(entry.get("end")),
        speaker=speaker_label(raw),
        speaker_id=raw,
        score=_score(entry.get("score")),
    )


def _word_from(entry: Mapping[str, Any]) -> Word | None:
    start = _float_or_none(entry.get("start"))
    end = _float_or_none(entry.get("end"))
    text = str(entry.get("text") or entry.get("word") or "").strip()
    if start is None or end is None or not text:
        return None
    raw = _raw_speaker(entry)
    return Word(
        text=text,
        start=start,
        end=max(start, end),
        speaker=speaker_label(raw),
        speaker_id=raw,
        score=_score(entry.get("score")),
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
            usage=Usage(**{**usage, "extra": dict(usage.get("extra") or {})})
            if usage is not None
            else None,
            source=data.get("source"),
            duration=data.get("duration"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored transcript: {exc}") from None
