"""text, json, jsonl and tsv output; the render() entry point and its options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxcli.errors import UsageError
from voxcli.render import (
    EXTENSIONS,
    FORMATS,
    TIMED_FORMATS,
    RenderOptions,
    cue_report,
    format_for_path,
    render,
    render_with_report,
)
from voxcli.render.json_ import transcript_to_dict
from voxcli.render.quality import CueReport
from voxcli.transcript import Segment, Transcript, Usage, Word

FULL = Transcript(
    text="Hello there. General Kenobi!",
    language="en",
    model="voxtral-mini-latest",
    segments=(
        Segment(" Hello there.", 0.0, 1.23456, "Speaker 1", "speaker_1", -0.25),
        Segment(" General Kenobi!", 1.5, 2.9995, "Speaker 2", "speaker_2"),
    ),
    words=(
        Word("Hello", 0.0, 0.5, "Speaker 1", "speaker_1", 0.9),
        Word("there.", 0.6, 1.23456, "Speaker 1", "speaker_1"),
        Word("General", 1.5, 2.0, "Speaker 2", "speaker_2"),
        Word("Kenobi!", 2.1, 2.9995, "Speaker 2", "speaker_2"),
    ),
    usage=Usage(
        prompt_tokens=5,
        completion_tokens=7,
        total_tokens=12,
        prompt_audio_seconds=3,
        extra={"service_tier": "standard", "prompt_tokens_details": {"cached": 0}},
    ),
    source="clip.wav",
    duration=3.0004,
)


# ----------------------------------------------------------------------------- text


def test_text_is_wrapped_for_reading() -> None:
    words = " ".join(["lorem"] * 30)
    out = render(Transcript(text=words), "text")
    assert out.endswith("\n") and not out.endswith("\n\n")
    assert all(len(line) <= 80 for line in out.splitlines())
    assert out.split() == words.split()


def test_text_width_zero_does_not_wrap() -> None:
    words = " ".join(["lorem"] * 30)
    assert render(Transcript(text=words), "text", RenderOptions(text_width=0)) == words + "\n"


def test_text_keeps_paragraphs_and_never_breaks_a_word() -> None:
    url = "https://example.com/" + "a" * 100
    out = render(Transcript(text=f"First para.\n\n\nSecond {url} para.\n"), "text")
    assert out == f"First para.\n\nSecond\n{url}\npara.\n"


def test_text_with_speakers_is_one_paragraph_per_turn() -> None:
    t = Transcript(
        text="ignored when speakers exist",
        segments=(
            Segment("Hi.", 0, 1, "Speaker 1"),
            Segment("How are you?", 1, 2, "Speaker 1"),
            Segment("Fine.", 2, 3, "Speaker 2"),
            Segment("  ", 3, 4, "Speaker 1"),
            Segment("Good.", 4, 5, "Speaker 1"),
        ),
    )
    assert render(t, "text") == (
        "Speaker 1: Hi. How are you?\n\nSpeaker 2: Fine.\n\nSpeaker 1: Good.\n"
    )


def test_text_turns_follow_time_order() -> None:
    t = Transcript(
        text="",
        segments=(Segment("Second.", 5, 6, "Speaker 2"), Segment("First.", 0, 1, "Speaker 1")),
    )
    assert render(t, "text") == "Speaker 1: First.\n\nSpeaker 2: Second.\n"


def test_text_falls_back_to_segments_and_empty_is_empty() -> None:
    t = Transcript(text="", segments=(Segment(" one"), Segment("two ")))
    assert render(t, "text") == "one two\n"
    assert render(Transcript(text=""), "text") == ""
    assert render(Transcript(text="  \n "), "text") == ""


# ----------------------------------------------------------------------------- json


def test_json_schema_and_rounding() -> None:
    data = json.loads(render(FULL, "json"))
    expected = {
        "text": "Hello there. General Kenobi!",
        "language": "en",
        "model": "voxtral-mini-latest",
        "duration": 3.0,
        "source": "clip.wav",
        "segments": [
            {
                "start": 0.0,
                "end": 1.235,
                "text": "Hello there.",
                "speaker": "Speaker 1",
                "speaker_id": "speaker_1",
                "score": -0.25,
            },
            {
                "start": 1.5,
                "end": 3.0,
                "text": "General Kenobi!",
                "speaker": "Speaker 2",
                "speaker_id": "speaker_2",
                "score": None,
            },
        ],
        "words": [
            {"start": 0.0, "end": 0.5, "text": "Hello", "speaker": "Speaker 1", "score": 0.9},
            {"start": 0.6, "end": 1.235, "text": "there.", "speaker": "Speaker 1", "score": None},
            {"start": 1.5, "end": 2.0, "text": "General", "speaker": "Speaker 2", "score": None},
            {"start": 2.1, "end": 3.0, "text": "Kenobi!", "speaker": "Speaker 2", "score": None},
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "total_tokens": 12,
            "prompt_audio_seconds": 3,
            "service_tier": "standard",
            "prompt_tokens_details": {"cached": 0},
        },
    }
    for word in expected["words"]:
        word["speaker_id"] = word["speaker"].lower().replace(" ", "_")
    assert data == expected
    assert '"prompt_audio_seconds": 3,' in render(FULL, "json")  # an integer, as the API sent it
    assert list(data) == [
        "text",
        "language",
        "model",
        "duration",
        "source",
        "segments",
        "words",
        "usage",
    ]


def test_json_is_pretty_utf8_and_ends_with_one_newline() -> None:
    out = render(Transcript(text="café 漢字"), "json")
    assert out.startswith('{\n  "text": "café 漢字",\n')
    assert out.endswith("}\n") and not out.endswith("\n\n")


def test_json_without_words_usage_or_times() -> None:
    data = transcript_to_dict(Transcript(text="hi", segments=(Segment("hi"),)))
    assert "words" not in data
    assert data["usage"] is None and data["duration"] is None
    assert data["segments"] == [
        {
            "start": None,
            "end": None,
            "text": "hi",
            "speaker": None,
            "speaker_id": None,
            "score": None,
        }
    ]


def test_jsonl_is_the_same_object_on_one_line() -> None:
    out = render(FULL, "jsonl")
    assert out.count("\n") == 1 and out.endswith("\n")
    assert ", " not in out.split('"text"')[0]  # compact separators
    assert json.loads(out) == json.loads(render(FULL, "json"))


def test_json_output_is_always_valid_and_utf8_encodable() -> None:
    t = Transcript(text="bad \ud800 surrogate", segments=(Segment("x", float("inf"), 1.0),))
    for fmt in ("json", "jsonl"):
        out = render(t, fmt)
        out.encode("utf-8")
        data = json.loads(out)
        assert data["segments"][0]["start"] is None
        assert "\ufffd" in data["text"]


# ----------------------------------------------------------------------------- tsv


def test_tsv_exact() -> None:
    t = Transcript(
        text="",
        segments=(
            Segment("second\twith tab", 2.0, 3.0),
            Segment("first\nline", 0.0004, 1.9995),
            Segment("", 5, 6),
        ),
    )
    assert render(t, "tsv") == (
        "start\tend\ttext\n0\t2000\tfirst line\n2000\t3000\tsecond with tab\n"
    )


def test_tsv_adds_a_speaker_column_when_diarized() -> None:
    assert render(FULL, "tsv") == (
        "start\tend\ttext\tspeaker\n"
        "0\t1235\tHello there.\tSpeaker 1\n"
        "1500\t3000\tGeneral Kenobi!\tSpeaker 2\n"
    )


def test_tsv_falls_back_to_words() -> None:
    t = Transcript(text="a b", words=(Word("b", 1, 2), Word("a", 0, 1)))
    assert render(t, "tsv") == "start\tend\ttext\n0\t1000\ta\n1000\t2000\tb\n"


# ----------------------------------------------------------------------------- api


def test_formats_and_extensions() -> None:
    assert FORMATS == ("text", "json", "jsonl", "srt", "vtt", "tsv")
    assert frozenset({"srt", "vtt", "tsv"}) == TIMED_FORMATS
    assert set(EXTENSIONS.values()) == set(FORMATS)
    assert format_for_path("talk.SRT") == "srt"
    assert format_for_path(Path("out/notes.txt")) == "text"
    assert format_for_path("a.b.Jsonl") == "jsonl"
    assert format_for_path("talk.wav") is None
    assert format_for_path("-") is None
    assert format_for_path("srt") is None


def test_every_format_ends_with_exactly_one_newline() -> None:
    for fmt in FORMATS:
        out = render(FULL, fmt)
        assert out.endswith("\n") and not out.endswith("\n\n"), fmt


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--format"):
        render(FULL, "docx")


def test_highlight_is_ignored_by_formats_that_cannot_show_it() -> None:
    t = Transcript(text="hi", segments=(Segment("hi", 0, 1),))
    options = RenderOptions(highlight_words=True)
    for fmt in ("text", "json", "jsonl", "tsv"):
        assert render(t, fmt, options) == render(t, fmt)


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"max_line_width": 9}, "--max-line-width"),
        ({"max_lines": 0}, "--max-lines"),
        ({"max_cue_duration": 0}, "--max-cue-duration"),
        ({"max_cue_duration": float("nan")}, "--max-cue-duration"),
        ({"min_cue_duration": -1}, "--min-cue-duration"),
        ({"min_cue_duration": 8, "max_cue_duration": 7}, "--min-cue-duration"),
        ({"max_chars_per_second": 0}, "--max-chars-per-second"),
        ({"text_width": 5}, "--text-width"),
    ],
)
def test_impossible_options_name_their_flag(kwargs: dict[str, float], flag: str) -> None:
    with pytest.raises(UsageError, match=flag):
        RenderOptions(**kwargs)  # type: ignore[arg-type]


def test_default_options_follow_the_guidelines() -> None:
    options = RenderOptions()
    assert (options.max_line_width, options.max_lines) == (42, 2)
    assert (options.min_cue_duration, options.max_cue_duration) == (0.833, 7.0)
    assert options.max_chars_per_second == 17.0 and options.highlight_words is False
    assert options.text_width == 80


def test_cue_report_counts_fast_cues() -> None:
    t = Transcript(
        text="",
        segments=(
            Segment("This cue is read far too quickly to follow.", 0, 1),
            Segment("Slow.", 2, 4),
        ),
    )
    report = cue_report(t, RenderOptions())
    assert isinstance(report, CueReport)
    assert (report.cues, report.too_fast) == (2, 1)
    assert report.max_chars_per_second > 40
    assert "1 faster than 17 characters/s" in report.summary(RenderOptions())
    assert cue_report(t, RenderOptions(max_chars_per_second=100)).too_fast == 0


def test_cue_report_counts_short_cues_and_wide_lines() -> None:
    t = Transcript(
        text="",
        segments=(Segment("Hi.", 0, 0.3), Segment("x" * 50, 0.35, 3)),
    )
    report = cue_report(t)
    assert (report.too_short, report.overlong_lines) == (1, 1)
    assert "1 shorter than" in report.summary(RenderOptions())


def test_cue_report_needs_timestamps() -> None:
    with pytest.raises(UsageError):
        cue_report(Transcript(text="no times"))
    assert cue_report(Transcript(text="")) == CueReport(0, 0, 0.0, 0, 0)


def test_text_turns_come_from_words_when_only_words_know_the_speaker() -> None:
    t = Transcript(
        text="Hi. Hello.",
        segments=(Segment("Hi. Hello.", 0, 2),),
        words=(Word("Hello.", 1, 2, "Speaker 2"), Word("Hi.", 0, 1, "Speaker 1")),
    )
    assert render(t, "text") == "Speaker 1: Hi.\n\nSpeaker 2: Hello.\n"


# ----------------------------------------------------------------------------- report = file

DIARIZED = Transcript(
    text="",
    segments=(Segment("aaaa bbbb cccc dddd", 0, 4, "Speaker 1"), Segment("x" * 35, 5, 7, "B")),
)
NARROW = RenderOptions(max_line_width=20, max_lines=1)


def test_render_with_report_reports_the_cues_it_wrote() -> None:
    for fmt in ("srt", "vtt"):
        text, report = render_with_report(DIARIZED, fmt, NARROW)
        assert text == render(DIARIZED, fmt, NARROW)
        assert report is not None and report.cues == text.count(" --> ")
        assert report == cue_report(DIARIZED, NARROW, fmt)
    for fmt in ("text", "json", "jsonl", "tsv"):
        assert render_with_report(DIARIZED, fmt, NARROW) == (render(DIARIZED, fmt, NARROW), None)


def test_the_srt_report_counts_cues_shaped_around_the_speaker_prefix() -> None:
    # "[Speaker 1] " leaves 8 of 20 characters on the first cue, which then holds one
    # word; the next cue of the same speaker has no label and takes the other three.
    srt_report = cue_report(DIARIZED, NARROW, "srt")
    vtt_report = cue_report(DIARIZED, NARROW, "vtt")
    assert render(DIARIZED, "srt", NARROW).count(" --> ") == srt_report.cues == 3
    assert render(DIARIZED, "srt", NARROW).split("\n\n")[:2] == [
        "1\n00:00:00,000 --> 00:00:00,969\n[Speaker 1] aaaa",
        "2\n00:00:01,053 --> 00:00:04,000\nbbbb cccc dddd",
    ]
    assert render(DIARIZED, "vtt", NARROW).count(" --> ") == vtt_report.cues == 2
    assert cue_report(DIARIZED, NARROW) == vtt_report  # the default stays VTT-shaped
    # The 35-character word fits VTT's 42-wide line, but not after SRT's "[B] ".
    wide = RenderOptions(max_line_width=37)
    assert cue_report(DIARIZED, wide, "srt").overlong_lines == 1
    assert cue_report(DIARIZED, wide, "vtt").overlong_lines == 0


def test_the_report_counts_reading_speed_with_the_shown_prefix() -> None:
    t = Transcript(text="", segments=(Segment("abcdefghijklmnop", 0, 1, "Speaker 1"),))
    assert cue_report(t, fmt="vtt").too_fast == 0  # 16 characters in 1 s
    srt_report = cue_report(t, fmt="srt")  # "[Speaker 1] abcdefghijklmnop": 28 in 1 s
    assert (srt_report.too_fast, srt_report.max_chars_per_second) == (1, 28.0)


def test_the_karaoke_report_counts_written_cues_and_judges_whole_subtitles() -> None:
    words = (Word("Fish", 1.0, 1.3), Word("&", 1.3, 1.4), Word("chips", 1.5, 2.0))
    t = Transcript(text="Fish & chips", words=words)
    options = RenderOptions(highlight_words=True)
    text, report = render_with_report(t, "srt", options)
    assert report == CueReport(3, 0, 12 / 1.0, 0, 0, highlighted=1)
    assert text.count(" --> ") == 3
    assert report.summary(options) == "3 cues (1 subtitles highlighted word by word)"


def test_cue_report_is_for_subtitle_formats_only() -> None:
    with pytest.raises(ValueError, match="tsv"):
        cue_report(DIARIZED, fmt="tsv")


def test_control_characters_alone_are_no_content() -> None:
    t = Transcript(text="", words=(Word("\x08", 0, 0),))
    assert render(t, "text") == render(t, "srt") == ""
    assert render(t, "vtt") == "WEBVTT\n"
    assert render(t, "tsv") == "start\tend\ttext\n"
    t = Transcript(text="", words=(Word("&", 0, 0, "Speaker 1"), Word("\x08", 0, 0)))
    assert render(t, "text") == "Speaker 1: &\n"


# ----------------------------------------------------------------------------- tsv round trip

QUOTED = Transcript(
    text="",
    segments=(
        Segment('"Quoted" at the start', 0.0, 1.0, 'The "Boss"'),
        Segment('A lone " in the middle', 1.0, 2.0, "Speaker 2"),
        Segment('"', 2.0, 3.0, "Speaker 2"),
        Segment("tab\tand\nnewline, 'single' quotes", 3.0, 4.0, None),
        Segment('ends with a quote"', 4.0, 5.0, '"'),
        Segment("NA", 5.0, 6.0, "Speaker 2"),
    ),
)
QUOTED_ROWS = [
    ["start", "end", "text", "speaker"],
    ["0", "1000", '"Quoted" at the start', 'The "Boss"'],
    ["1000", "2000", 'A lone " in the middle', "Speaker 2"],
    ["2000", "3000", '"', "Speaker 2"],
    ["3000", "4000", "tab and newline, 'single' quotes", ""],
    ["4000", "5000", 'ends with a quote"', '"'],
    ["5000", "6000", "NA", "Speaker 2"],
]


def test_tsv_round_trips_through_the_csv_module() -> None:
    import csv
    import io

    out = render(QUOTED, "tsv")
    assert list(csv.reader(io.StringIO(out), dialect="excel-tab")) == QUOTED_ROWS
    assert out.count("\n") == len(QUOTED_ROWS)  # one line per row: no field spans lines
    assert '0\t1000\t"""Quoted"" at the start"\t"The ""Boss"""\n' in out
    assert "\n5000\t6000\tNA\tSpeaker 2\n" in out  # fields without quotes are left alone


def test_tsv_round_trips_through_pandas() -> None:
    pandas = pytest.importorskip("pandas")
    import io

    # dtype=str and keep_default_na=False: else pandas reads "NA" (said aloud) as missing.
    frame = pandas.read_csv(
        io.StringIO(render(QUOTED, "tsv")), sep="\t", dtype=str, keep_default_na=False
    )
    assert [list(frame.columns), *frame.values.tolist()] == QUOTED_ROWS


def test_text_labels_each_turn_once_and_the_label_counts_in_the_width() -> None:
    t = Transcript(
        text="",
        segments=(
            Segment("one two three four five six seven eight nine ten", 0, 4, "Speaker 1"),
            Segment("eleven twelve.", 4, 5, "Speaker 1"),
            Segment("Someone else.", 5, 6),
            Segment("Me again.", 6, 7, "Speaker 1"),
        ),
    )
    out = render(t, "text", RenderOptions(text_width=30))
    assert out == (
        "Speaker 1: one two three four\n"
        "five six seven eight nine ten\n"
        "eleven twelve.\n\n"
        "Someone else.\n\n"
        "Speaker 1: Me again.\n"
    )
    assert all(len(line) <= 30 for line in out.splitlines())
