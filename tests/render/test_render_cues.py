"""The shared cue builder: shaping, timing and the repair of odd API times."""

from __future__ import annotations

import itertools

import pytest

from voxcli.errors import UsageError
from voxcli.render import RenderOptions
from voxcli.render.cues import (
    CLOSE_GAP_MS,
    MIN_GAP_MS,
    MIN_VISIBLE_MS,
    Cue,
    build_cues,
    layout,
    timed_segments,
)
from voxcli.transcript import Segment, Transcript, Word

LONG = (
    "The first sentence is short but not too short at all. "
    "Then the second sentence continues for a while longer and longer."
)


def transcript(*segments: Segment, words: tuple[Word, ...] = (), **kwargs: object) -> Transcript:
    text = " ".join(s.text for s in segments)
    return Transcript(text=text, segments=segments, words=words, **kwargs)  # type: ignore[arg-type]


def cues(t: Transcript, **options: object) -> list[Cue]:
    return build_cues(t, RenderOptions(**options))  # type: ignore[arg-type]


def spans(result: list[Cue]) -> list[tuple[int, int]]:
    return [(c.start_ms, c.end_ms) for c in result]


# ----------------------------------------------------------------------------- shaping


def test_a_short_segment_is_one_cue_on_one_line() -> None:
    [cue] = cues(transcript(Segment(" Hello there. ", 1.0, 3.0)))
    assert (cue.start_ms, cue.end_ms, cue.lines) == (1000, 3000, ("Hello there.",))
    assert cue.start == 1.0 and cue.end == 3.0 and cue.text == "Hello there."


def test_two_lines_are_balanced_and_within_the_width() -> None:
    text = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod"
    [cue] = cues(transcript(Segment(text, 0, 6)))
    assert cue.lines == ("Lorem ipsum dolor sit amet consectetur", "adipiscing elit sed eiusmod")
    text = "I think it was a very good idea to come here early today"
    [cue] = cues(transcript(Segment(text, 0, 6)))
    assert cue.lines == ("I think it was a very good idea", "to come here early today")


def test_lines_prefer_to_break_before_a_preposition() -> None:
    text = "We choose to go to the moon in this decade and do the other things"
    [cue] = cues(transcript(Segment(text, 0, 6)))
    assert cue.lines == ("We choose to go to the moon", "in this decade and do the other things")


def test_a_cue_breaks_after_a_sentence_rather_than_mid_sentence() -> None:
    first, second = cues(transcript(Segment(LONG, 0, 10)))
    assert first.text == "The first sentence is short but not too short at all."
    assert first.lines == ("The first sentence is short", "but not too short at all.")
    assert second.text.startswith("Then the second")
    # Split inside one segment: the words are contiguous, the cues two frames apart.
    assert first.end_ms == second.start_ms - MIN_GAP_MS


def test_lines_prefer_to_break_after_a_comma() -> None:
    [cue] = cues(transcript(Segment("Well, I think that we should probably go home now", 0, 5)))
    assert len(cue.lines) == 2
    assert cue.lines[0] != "Well,"  # balance still matters
    [cue] = cues(
        transcript(Segment("If you listen closely, you can hear the sea", 0, 5)),
        **{"max_line_width": 30},
    )
    assert cue.lines == ("If you listen closely,", "you can hear the sea")


def test_max_lines_limits_every_cue_and_no_word_is_lost() -> None:
    text = " ".join(f"word{i}" for i in range(40))
    result = cues(transcript(Segment(text, 0, 30)), max_lines=1, max_cue_duration=30)
    assert all(len(c.lines) == 1 and len(c.lines[0]) <= 42 for c in result)
    assert " ".join(c.text for c in result) == text


def test_a_word_wider_than_the_line_stays_whole_on_its_own_line() -> None:
    giant = "x" * 50
    result = cues(transcript(Segment(f"a {giant} b", 0, 6)), max_cue_duration=10)
    lines = [line for c in result for line in c.lines]
    assert giant in lines
    assert all(len(line) <= 42 or line == giant for line in lines)
    assert [w for c in result for w in c.words] == ["a", giant, "b"]


