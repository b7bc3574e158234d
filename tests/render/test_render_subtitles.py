"""SRT and WebVTT output, to the letter."""

from __future__ import annotations

import pytest

from voxcli.errors import UsageError
from voxcli.render import RenderOptions, render, render_with_report
from voxcli.render.cues import build_cues
from voxcli.transcript import Segment, Transcript, Word


def transcript(*segments: Segment, words: tuple[Word, ...] = (), **kwargs: object) -> Transcript:
    text = " ".join(s.text for s in segments)
    return Transcript(text=text, segments=segments, words=words, **kwargs)  # type: ignore[arg-type]


DIALOGUE = transcript(
    Segment(" Hello & welcome to <the> show.", 0.0, 2.5, "Speaker 1"),
    Segment("Thanks -- glad --> to be here.", 2.5, 4.75, "Speaker 2"),
)


def test_srt_exact() -> None:
    assert render(DIALOGUE, "srt") == (
        "1\n"
        "00:00:00,000 --> 00:00:02,416\n"
        "[Speaker 1] Hello & welcome to <\u2060the> show.\n"
        "\n"
        "2\n"
        "00:00:02,500 --> 00:00:04,750\n"
        "[Speaker 2] Thanks -- glad -> to be here.\n"
    )


def test_vtt_exact() -> None:
    assert render(DIALOGUE, "vtt") == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:02.416\n"
        "<v Speaker 1>Hello &amp; welcome to &lt;the&gt; show.\n"
        "\n"
        "00:00:02.500 --> 00:00:04.750\n"
        "<v Speaker 2>Thanks -- glad --&gt; to be here.\n"
    )


def test_without_speakers_there_is_no_prefix_or_voice() -> None:
    t = transcript(Segment("Plain words.", 1, 2))
    assert render(t, "srt") == "1\n00:00:01,000 --> 00:00:02,000\nPlain words.\n"
    assert render(t, "vtt") == "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nPlain words.\n"


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_arrows_never_reach_cue_text(fmt: str) -> None:
    t = transcript(Segment("a-->b ---> c -->", 0, 3, "odd-->label"))
    body = render(t, fmt).split("\n")
    text_lines = [line for line in body if line and " --> " not in line[:40]]
    assert all("-->" not in line for line in text_lines)
    assert sum("-->" in line for line in body) == 1  # the timing line only


def test_srt_30_hour_and_100_hour_timestamps() -> None:
    t = transcript(Segment("late", 30 * 3600, 30 * 3600 + 1.5), Segment("later", 360000, 360001))
    out = render(t, "srt")
    assert "30:00:00,000 --> 30:00:01,500" in out
    assert "100:00:00,000 --> 100:00:01,000" in out
    assert "30:00:00.000 --> 30:00:01.500" in render(t, "vtt")


def test_rounding_at_9995_never_makes_1000_milliseconds() -> None:
    t = transcript(Segment("tick", 59.9995, 61.9996))
    assert "00:01:00,000 --> 00:01:02,000" in render(t, "srt")
    assert ",1000" not in render(t, "srt")


def test_numbering_starts_at_one_and_counts_up() -> None:
    t = transcript(*(Segment(f"line {i}", i, i + 0.9) for i in range(12)))
    numbers = [int(block.split("\n")[0]) for block in render(t, "srt").strip().split("\n\n")]
    assert numbers == list(range(1, 13))


def test_voice_annotation_is_escaped() -> None:
    t = transcript(Segment("hi", 0, 1, "Tom & <Jerry>"))
    assert "<v Tom &amp; <Jerry&gt;>hi" in render(t, "vtt")


def test_multi_line_cue_has_no_blank_line_and_one_voice() -> None:
    t = transcript(Segment("one two three four five six seven eight nine ten eleven", 0, 5, "A"))
    out = render(t, "vtt", RenderOptions(max_line_width=30))
    assert out == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:05.000\n"
        "<v A>one two three four five six\n"
        "seven eight nine ten eleven\n"
    )


def test_karaoke_srt_and_vtt() -> None:
    words = (Word("Fish", 1.0, 1.3), Word("&", 1.3, 1.4), Word("chips", 1.5, 2.0))
    t = Transcript(text="Fish & chips", words=words)
    options = RenderOptions(highlight_words=True)
    assert render(t, "srt", options) == (
        "1\n00:00:01,000 --> 00:00:01,300\n<u>Fish</u> & chips\n\n"
        "2\n00:00:01,300 --> 00:00:01,500\nFish <u>&</u> chips\n\n"
        "3\n00:00:01,500 --> 00:00:02,000\nFish & <u>chips</u>\n"
    )
    assert render(t, "vtt", options) == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:01.300\n<u>Fish</u> &amp; chips\n\n"
        "00:00:01.300 --> 00:00:01.500\nFish <u>&amp;</u> chips\n\n"
        "00:00:01.500 --> 00:00:02.000\nFish &amp; <u>chips</u>\n"
    )


def test_karaoke_keeps_the_speaker() -> None:
    words = (Word("Hi", 0.0, 0.5, "Speaker 1"), Word("you", 0.5, 1.0, "Speaker 1"))
    out = render(Transcript(text="Hi you", words=words), "srt", RenderOptions(highlight_words=True))
    assert "[Speaker 1] <u>Hi</u> you" in out and "[Speaker 1] Hi <u>you</u>" in out


