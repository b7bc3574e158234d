"""Property tests: any transcript renders to subtitles that independent parsers accept.

The ``srt`` and ``webvtt-py`` libraries parse every output; the cues they see
must be ours (same count, same text, same times), every word of the
transcript must appear once, and the limits must hold: ordered starts,
positive durations, no overlaps, at most ``max_cue_duration``, at most
``max_lines`` lines of at most ``max_line_width`` characters (a lone word
may be wider), and ``min_cue_duration`` unless the next cue is too close.
The gap rule is checked on the printed times the parsers read back.

Hypothesis runs derandomized (the same examples every run) when ``CI`` is
set, and with fresh random examples otherwise; no test has a deadline.
"""

from __future__ import annotations

import html
import io
import itertools
import os
import re
from collections import Counter
from datetime import timedelta

import srt
import webvtt
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from voxcli.render import RenderOptions, render, render_with_report
from voxcli.render.clean import clean_text
from voxcli.render.cues import (
    CLOSE_GAP_MS,
    MIN_GAP_MS,
    MIN_VISIBLE_MS,
    Cue,
    build_cues,
    timed_segments,
)
from voxcli.render.timefmt import to_millis
from voxcli.transcript import Segment, Transcript, Word

# VOXCLI_PROPERTY_EXAMPLES=5000 for a longer hunt; the default keeps the suite fast.
EXAMPLES = int(os.environ.get("VOXCLI_PROPERTY_EXAMPLES", "100"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
QUICK = settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))

TRICKY = [
    "&",
    "<",
    ">",
    "-->",
    "--",
    "->",
    "<b>",
    "&amp;",
    "a&b",
    "x<y",
    "é",
    "漢字",
    "😀",
    "1",
    "00:00:01,000",
    "WEBVTT",
    "NOTE",
    "[x]",
    "«ok»",
    "end.",
    "so,",
    "and",
]
WORD = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
    st.text("abcdefghij", min_size=1, max_size=60),
)
SEPARATOR = st.sampled_from([" ", " ", " ", "\n", "\n\n", "\t", " \r\n "])


texts = st.lists(st.tuples(WORD, SEPARATOR), max_size=15).map(
    lambda pairs: "".join(word + sep for word, sep in pairs)
)


TIME = st.one_of(
    st.floats(min_value=0, max_value=40, allow_nan=False),
    st.floats(min_value=0, max_value=40 * 3600, allow_nan=False),
    st.sampled_from([0.0, 0.9995, 59.9995, 59.9996, 30 * 3600.0]),
)
SPEAKER = st.sampled_from([None, "Speaker 1", "Speaker 2", "Tom & <Jerry>"])


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    start = draw(TIME)
    end = draw(st.one_of(TIME, st.floats(0, 12).map(lambda d: start + d)))
    if draw(st.booleans()) and draw(st.booleans()):
        start = None if draw(st.booleans()) else start
        end = None if draw(st.booleans()) else end
    return Segment(text=draw(texts), start=start, end=end, speaker=draw(SPEAKER))


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    segs = draw(st.lists(segments(), max_size=10))
    words: list[Word] = []
    if draw(st.booleans()):
        t = draw(st.floats(0, 100))
        for _ in range(draw(st.integers(0, 40))):
            t += draw(st.floats(0, 4))
            length = draw(st.floats(0, 1.5))
            words.append(Word(draw(WORD), t, t + length, draw(SPEAKER)))
    if not any(s.start is not None or s.end is not None for s in segs) and not words:
        segs.append(Segment("anchor", 1.0, 2.0))
    duration = draw(st.one_of(st.none(), st.floats(0, 200)))
    return Transcript(
        text=" ".join(s.text for s in segs),
        segments=tuple(segs),
        words=tuple(words),
        duration=duration,
    )


@st.composite
def options(draw: st.DrawFn) -> RenderOptions:
    low = draw(st.floats(0, 2))
    return RenderOptions(
        max_line_width=draw(st.integers(10, 60)),
        max_lines=draw(st.integers(1, 4)),
        min_cue_duration=low,
        max_cue_duration=low + draw(st.floats(0.001, 10)),
    )


