"""Joining a sentence cut in two at a split part's boundary (subtitle issue, item 4).

A long recording is cut at quiet points, and a quiet point may fall inside a sentence:
part k then ends with ``the American`` (0.66 s) and part k+1 begins with the rest. The
merge joins such a pair back into one segment when one piece is shorter than a cue's
minimum duration, the two are close and the speaker is the same, so the cue shaper
never has to show the short piece on its own.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import srt
from hypothesis import given, settings
from hypothesis import strategies as st

from voxcli.engine.merge import JOIN_GAP_SECONDS, SHORT_SEGMENT_SECONDS, merge_parts
from voxcli.render import render
from voxcli.render.cues import PAUSE_MS
from voxcli.render.options import DEFAULT_OPTIONS
from voxcli.transcript import Segment, Transcript, Word, speaker_label

TALK = (Path(__file__).parent / "render" / "data" / "talk.txt").read_text("utf-8").splitlines()
MIN_MS = round(DEFAULT_OPTIONS.min_cue_duration * 1000)


def part(*segments: Segment, words: tuple[Word, ...] = ()) -> Transcript:
    return Transcript(
        text=" ".join(s.text for s in segments), language="en", segments=segments, words=words
    )


def seg(text: str, start: float | None, end: float | None, speaker: str | None = None) -> Segment:
    return Segment(text, start, end, speaker_label(speaker), speaker)


def spans(transcript: Transcript) -> list[tuple[str, float | None, float | None]]:
    return [(s.text, s.start, s.end) for s in transcript.segments]


# --- the rule ------------------------------------------------------------------------------------


def test_the_rule_uses_the_renderers_numbers():
    assert SHORT_SEGMENT_SECONDS == DEFAULT_OPTIONS.min_cue_duration == 0.833
    assert JOIN_GAP_SECONDS * 1000 == PAUSE_MS


def test_a_short_tail_at_a_parts_end_is_joined_forwards():
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("We talk about", 2.0, 8.0), seg("the American", 9.2, 9.86))),
            (10.0, 20.0, part(seg("Revolution today.", 0.3, 2.0))),
        ]
    )
    assert spans(merged) == [
        ("We talk about", 2.0, 8.0),
        ("the American Revolution today.", 9.2, 12.0),
    ]
    assert merged.text == "We talk about the American Revolution today."  # unchanged


def test_a_short_leftover_at_a_parts_start_is_joined_backwards():
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("It began in the winter", 3.0, 9.7))),
            (10.0, 20.0, part(seg("of 1841.", 0.1, 0.7), seg("Engineers came.", 1.5, 4.0))),
        ]
    )
    assert spans(merged) == [
        ("It began in the winter of 1841.", 3.0, 10.7),
        ("Engineers came.", 11.5, 14.0),
    ]


def test_the_shortest_piece_follows_the_users_minimum_cue_duration():
    parts = [
        (0.0, 10.0, part(seg("We talk about", 2.0, 8.0), seg("the American", 8.6, 9.8))),
        (10.0, 20.0, part(seg("Revolution today.", 0.3, 2.0))),
    ]
    assert len(merge_parts(parts).segments) == 3  # 1.2 s: long enough by default
    longer = merge_parts(parts, short_seconds=1.5)  # --min-cue-duration 1.5
    assert spans(longer)[1] == ("the American Revolution today.", 8.6, 12.0)


def test_no_join_across_a_speaker_change():
    for first, second in [("speaker_1", "speaker_2"), (None, "speaker_1"), ("speaker_1", None)]:
        merged = merge_parts(
            [
                (0.0, 10.0, part(seg("Is it", 9.5, 9.9, first))),
                (10.0, 20.0, part(seg("Yes, it is.", 0.1, 2.0, second))),
            ]
        )
        assert [s.text for s in merged.segments] == ["Is it", "Yes, it is."]
    same = merge_parts(
        [
            (0.0, 10.0, part(seg("Is it", 9.5, 9.9, "speaker_1"))),
            (10.0, 20.0, part(seg("really so?", 0.1, 2.0, "speaker_1"))),
        ]
    )
    assert [(s.text, s.speaker, s.speaker_id) for s in same.segments] == [
        ("Is it really so?", "Speaker 1", "speaker_1")
    ]


@pytest.mark.parametrize(("gap", "joins"), [(0.0, True), (2.9, True), (3.0, False), (5.0, False)])
def test_no_join_across_a_real_pause(gap, joins):
    # the tail ends 0.1 s before the cut; the next part's speech starts gap - 0.1 s after it
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("A long first sentence, and then", 2.0, 9.0), seg("a", 9.5, 9.9))),
            (10.0, 20.0, part(seg("second one.", gap - 0.1 if gap else 0.0, 6.0))),
        ]
    )
    texts = [s.text for s in merged.segments]
    if joins:
        assert texts == ["A long first sentence, and then", "a second one."]
    else:
        assert texts == ["A long first sentence, and then", "a", "second one."]


def test_no_join_when_both_are_long():
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("The first half of it", 8.0, 9.9))),
            (10.0, 20.0, part(seg("and the second half.", 0.0, 0.9))),
        ]
    )
    assert [s.text for s in merged.segments] == ["The first half of it", "and the second half."]


def test_only_pieces_at_a_boundary_are_joined():
    # short segments inside one part stay as the API gave them
    merged = merge_parts(
        [(0.0, 10.0, part(seg("Oh.", 1.0, 1.3), seg("Right.", 1.4, 1.8), seg("Well", 2.0, 9.0)))]
    )
    assert [s.text for s in merged.segments] == ["Oh.", "Right.", "Well"]


def test_chains_of_three_parts():
    # a tail, a part that is one short piece, and the rest: one segment across two cuts
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("Intro words here.", 1.0, 6.0), seg("And", 9.8, 9.9))),
            (10.0, 10.5, part(seg("so", 0.1, 0.3))),
            (10.5, 20.0, part(seg("on it goes.", 0.1, 2.0))),
        ]
    )
    assert spans(merged) == [("Intro words here.", 1.0, 6.0), ("And so on it goes.", 9.8, 12.5)]
    # once joined, a piece long enough stops the chain: each boundary is judged on its own
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("And", 9.6, 9.9))),
            (10.0, 11.0, part(seg("so", 0.2, 0.6))),
            (11.0, 20.0, part(seg("on it goes.", 0.1, 2.0))),
        ]
    )
    assert spans(merged) == [("And so", 9.6, 10.6), ("on it goes.", 11.1, 13.0)]
    # a join at each of two boundaries, the middle part's own segment between them
    merged = merge_parts(
        [
            (0.0, 10.0, part(seg("one", 9.5, 9.9))),
            (10.0, 20.0, part(seg("two and three", 0.1, 9.5), seg("four", 9.6, 10.0))),
            (20.0, 30.0, part(seg("five and six.", 0.1, 3.0))),
        ]
    )
    assert spans(merged) == [("one two and three", 9.5, 19.5), ("four five and six.", 19.6, 23.0)]


def test_untimed_segments_are_left_alone():
    ends_untimed = merge_parts(
        [
            (0.0, 10.0, part(seg("Timed", 1.0, 5.0), seg("untimed", None, None))),
            (10.0, 20.0, part(seg("tiny", 0.0, 0.3), seg("More text here.", 1.0, 5.0))),
        ]
    )
    assert spans(ends_untimed) == [
        ("Timed", 1.0, 5.0),
        ("untimed", None, None),
        ("tiny", 10.0, 10.3),
        ("More text here.", 11.0, 15.0),
    ]
    starts_untimed = merge_parts(
        [
            (0.0, 10.0, part(seg("short", 9.5, 9.9))),
            (10.0, 20.0, part(seg("untimed", None, None), seg("next", 0.0, 2.0))),
        ]
    )
    assert [s.text for s in starts_untimed.segments] == ["short", "untimed", "next"]


def test_blank_segments_are_not_joined():
    merged = merge_parts(
        [(0.0, 10.0, part(seg("Words", 1.0, 9.9))), (10.0, 20.0, part(seg(" ", 0.0, 0.2)))]
    )
    assert [s.text for s in merged.segments] == ["Words", " "]


@pytest.mark.parametrize(
    ("before", "after", "text"),
    [
        ("the American", "Revolution.", "the American Revolution."),
        ("東京の", "天気は晴れです。", "東京の天気は晴れです。"),
        ("我们今天", "讨论历史。", "我们今天讨论历史。"),
        ("东京", "Tokyo", "东京 Tokyo"),
        (" the American ", " Revolution. ", " the American Revolution. "),  # outer spaces kept
        ("and then", "...", "and then ..."),  # no punctuation fix either way
    ],
)
def test_joined_text_spacing(before, after, text):
    merged = merge_parts(
        [(0.0, 10.0, part(seg(before, 9.5, 9.9))), (10.0, 20.0, part(seg(after, 0.1, 3.0)))]
    )
    assert [s.text for s in merged.segments] == [text]


def test_score_and_words_of_a_joined_segment():
    words = (Word("the", 9.5, 9.6), Word("end.", 9.7, 9.9))
    first = part(Segment("the", 9.5, 9.6, score=-0.5), words=words[:1])
    second = part(Segment("end.", 0.0, 1.5, score=-1.0), words=(Word("end.", 0.0, 1.5),))
    merged = merge_parts([(0.0, 10.0, first), (10.0, 20.0, second)])
    assert [(s.text, s.score) for s in merged.segments] == [
        ("the end.", pytest.approx((-0.5 * 3 - 1.0 * 4) / 7))
    ]  # by length
    assert [(w.text, w.start, w.end) for w in merged.words] == [
        ("the", 9.5, 9.6),
        ("end.", 10.0, 11.5),
    ]
    unscored = part(Segment("end.", 0.0, 1.5))
    assert merge_parts([(0.0, 10.0, first), (10.0, 20.0, unscored)]).segments[0].score is None


segment_spans = st.lists(
    st.tuples(st.floats(0, 12, allow_nan=False), st.floats(0, 12, allow_nan=False)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.2, 10), segment_spans, st.sampled_from([None, "speaker_1"])),
        min_size=1,
        max_size=5,
    )
)
def test_segments_stay_in_order_and_never_overlap(raw_parts):
    parts, offset, number = [], 0.0, 0
    for length, raw, speaker in raw_parts:
        segments = []
        for a, b in raw:
            number += 1
            segments.append(seg(f"w{number}", min(a, b), max(a, b), speaker))
        parts.append((offset, offset + length, part(*segments)))
        offset += length
    merged = merge_parts(parts)
    flat = [t for s in merged.segments for t in (s.start, s.end)]
    assert flat == sorted(flat)
    assert all(0.0 <= t <= offset for t in flat)
    # every word of every segment is there once, in order (by start within each part)
    assert " ".join(s.text for s in merged.segments).split() == [
        s.text
        for _, _, p in parts
        for s in sorted(p.segments, key=lambda s: (s.start or 0.0, s.end or 0.0))
    ]


# --- measured: a talk split every minute, merged, rendered ---------------------------------------


@dataclass(frozen=True)
class Spoken:
    """A segment of the whole recording and its words, in absolute times."""

    segment: Segment
    words: tuple[Word, ...]


def spoken_talk(minutes: float, seed: int) -> list[Spoken]:
    """Sentences of ``talk.txt`` by two speakers, each word timed, short pauses between them."""
    rng = random.Random(seed)
    result: list[Spoken] = []
    t, i, speaker = 0.5, 0, "speaker_1"
    while t < minutes * 60:
        count = rng.choice([1, 1, 2])
        text = " ".join(TALK[(i + k) % len(TALK)] for k in range(count))
        i += count
        label = speaker_label(speaker)
        words, at = [], t
        for token in text.split():
            length = (len(token) + 1) / rng.uniform(12.0, 16.0)
            words.append(Word(token, round(at, 3), round(at + length, 3), label, speaker))
            at += length + rng.choice([0.1, 0.15, 0.2, 0.3])
        end = words[-1].end
        result.append(Spoken(Segment(text, round(t, 3), end, label, speaker), tuple(words)))
        t = end + rng.choice([0.3, 0.5, 0.8, 1.2, 2.0])
        if rng.random() < 0.4:
            speaker = "speaker_2" if speaker == "speaker_1" else "speaker_1"
    return result


def piece(words: tuple[Word, ...], like: Segment) -> Segment:
    text = " ".join(w.text for w in words)
    return Segment(text, words[0].start, words[-1].end, like.speaker, like.speaker_id)


def cut_inside_sentences(talk: list[Spoken], every: float) -> list[float]:
    """A cut near each multiple of ``every``, in the pause after a sentence's first words
    (alternately before its last words) so that one piece is shorter than 5/6 s."""
    cuts: list[float] = []
    for k, target in enumerate(range(int(every), int(talk[-1].segment.end), int(every))):
        for spoken in (s for s in talk if s.segment.end > target):
            at = short_piece(spoken.words, at_end=k % 2 == 1)
            if at is not None:
                cuts.append(round((spoken.words[at - 1].end + spoken.words[at].start) / 2, 3))
                break
    return cuts


def short_piece(words: tuple[Word, ...], *, at_end: bool) -> int | None:
    """Where to cut ``words`` so that the first (or last) piece is shorter than 0.8 s."""
    if len(words) < 6:
        return None
    if at_end:  # the longest leftover for the start of the next part
        fits = [
            n for n in range(len(words) - 3, len(words)) if words[-1].end - words[n].start < 0.8
        ]
        return min(fits, default=None)
    fits = [n for n in range(1, 4) if words[n - 1].end - words[0].start < 0.8]
    return max(fits, default=None)


def split_talk(talk: list[Spoken], cuts: list[float]) -> list[tuple[float, float, Transcript]]:
    """What the API would answer for each part: pieces and words, timed from the part's start."""
    bounds = [0.0, *cuts, talk[-1].segment.end + 1.0]
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        segments, words = [], []
        for spoken in talk:
            inside = tuple(w for w in spoken.words if lo <= w.start < hi)
            if not inside:
                continue
            shifted = tuple(
                Word(w.text, w.start - lo, w.end - lo, w.speaker, w.speaker_id) for w in inside
            )
            segments.append(piece(shifted, spoken.segment))
            words.extend(shifted)
        parts.append((lo, hi, part(*segments, words=tuple(words))))
    return parts


