"""Merging the transcripts of a split recording's parts into one, on one timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from voxcli.render.cues import PAUSE_MS
from voxcli.render.options import DEFAULT_OPTIONS
from voxcli.transcript import Segment, Transcript, Word, sum_usages

SHORT_SEGMENT_SECONDS = DEFAULT_OPTIONS.min_cue_duration
"""A segment shorter than a cue's minimum duration (5/6 s) is a leftover worth joining."""
JOIN_GAP_SECONDS = PAUSE_MS / 1000
"""Pieces closer than the pause that always ends a cue (3 s) belong to one stretch."""


def merge_parts(
    parts: Sequence[tuple[float, float, Transcript]],
    *,
    source: str | None = None,
    duration: float | None = None,
    short_seconds: float = SHORT_SEGMENT_SECONDS,
) -> Transcript:
    """Merge ``(start, end, transcript)`` parts, each timed from its own start, into one.

    Times are shifted by each part's start and kept inside the part's range; segments and
    words come out in order and never overlap (a stretch that would overlap the one before
    starts where that one ends). A sentence cut in two at a part boundary is joined back
    into one segment when one of its pieces is shorter than ``short_seconds`` (the
    shortest cue the renderers make; see :func:`_can_join`).
    """
    segments: list[Segment] = []
    words: list[Word] = []
    seg_end = word_end = 0.0
    for start, end, part in parts:
        for n, segment in enumerate(_in_time_order(part.segments)):
            if segment.start is None or segment.end is None:
                segments.append(segment)
                continue
            s, e = _place(segment.start, segment.end, start, end, seg_end)
            placed = replace(segment, start=s, end=e)
            if n == 0 and segments and _can_join(segments[-1], placed, short_seconds):
                segments[-1] = _join_segments(segments[-1], placed)
            else:
                segments.append(placed)
            seg_end = e
        for word in part.words:
            s, e = _place(word.start, word.end, start, end, word_end)
            words.append(replace(word, start=s, end=e))
            word_end = e
    transcripts = [part for _, _, part in parts]
    return Transcript(
        text=_join_texts(t.text for t in transcripts),
        language=_main_language(parts),
        model=next((t.model for t in transcripts if t.model), None),
        segments=tuple(segments),
        words=tuple(words),
        usage=sum_usages(t.usage for t in transcripts),
        source=source,
        duration=duration,
    )


def _can_join(before: Segment, after: Segment, short_seconds: float) -> bool:
    """Whether the last segment before a part boundary and the first after it are one.

    True when both are timed and not blank, one lasts less than ``short_seconds`` (a cue's
    minimum duration), they are less than :data:`JOIN_GAP_SECONDS` apart and have the
    same speaker. The
    joined length is not bounded: it is the two spans and a gap the cue shaper would not
    break at anyway, and the shaper splits a long segment at its best places.
    """
    if before.start is None or before.end is None or after.start is None or after.end is None:
        return False
    if not before.text.strip() or not after.text.strip():
        return False
    shortest = min(before.end - before.start, after.end - after.start)
    return (
        shortest < short_seconds
        and after.start - before.end < JOIN_GAP_SECONDS
        and (before.speaker, before.speaker_id) == (after.speaker, after.speaker_id)
    )


def _join_segments(before: Segment, after: Segment) -> Segment:
    """One segment of two consecutive timed ones: texts joined, spans united.

    The text is kept as the API gave it (no punctuation added); the score is the mean of
    the two weighted by text length, None unless both have one.
    """
    assert before.start is not None and before.end is not None
    assert after.start is not None and after.end is not None
    left, right = before.text.rstrip(), after.text.lstrip()
    score = None
    if before.score is not None and after.score is not None:
        weights = len(left.strip()) or 1, len(right.strip()) or 1
        score = (before.score * weights[0] + after.score * weights[1]) / sum(weights)
    return replace(
        before,
        text=left + _space_between(left, right) + right,
        start=min(before.start, after.start),
        end=max(before.end, after.end),
        score=score,
    )


def _in_time_order(segments: Sequence[Segment]) -> list[Segment]:
    if all(s.start is not None and s.end is not None for s in segments):
        return sorted(segments, key=lambda s: (s.start, s.end))
    return list(segments)  # untimed entries: keep the API's order


def _place(
    start: float, end: float, lo: float, hi: float, previous_end: float
) -> tuple[float, float]:
    """Shift a part-relative span by ``lo``, keep it in ``[lo, hi]`` and after ``previous_end``."""
    s = min(max(start + lo, lo, previous_end), hi)
    e = min(max(end + lo, s), hi)
    return s, max(e, s)


def _join_texts(texts: Any) -> str:
    result = ""
    for text in texts:
        text = text.strip()
        if text:
            result += _space_between(result, text) + text
    return result


def _space_between(left: str, right: str) -> str:
    """A space between two texts, none when either is empty or both sides are written without."""
    if not left or not right or (_no_space_script(left[-1]) and _no_space_script(right[0])):
        return ""
    return " "


def _no_space_script(char: str) -> bool:
    """Scripts written without spaces between words (CJK, kana, Thai, fullwidth marks)."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x0E00 <= code <= 0x0E7F  # Thai
        or 0x20000 <= code <= 0x2FFFF
    )


def _main_language(parts: Sequence[tuple[float, float, Transcript]]) -> str | None:
    """The language heard for the longest total time (the first part's on a tie)."""
    weight: dict[str, float] = {}
    for start, end, part in parts:
        if part.language:
            weight[part.language] = weight.get(part.language, 0.0) + max(end - start, 1e-9)
    if not weight:
        return None
    best = max(weight.values())
    return next(p.language for _, _, p in parts if p.language and weight[p.language] == best)