def test_a_word_that_would_need_a_third_line_starts_the_next_cue() -> None:
    text = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii"  # 44 chars: two lines of 20
    result = cues(transcript(Segment(text, 0, 6)), max_line_width=20, max_lines=2)
    # Two cues are needed; "iiii" is not left alone in the second (0.6 s, under the
    # minimum duration): the words are shared out evenly instead.
    assert [c.lines for c in result] == [
        ("aaaa bbbb", "cccc dddd eeee"),
        ("ffff gggg hhhh iiii",),
    ]
    assert all(len(c.lines) <= 2 for c in result)


def test_one_line_when_it_fits() -> None:
    [cue] = cues(transcript(Segment("a" * 20 + " " + "b" * 21, 0, 6)))
    assert cue.lines == ("a" * 20 + " " + "b" * 21,)


def test_layout_reserves_room_for_a_speaker_prefix() -> None:
    from voxcli.render.cues import Token

    words = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
    tokens = [Token(w, 0, 0) for w in words]
    assert layout(tokens, 20) == (
        ("one", "two", "three", "four"),
        ("five", "six", "seven", "eight"),
    )
    lines = layout(tokens, 20, reserve=12)
    assert len(" ".join(lines[0])) <= 8
    assert all(len(" ".join(line)) <= 20 for line in lines)


# ----------------------------------------------------------------------------- timing


def test_segment_splits_are_interpolated_by_character_position() -> None:
    result = cues(transcript(Segment("aaaa bbbb", 0, 10)), max_cue_duration=7)
    # "aaaa " owns characters 0-5 of 9: 10 s * 5/9 = 5.556 s; the first cue ends a gap before.
    assert spans(result) == [(0, 5556 - MIN_GAP_MS), (5556, 10000)]


def test_interpolated_cues_never_leave_their_segment() -> None:
    text = " ".join(["lorem ipsum dolor sit amet, consectetur adipiscing elit"] * 4)
    segments = (Segment(text, 12.5, 27.25), Segment("next", 30.0, 31.0))
    result = cues(transcript(*segments))
    inside = [c for c in result if c.text != "next"]
    assert len(inside) > 2
    assert inside[0].start_ms == 12500 and inside[-1].end_ms == 27250
    assert all(12500 <= c.start_ms < c.end_ms <= 27250 for c in inside)
    assert all(c.end_ms - c.start_ms <= 7000 for c in result)


def test_long_segment_is_split_under_the_max_duration() -> None:
    result = cues(transcript(Segment("one two three four five six", 0, 30)), max_cue_duration=7)
    assert len(result) > 1
    assert all(c.end_ms - c.start_ms <= 7000 for c in result)


def test_a_single_word_longer_than_the_max_duration_is_cut_to_it() -> None:
    [cue] = cues(transcript(Segment("Hello", 10, 30)))
    assert spans([cue]) == [(10000, 17000)]


def test_cue_times_come_from_the_words_they_hold() -> None:
    words = (
        Word("Hello,", 1.0, 1.4),
        Word("world.", 1.5, 2.0),
        Word("How", 2.2, 2.4),
        Word("are", 2.4, 2.6),
        Word("you?", 2.6, 3.1),
    )
    t = transcript(Segment("Hello, world. How are you?", 0.5, 4.0), words=words)
    result = cues(t, max_line_width=14, max_lines=1)
    assert [(c.text, c.start_ms, c.end_ms) for c in result] == [
        ("Hello, world.", 1000, 2200 - MIN_GAP_MS),  # a 200 ms gap is closed to two frames
        ("How are you?", 2200, 3100),
    ]


def test_a_speaker_change_always_starts_a_new_cue() -> None:
    words = (
        Word("Yes.", 1.0, 1.9, "Speaker 1"),
        Word("No.", 2.0, 2.9, "Speaker 2"),
        Word("Maybe.", 3.0, 3.9, "Speaker 2"),
    )
    result = cues(transcript(words=words))
    assert [(c.text, c.speaker) for c in result] == [
        ("Yes.", "Speaker 1"),
        ("No. Maybe.", "Speaker 2"),
    ]


