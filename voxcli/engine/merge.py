"""Merging the transcripts of a split recording's parts into one, on one timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from voxcli.transcript import Segment, Transcript, Word, sum_usages


def merge_parts(
    parts: Sequence[tuple[float, float, Transcript]],
    *,
    source: str | None = None,
    duration: float | None = None,
) -> Transcript:
    """Merge ``(start, end, transcript)`` parts, each timed from its own start, into one.

    Times are shifted by each part's start and kept inside the part's range; segments and
    words come out in order and never overlap (a stretch that would overlap the one before
    starts where that one ends).
    """
    segments: list[Segment] = []
    words: list[Word] = []
    seg_end = word_end = 0.0
    for start, end, part in parts:
        for segment in _in_time_order(part.segments):
            if segment.start is None or segment.end is None:
                segments.append(segment)
                continue
            s, e = _place(segment.start, segment.end, start, end, seg_end)
            segments.append(replace(segment, start=s, end=e))
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
    joined = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if joined and not (_no_space_script(joined[-1]) and _no_space_script(text[0])):
            joined += " "
        joined += text
    return joined


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