def expected_words(t: Transcript, opts: RenderOptions) -> Counter[str]:
    """Every word the subtitles must show: all words, or all segments' words.

    With word timestamps, a segment that no word falls in shows too.
    """
    words = [w for w in t.words if clean_text(w.text)]
    if not words:
        return Counter(word for s in t.segments for word in clean_text(s.text).split())
    middles = [(to_millis(w.start) + max(to_millis(w.start), to_millis(w.end))) // 2 for w in words]
    source = [w.text for w in words]
    for segment in timed_segments(t, opts):
        if not any(segment.start <= m <= segment.end for m in middles):
            source.append(segment.text)
    return Counter(word for text in source for word in clean_text(text).split())


def check_timing(cues: list[Cue], opts: RenderOptions, t: Transcript) -> None:
    max_ms = to_millis(opts.max_cue_duration)
    min_ms = to_millis(opts.min_cue_duration)
    for index, cue in enumerate(cues):
        assert 0 <= cue.start_ms < cue.end_ms
        assert cue.end_ms - cue.start_ms <= max_ms
        nxt = cues[index + 1] if index + 1 < len(cues) else None
        if nxt is not None:
            assert cue.start_ms < nxt.start_ms
            assert cue.end_ms <= nxt.start_ms
        if cue.end_ms - cue.start_ms < min_ms:
            near_next = nxt is not None and nxt.start_ms - cue.end_ms <= MIN_GAP_MS
            at_limit = t.duration is not None and cue.end_ms >= to_millis(t.duration)
            assert near_next or at_limit or cue.highlight is not None


def check_gaps(spans: list[tuple[int, int]], opts: RenderOptions, t: Transcript) -> None:
    """The gap rule, on printed (start, end) times in milliseconds.

    Consecutive cues are at least MIN_GAP_MS apart unless their starts are too
    close for one frame and a gap (then the first lasts at most one frame); a
    gap under CLOSE_GAP_MS stays only where closing it would break the maximum
    duration or pass the known end of the audio.
    """
    max_ms = to_millis(opts.max_cue_duration)
    limit = to_millis(t.duration) if t.duration is not None else None
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert start < end <= next_start
        gap = next_start - end
        if gap < MIN_GAP_MS:
            assert end - start <= MIN_VISIBLE_MS
            assert next_start - start < MIN_VISIBLE_MS + MIN_GAP_MS
        elif MIN_GAP_MS < gap < CLOSE_GAP_MS:
            assert end - start == max_ms or (limit is not None and end >= limit)


def vtt_millis(stamp: str) -> int:
    hours, minutes, rest = stamp.split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def check_lines(cue: Cue, opts: RenderOptions, reserve: int) -> None:
    assert 1 <= len(cue.line_words) <= opts.max_lines
    for number, words in enumerate(cue.line_words):
        width = " ".join(words)
        assert words and all(words)
        used = len(width) + (reserve if number == 0 else 0)
        assert used <= opts.max_line_width or len(words) == 1


def srt_millis(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


WJ = "\u2060"


def srt_shown(text: str) -> str:
    """What SRT writes for raw cue text: no arrow, a WORD JOINER after ``<`` and ``\\``
    (no tag or ASS escape starts there), full-width braces (no ASS override block)."""
    while "-->" in text:
        text = text.replace("-->", "->")
    return (
        text.replace("<", "<" + WJ)
        .replace("\\", "\\" + WJ)
        .replace("{", "\uff5b")
        .replace("}", "\uff5d")
    )


def vtt_shown(text: str) -> str:
    """What a WebVTT parser shows for raw cue text (after unescaping entities)."""
    return text.replace("\\", "\\" + WJ)


def check_labels(cues: list[Cue]) -> None:
    """A cue shows its speaker exactly where the speaker changes (or first, with one)."""
    before: str | None = None
    for cue in cues:
        assert cue.show_speaker == (cue.speaker is not None and cue.speaker != before)
        before = cue.speaker


def shown_prefix(cue: Cue) -> str:
    return f"[{srt_shown(cue.speaker)}] " if cue.speaker and cue.show_speaker else ""


@SETTINGS
@given(transcripts(), options())
def test_srt_parses_with_the_same_cues_and_respects_the_limits(
    t: Transcript, opts: RenderOptions
) -> None:
    out, report = render_with_report(t, "srt", opts)
    out.encode("utf-8")
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    cues = build_cues(t, opts, speaker_prefix=True)
    parsed = list(srt.parse(out))
    assert len(parsed) == len(cues)
    assert report is not None and report.cues == len(parsed)
    check_gaps([(srt_millis(sub.start), srt_millis(sub.end)) for sub in parsed], opts, t)
    seen: Counter[str] = Counter()
    for number, (sub, cue) in enumerate(zip(parsed, cues, strict=True), start=1):
        assert sub.index == number
        assert (srt_millis(sub.start), srt_millis(sub.end)) == (cue.start_ms, cue.end_ms)
        expected = [srt_shown(line) for line in cue.lines]
        expected[0] = shown_prefix(cue) + expected[0]
        assert sub.content.split("\n") == expected
        assert "-->" not in sub.content
        assert not re.search("[<\\\\](?!\u2060)|[{}]", sub.content)  # no markup can start
        check_lines(cue, opts, len(f"[{cue.speaker}] ") if cue.show_speaker else 0)
        seen.update(cue.words)
    check_timing(cues, opts, t)
    check_labels(cues)
    assert seen == expected_words(t, opts)


@SETTINGS
@given(transcripts(), options())
def test_vtt_parses_with_the_same_cues_and_respects_the_limits(
    t: Transcript, opts: RenderOptions
) -> None:
    out, report = render_with_report(t, "vtt", opts)
    out.encode("utf-8")
    assert out.startswith("WEBVTT\n") and not out.endswith("\n\n")
    cues = build_cues(t, opts)
    parsed = webvtt.from_buffer(io.StringIO(out)).captions
    assert len(parsed) == len(cues)
    assert report is not None and report.cues == len(parsed)
    printed = [(vtt_millis(c.start), vtt_millis(c.end)) for c in parsed]
    assert printed == [(cue.start_ms, cue.end_ms) for cue in cues]
    check_gaps(printed, opts, t)
    seen: Counter[str] = Counter()
    for caption, cue in zip(parsed, cues, strict=True):
        assert to_millis(caption.start_in_seconds + 0) >= 0
        assert caption.start == f"{cue.start_ms // 3_600_000:02d}" + caption.start[-10:]
        assert caption.raw_text.count("\n") == len(cue.lines) - 1
        assert "-->" not in caption.raw_text
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", caption.raw_text)
        assert html.unescape(caption.text).split("\n") == [vtt_shown(x) for x in cue.lines]
        if cue.speaker:  # WebVTT marks every cue's voice: markup, not text on screen
            assert caption.voice == cue.speaker.replace("&", "&amp;").replace(">", "&gt;")
        check_lines(cue, opts, 0)
        seen.update(cue.words)
    check_timing(cues, opts, t)
    check_labels(cues)
    assert seen == expected_words(t, opts)


def _timed_words(draw: st.DrawFn) -> tuple[Word, ...]:
    t = draw(st.floats(0, 50))
    words = []
    for _ in range(draw(st.integers(1, 30))):
        t += draw(st.floats(0, 1))
        words.append(Word(draw(WORD), t, t + draw(st.floats(0, 0.8)), draw(SPEAKER)))
    return tuple(words)


@QUICK
@given(st.data(), options())
def test_karaoke_underlines_exactly_one_word_per_cue(data: st.DataObject, opts: RenderOptions):
    words = _timed_words(data.draw)
    assume(any(clean_text(w.text) for w in words))
    t = Transcript(text="", words=words)
    opts = RenderOptions(**{**opts.__dict__, "highlight_words": True})
    cues = build_cues(t, opts, speaker_prefix=True)
    check_timing(cues, opts, t)
    parsed = list(srt.parse(render(t, "srt", opts)))
    assert len(parsed) == len(cues)
    # The gap rule holds between subtitles; the parts of one subtitle touch, inside it.
    subtitles = build_cues(t, opts, speaker_prefix=True, highlight=False)
    check_gaps([(c.start_ms, c.end_ms) for c in subtitles], opts, t)
    line = 0
    for sub in parsed:
        start, end = srt_millis(sub.start), srt_millis(sub.end)
        while start >= subtitles[line].end_ms:
            line += 1
        assert subtitles[line].start_ms <= start < end <= subtitles[line].end_ms
        assert sub.content.replace("<u>", "").replace("</u>", "") == shown_prefix(
            subtitles[line]
        ) + "\n".join(srt_shown(x) for x in subtitles[line].lines)
    for sub, cue in zip(parsed, cues, strict=True):
        assert cue.highlight is not None
        marked = [
            f"<u>{word}</u>" if index == cue.highlight else word
            for index, word in enumerate(srt_shown(w) for w in cue.words)
        ]
        assert sub.content.split() == [*shown_prefix(cue).split(), *marked]
    captions = webvtt.from_buffer(io.StringIO(render(t, "vtt", opts))).captions
    cues = build_cues(t, opts)
    check_timing(cues, opts, t)
    assert len(captions) == len(cues)
    for caption, cue in zip(captions, cues, strict=True):
        assert caption.raw_text.count("<u>") == 1 == caption.raw_text.count("</u>")
        assert html.unescape(caption.text).split("\n") == [vtt_shown(x) for x in cue.lines]


@QUICK
@given(transcripts())
def test_every_format_renders_utf8_with_one_final_newline(t: Transcript) -> None:
    for fmt in ("text", "json", "jsonl", "srt", "vtt", "tsv"):
        out = render(t, fmt)
        out.encode("utf-8")
        assert out == "" or (out.endswith("\n") and not out.endswith("\n\n")), fmt