def test_words_take_the_speaker_of_their_segment() -> None:
    segments = (Segment("Hi there.", 0, 2, "Speaker 1"), Segment("Hello.", 2, 4, "Speaker 2"))
    words = (Word("Hi", 0.1, 0.5), Word("there.", 0.6, 1.8), Word("Hello.", 2.2, 3.5))
    result = cues(transcript(*segments, words=words))
    assert [(c.text, c.speaker) for c in result] == [
        ("Hi there.", "Speaker 1"),
        ("Hello.", "Speaker 2"),
    ]


def test_a_long_pause_between_words_ends_a_cue() -> None:
    words = (Word("Before", 1.0, 1.5), Word("after.", 4.6, 5.0))
    assert [c.text for c in cues(transcript(words=words))] == ["Before", "after."]


def test_a_short_cue_is_extended_to_the_minimum_duration() -> None:
    result = cues(transcript(Segment("Hi.", 1.0, 1.2), Segment("Later.", 5.0, 6.0)))
    assert spans(result) == [(1000, 1833), (5000, 6000)]


def test_extension_stops_a_gap_before_the_next_cue() -> None:
    result = cues(transcript(Segment("Hi.", 1.0, 1.2), Segment("Next.", 1.5, 2.5)))
    assert spans(result) == [(1000, 1500 - MIN_GAP_MS), (1500, 2500)]


def test_a_cue_ending_within_the_gap_of_the_next_is_pulled_back_to_it() -> None:
    result = cues(transcript(Segment("Hi.", 1.0, 1.45), Segment("Next.", 1.5, 2.5)))
    assert spans(result) == [(1000, 1500 - MIN_GAP_MS), (1500, 2500)]


def test_extension_stops_at_the_known_duration() -> None:
    result = cues(transcript(Segment("End.", 9.7, 9.9), duration=10.0))
    assert spans(result) == [(9700, 10000)]


def test_min_duration_zero_changes_nothing() -> None:
    result = cues(transcript(Segment("Hi.", 1.0, 1.2)), min_cue_duration=0)
    assert spans(result) == [(1000, 1200)]


# ----------------------------------------------------------------------------- the gap rule


def test_touching_cues_get_a_two_frame_gap() -> None:
    result = cues(transcript(Segment("One.", 0, 2.5), Segment("Two.", 2.5, 4.75)))
    assert spans(result) == [(0, 2500 - MIN_GAP_MS), (2500, 4750)]


def test_a_gap_already_wide_enough_is_kept() -> None:
    result = cues(transcript(Segment("One.", 0, 2.0), Segment("Two.", 2.0 + 0.084, 4)))
    assert spans(result) == [(0, 2000), (2084, 4000)]


def test_a_gap_of_half_a_second_or_more_stays_open() -> None:
    gap = CLOSE_GAP_MS / 1000
    result = cues(transcript(Segment("One.", 0, 2.0), Segment("Two.", 2.0 + gap, 4)))
    assert spans(result) == [(0, 2000), (2000 + CLOSE_GAP_MS, 4000)]


def test_a_small_gap_is_closed_to_two_frames() -> None:
    result = cues(transcript(Segment("One.", 0, 2.0), Segment("Two.", 2.3, 4)))
    assert spans(result) == [(0, 2300 - MIN_GAP_MS), (2300, 4000)]
    gap = (CLOSE_GAP_MS - 1) / 1000
    result = cues(transcript(Segment("One.", 0, 2.0), Segment("Two.", 2.0 + gap, 4)))
    assert spans(result) == [
        (0, 2000 + CLOSE_GAP_MS - 1 - MIN_GAP_MS),
        (2000 + CLOSE_GAP_MS - 1, 4000),
    ]


def test_a_gap_left_by_extending_a_short_cue_is_closed_too() -> None:
    # "Hi." is extended to 1833 ms, 367 ms before the next cue: then closed to two frames.
    result = cues(transcript(Segment("Hi.", 1.0, 1.2), Segment("Next.", 2.2, 3.2)))
    assert spans(result) == [(1000, 2200 - MIN_GAP_MS), (2200, 3200)]