def short_cues(transcript: Transcript) -> list[srt.Subtitle]:
    return [
        cue
        for cue in srt.parse(render(transcript, "srt"))
        if (cue.end - cue.start) < timedelta(milliseconds=MIN_MS)
    ]


@pytest.mark.parametrize("timing", ["segments", "words"])
def test_split_minutes_1_leaves_no_short_cue_at_the_boundaries(timing):
    talk = spoken_talk(minutes=15, seed=4)
    cuts = cut_inside_sentences(talk, every=60)  # as with --split-minutes 1
    parts = split_talk(talk, cuts)
    merged = merge_parts(parts, duration=parts[-1][1])

    # Before this change the merge left every piece as the API gave it:
    pieces = [
        replace(s, start=(s.start or 0.0) + lo, end=(s.end or 0.0) + lo)
        for lo, _, p in parts
        for s in p.segments
    ]
    unjoined = Transcript(
        text=merged.text, language="en", segments=tuple(pieces), words=merged.words
    )
    if timing == "segments":
        merged, unjoined = replace(merged, words=()), replace(unjoined, words=())

    before, after = short_cues(unjoined), short_cues(merged)
    print(f"\n{timing}: {len(cuts)} cuts, short cues {len(before)} before, {len(after)} after")
    assert len(before) >= len(cuts) // 2  # the test measures something
    assert after == []
    # every sentence cut in two is whole again, on the whole recording's timeline
    assert [(s.text, s.speaker) for s in merged.segments] == [
        (s.segment.text, s.segment.speaker) for s in talk
    ]
    for got, spoken in zip(merged.segments, talk, strict=True):
        assert got.start == pytest.approx(spoken.segment.start, abs=1e-6)
        assert got.end == pytest.approx(spoken.segment.end, abs=1e-6)