@pytest.mark.parametrize("fmt", ["srt", "vtt", "tsv"])
def test_a_timed_format_without_timestamps_says_how_to_get_them(fmt: str) -> None:
    with pytest.raises(UsageError, match="--timestamps segment"):
        render(Transcript(text="no times", segments=(Segment("no times"),)), fmt)
    with pytest.raises(UsageError, match="--timestamps segment"):
        render(Transcript(text="no segments at all"), fmt)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_highlight_without_words_is_a_usage_error(fmt: str) -> None:
    with pytest.raises(UsageError, match="--timestamps word"):
        render(transcript(Segment("a", 0, 1)), fmt, RenderOptions(highlight_words=True))


def test_an_empty_transcript_makes_an_empty_subtitle_file() -> None:
    empty = Transcript(text="")
    assert render(empty, "srt") == ""
    assert render(empty, "vtt") == "WEBVTT\n"
    blank = transcript(Segment("   ", 0, 1))
    assert render(blank, "srt") == ""
    assert render(blank, "vtt") == "WEBVTT\n"


def test_unicode_survives_and_lone_surrogates_do_not() -> None:
    t = transcript(Segment("héllo 漢字 😀 \ud800 bell\x07", 0, 2))
    out = render(t, "srt")
    assert "héllo 漢字 😀 \ufffd bell\n" in out
    out.encode("utf-8")


# ----------------------------------------------------------------------------- speaker labels


CONVERSATION = transcript(
    Segment("Hello there.", 0.0, 2.0, "Speaker 1"),
    Segment("How are you?", 2.5, 4.0, "Speaker 1"),
    Segment("Fine.", 4.5, 5.5, "Speaker 2"),
    Segment("An unknown voice.", 6.0, 7.5),
    Segment("Back again.", 8.0, 9.5, "Speaker 2"),
)


def test_srt_labels_the_speaker_only_where_it_changes() -> None:
    blocks = render(CONVERSATION, "srt").strip().split("\n\n")
    assert [block.split("\n", 2)[2] for block in blocks] == [
        "[Speaker 1] Hello there.",
        "How are you?",
        "[Speaker 2] Fine.",
        "An unknown voice.",
        "[Speaker 2] Back again.",  # after a cue without a speaker, the label comes back
    ]


def test_vtt_still_marks_every_cue_with_its_voice() -> None:
    out = render(CONVERSATION, "vtt")
    assert out.count("<v Speaker 1>") == 2 and out.count("<v Speaker 2>") == 2
    assert "\nAn unknown voice." in out


def test_a_split_segment_is_labelled_on_its_first_cue_only() -> None:
    text = " ".join(f"word{i}" for i in range(30))
    t = transcript(Segment(text, 0, 20, "Speaker 1"), Segment("Next.", 21, 22, "Speaker 2"))
    cues = list(build_cues(t, RenderOptions(), speaker_prefix=True))
    assert len(cues) > 2
    assert [c.show_speaker for c in cues] == [True] + [False] * (len(cues) - 2) + [True]
    contents = [b.split("\n", 2)[2] for b in render(t, "srt").strip().split("\n\n")]
    assert [c.startswith("[") for c in contents] == [c.show_speaker for c in cues]


def test_the_label_takes_room_only_on_the_cues_that_show_it() -> None:
    # 38 characters: one line alone, two lines after "[Speaker 1] ".
    text = "abcdefgh " * 4 + "abcde"
    t = transcript(Segment(text, 0, 4, "Speaker 1"), Segment(text, 5, 9, "Speaker 1"))
    first, second = render(t, "srt").strip().split("\n\n")
    assert first.split("\n")[2:] == ["[Speaker 1] abcdefgh abcdefgh", "abcdefgh abcdefgh abcde"]
    assert second.split("\n")[2:] == [text]


def test_the_label_counts_in_the_reading_speed_where_it_is_shown() -> None:
    t = transcript(
        Segment("abcdefghijklmnop", 0, 1, "Speaker 1"),
        Segment("abcdefghijklmnop", 2, 3, "Speaker 1"),
    )
    _, report = render_with_report(t, "srt")
    assert report is not None
    assert report.too_fast == 1  # "[Speaker 1] abcdefghijklmnop": 28/s; the second: 16/s
    assert report.max_chars_per_second == 28.0


def test_overlapping_speakers_are_labelled_where_they_alternate() -> None:
    long = " ".join(f"word{i}" for i in range(24))
    t = transcript(
        Segment(long, 0.0, 15.0, "Speaker 1"), Segment("Really? I had no idea.", 5.0, 6.5, "B")
    )
    options = RenderOptions(max_line_width=30)
    cues = build_cues(t, options, speaker_prefix=True)
    shown = [(c.speaker, c.show_speaker) for c in cues]
    assert ("B", True) in shown
    after = shown[shown.index(("B", True)) + 1]
    assert after == ("Speaker 1", True)  # back to Speaker 1 after B: labelled again
    for cue in cues:  # and the label always had room
        room = len(f"[{cue.speaker}] ") if cue.show_speaker else 0
        assert len(" ".join(cue.line_words[0])) + room <= 30
        assert len(cue.lines) <= 2


def test_a_transcript_rendered_in_pieces_continues_the_previous_speaker() -> None:
    t = transcript(Segment("Still me.", 0, 1, "Speaker 1"))
    [cue] = build_cues(t, speaker_prefix=True, previous_speaker="Speaker 1")
    assert not cue.show_speaker
    [cue] = build_cues(t, speaker_prefix=True, previous_speaker="Speaker 2")
    assert cue.show_speaker