def test_a_zero_length_cue_counts_its_one_millisecond_before_closing_the_gap() -> None:
    # "a" lasts 1 ms (1000-1001), so the gap to "b" is 499 ms: closed, not printed as 499.
    t = transcript(Segment("a", 1.0, 1.0), Segment("b", 1.5, 2.0))
    assert spans(cues(t, min_cue_duration=0)) == [(1000, 1500 - MIN_GAP_MS), (1500, 2000)]


def test_closing_a_gap_never_passes_the_max_duration_or_the_known_end() -> None:
    result = cues(transcript(Segment("One.", 0, 6.9), Segment("Two.", 7.2, 9)))
    assert spans(result) == [(0, 7000), (7200, 9000)]
    result = cues(transcript(Segment("One.", 0, 2.0), Segment("Two.", 2.3, 2.35), duration=2.1))
    assert spans(result)[0] == (0, 2100)


def test_the_gap_rule_applies_between_speakers_and_word_timed_cues() -> None:
    words = (Word("Yes.", 1.0, 2.0, "Speaker 1"), Word("No.", 2.0, 2.5, "Speaker 2"))
    result = cues(transcript(words=words))
    assert spans(result) == [(1000, 2000 - MIN_GAP_MS), (2000, 2833)]


def test_packed_cues_never_overlap_and_never_vanish() -> None:
    # Three cues 5 ms apart (a 5 ms minimum duration lets them start that close):
    # no room for a gap, so each lasts until the next starts.
    t = transcript(Segment("a", 1, 1), Segment("b", 1, 1), Segment("c", 1, 1))
    result = cues(t, min_cue_duration=0.005)
    assert spans(result) == [(1000, 1005), (1005, 1010), (1010, 1015)]
    # With min_cue_duration 0, starts 1 ms apart and zero-length cues still last 1 ms.
    result = cues(t, min_cue_duration=0)
    assert spans(result) == [(1000, 1001), (1001, 1002), (1002, 1003)]


def test_pulling_back_keeps_one_frame() -> None:
    # Starts 110 ms apart: 110 - 84 = 26 ms would be too short, so the cue keeps 42 ms.
    result = cues(transcript(Segment("a", 1, 1.5), Segment("b", 1.11, 2)))
    assert spans(result) == [(1000, 1000 + MIN_VISIBLE_MS), (1110, 2000)]
    # 126 ms apart: exactly one frame and a full gap.
    result = cues(transcript(Segment("a", 1, 1.5), Segment("b", 1.126, 2)))
    assert spans(result) == [(1000, 1042), (1126, 2000)]


def test_karaoke_parts_of_one_line_touch_but_lines_keep_the_gap() -> None:
    words = (
        Word("One", 1.0, 1.4),
        Word("two.", 1.4, 2.0),
        Word("Three", 2.0, 2.5, "Speaker 2"),
        Word("four.", 2.5, 3.0, "Speaker 2"),
    )
    result = build_cues(transcript(words=words), RenderOptions(highlight_words=True))
    assert spans(result) == [
        (1000, 1400),
        (1400, 2000 - MIN_GAP_MS),
        (2000, 2500),
        (2500, 3000),
    ]


# ----------------------------------------------------------------------------- odd API times


def test_out_of_order_segments_are_sorted() -> None:
    t = transcript(Segment("second", 5, 6), Segment("first", 0, 1), Segment("third", 8, 9))
    assert [c.text for c in cues(t)] == ["first", "second", "third"]


def test_overlapping_segments_are_clamped_a_gap_before_the_next_start() -> None:
    result = cues(transcript(Segment("A", 0, 5), Segment("B", 3, 6)))
    assert spans(result) == [(0, 3000 - MIN_GAP_MS), (3000, 6000)]


def test_a_zero_length_segment_gets_the_minimum_duration() -> None:
    result = cues(transcript(Segment("Hi", 2, 2), Segment("there", 5, 6)))
    assert spans(result) == [(2000, 2833), (5000, 6000)]


