"""SRT and WebVTT output, to the letter."""

from __future__ import annotations

import pytest

from voxcli.errors import UsageError
from voxcli.render import RenderOptions, render
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
        "00:00:00,000 --> 00:00:02,417\n"
        "[Speaker 1] Hello & welcome to <the> show.\n"
        "\n"
        "2\n"
        "00:00:02,500 --> 00:00:04,750\n"
        "[Speaker 2] Thanks -- glad -> to be here.\n"
    )


def test_vtt_exact() -> None:
    assert render(DIALOGUE, "vtt") == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:02.417\n"
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