def test_segments_starting_together_are_spread_apart() -> None:
    result = cues(transcript(Segment("one", 2, 2), Segment("two", 2, 3)))
    assert [c.text for c in result] == ["one", "two"]
    # Too close for a full gap: the first keeps one frame (a 58 ms gap remains).
    assert spans(result) == [(2000, 2000 + MIN_VISIBLE_MS), (2100, 3000)]


def test_empty_segments_are_dropped() -> None:
    t = transcript(Segment("  ", 0, 1), Segment("\n", 1, 2), Segment("real", 2, 3))
    assert [c.text for c in cues(t)] == ["real"]


def test_newlines_in_text_never_make_blank_lines() -> None:
    [cue] = cues(transcript(Segment("one\n\ntwo\r\n\tthree\u2028four", 0, 4)))
    assert cue.lines == ("one two three four",)


def test_segments_without_times_take_the_gap_between_neighbours() -> None:
    t = transcript(
        Segment("a", 0, 1),
        Segment("bb", None, None),
        Segment("cc", None, None),
        Segment("d", 5, 6),
    )
    assert timed_segments(t)[1:3] == [
        timed_segments(t)[1].__class__(1000, 3000, "bb", None),
        timed_segments(t)[2].__class__(3000, 5000, "cc", None),
    ]
    assert [c.text for c in cues(t)] == ["a", "bb", "cc", "d"]


def test_segments_without_times_at_the_edges_get_an_estimated_span() -> None:
    t = transcript(Segment("x", None, None), Segment("y", 10, 11), Segment("z", None, None))
    assert [(s.start, s.end) for s in timed_segments(t)] == [
        (9167, 10000),
        (10000, 11000),
        (11000, 11833),
    ]


def test_a_segment_with_only_a_start_keeps_it() -> None:
    t = transcript(Segment("a", 1, None), Segment("b", 4, 5))
    assert [(s.start, s.end) for s in timed_segments(t)] == [(1000, 4000), (4000, 5000)]


def test_known_times_inside_a_run_of_partial_segments_are_kept() -> None:
    t = transcript(
        Segment("a", 0, 1), Segment("b", None, 4), Segment("c", 5, None), Segment("d", 8, 9)
    )
    assert [(s.start, s.end) for s in timed_segments(t)] == [
        (0, 1000),
        (1000, 4000),
        (5000, 8000),
        (8000, 9000),
    ]


def test_a_known_start_in_the_middle_of_untimed_segments_splits_the_run() -> None:
    t = transcript(
        Segment("a", 0, 1),
        Segment("bb", None, None),
        Segment("cc", 6, None),
        Segment("dd", None, None),
        Segment("e", 10, 11),
    )
    assert [(s.start, s.end) for s in timed_segments(t)] == [
        (0, 1000),
        (1000, 6000),
        (6000, 8000),
        (8000, 10000),
        (10000, 11000),
    ]


def test_non_finite_times_count_as_missing() -> None:
    t = transcript(Segment("a", 0, 1), Segment("b", float("inf"), float("nan")), Segment("c", 3, 4))
    assert [(s.start, s.end) for s in timed_segments(t)] == [
        (0, 1000),
        (1000, 3000),
        (3000, 4000),
    ]


# ----------------------------------------------------------------------------- karaoke


def test_highlight_makes_one_cue_per_word() -> None:
    words = (Word("Hello,", 1.0, 1.4), Word("big", 1.5, 1.7), Word("world.", 1.8, 2.4))
    result = build_cues(transcript(words=words), RenderOptions(highlight_words=True))
    assert [(c.start_ms, c.end_ms, c.highlight) for c in result] == [
        (1000, 1500, 0),
        (1500, 1800, 1),
        (1800, 2400, 2),
    ]
    assert {c.text for c in result} == {"Hello, big world."}


def test_highlight_skips_words_with_no_time_of_their_own() -> None:
    words = (Word("a", 1.0, 1.0), Word("b", 1.0, 1.5), Word("c", 1.6, 2.0))
    result = build_cues(transcript(words=words), RenderOptions(highlight_words=True))
    assert [c.highlight for c in result] == [1, 2]
    assert result[0].start_ms == 1000 and result[-1].end_ms == 2000


def test_highlight_needs_word_timestamps() -> None:
    with pytest.raises(UsageError, match="--highlight-words"):
        build_cues(transcript(Segment("a", 0, 1)), RenderOptions(highlight_words=True))


def test_a_segment_no_word_falls_in_still_shows() -> None:
    # Both granularities: a one-word segment may come back as a segment only.
    t = transcript(
        Segment("Hello there.", 0, 1),
        Segment("Yes.", 2.0, 2.5),
        words=(Word("Hello", 0.0, 0.4), Word("there.", 0.5, 1.0)),
    )
    assert [(c.text, c.start_ms) for c in cues(t)] == [("Hello there.", 0), ("Yes.", 2000)]


def test_a_word_entry_of_several_words_places_its_segment_as_a_whole() -> None:
    # The entry "a b" falls in the zero-length segment at 22 s (its middle): the segment is
    # not shown a second time, though neither of the entry's two words has that middle.
    t = transcript(Segment("a b", 22, 22), words=(Word("a b", 21.5, 22.5),))
    assert [c.words for c in cues(t)] == [("a", "b")]


# ----------------------------------------------------------------------------- short pieces


def test_a_split_leaves_no_piece_under_the_minimum_duration() -> None:
    # 7.4 s of words: the 7 s limit forces two cues. Greedy packing left "American"
    # alone for 0.4 s; the split is moved so that both pieces last long enough.
    names = ["Many", "brave", "young", "settlers", "crossed", "wide", "rivers", "beyond", "America"]
    words = tuple(Word(w, k * 0.875, k * 0.875 + 0.4) for k, w in enumerate(names))
    result = cues(transcript(words=words))
    assert len(result) == 2
    assert all(c.end_ms - c.start_ms >= 833 for c in result)
    assert [c.text for c in result] == [
        "Many brave young settlers crossed",
        "wide rivers beyond America",
    ]


def test_the_last_two_cues_of_a_segment_share_its_words() -> None:
    text = " ".join(f"w{i:02d}" for i in range(23))  # 91 characters: one cue and a bit
    result = cues(transcript(Segment(text, 0, 6.5)))
    assert len(result) == 2
    sizes = [len(c.text) for c in result]
    assert abs(sizes[0] - sizes[1]) <= 4  # not 84 and 3
    assert all(c.end_ms - c.start_ms >= 833 for c in result)


def test_a_short_piece_is_kept_when_nothing_better_exists() -> None:
    # One long word and one short one, 7.3 s in all: no split avoids a short piece.
    words = (Word("Looooong", 0.0, 7.0), Word("end.", 7.0, 7.3))
    result = cues(transcript(words=words))
    assert [c.text for c in result] == ["Looooong", "end."]


# ----------------------------------------------------------------------------- frames


@pytest.mark.parametrize("fps", [23.976, 24, 25, 29.97, 30, 50, 59.94, 60])
def test_the_minimum_gap_is_two_whole_frames_on_any_grid(fps: float) -> None:
    import math

    frame = 1000 / fps
    for end in range(0, 5000):
        start = end + MIN_GAP_MS
        for snap in (round, math.floor, math.ceil):
            assert snap(start / frame) - snap(end / frame) >= 2, (fps, end, snap)
    # 83 ms, the old gap, was one frame on a 24 fps grid for some times.
    assert any(round((e + 83) / (1000 / 24)) - round(e / (1000 / 24)) < 2 for e in range(5000))


def test_cue_gaps_on_a_24_fps_grid_are_two_frames() -> None:
    t = transcript(*(Segment(f"Line {i}.", i * 1.37, i * 1.37 + 1.3) for i in range(200)))
    result = cues(t)
    frame = 1000 / 24
    for before, after in itertools.pairwise(result):
        assert round(after.start_ms / frame) - round(before.end_ms / frame) >= 2
