"""Building our Transcript model from the API's JSON answer."""

from __future__ import annotations

import json
import math

import pytest

from voxcli.transcript import Segment, Usage, Word, speaker_label, transcript_from_response


def seg(text: str, start: float | None, end: float | None, **extra: object) -> dict:
    return {"text": text, "start": start, "end": end, "type": "transcription_segment", **extra}


def answer(*segments: dict, **extra: object) -> dict:
    return {
        "model": "voxtral-mini-2602",
        "text": " ".join(s["text"] for s in segments) or "hi",
        "language": "en",
        "segments": list(segments),
        "usage": {
            "prompt_tokens": 4,
            "completion_tokens": 9,
            "total_tokens": 13,
            "prompt_audio_seconds": 3,
        },
        **extra,
    }


def test_segment_timestamps_become_segments() -> None:
    t = transcript_from_response(
        answer(seg("Hello there.", 0.0, 1.5, speaker_id="speaker_2"), seg("Bye.", 1.5, 2.0)),
        source="a.wav",
        granularities=("segment",),
        duration=2.1,
    )
    assert t.segments == (
        Segment("Hello there.", 0.0, 1.5, "Speaker 2"),
        Segment("Bye.", 1.5, 2.0, None),
    )
    assert t.words == ()
    assert t.model == "voxtral-mini-2602" and t.language == "en"
    assert t.source == "a.wav" and t.duration == 2.1
    assert t.usage == Usage(4, 9, 13, 3.0)


def test_word_timestamps_alone_become_words() -> None:
    t = transcript_from_response(
        answer(seg("Hello", 0.0, 0.4), seg("there.", 0.5, 0.9)), granularities=("word",)
    )
    assert t.segments == ()
    assert t.words == (Word("Hello", 0.0, 0.4), Word("there.", 0.5, 0.9))


def test_both_granularities_are_told_apart_including_one_word_segments() -> None:
    t = transcript_from_response(
        answer(
            seg("Hello there.", 0.0, 0.9),
            seg("Hello", 0.0, 0.4),
            seg("there.", 0.5, 0.9),
            seg("Yes.", 1.0, 1.4),
            seg("Yes.", 1.0, 1.35),
            seg("Okay.", 2.0, 2.5),
        ),
        granularities=("segment", "word"),
    )
    assert [s.text for s in t.segments] == ["Hello there.", "Yes.", "Okay."]
    assert [w.text for w in t.words] == ["Hello", "there.", "Yes."]


def test_typed_and_nested_words_are_accepted() -> None:
    t = transcript_from_response(
        answer(
            seg("Hi all.", 0.0, 1.0, words=[{"word": "Hi", "start": 0.0, "end": 0.3}]),
            {"text": "all.", "start": 0.4, "end": 1.0, "type": "transcription_word"},
        ),
        granularities=("segment", "word"),
    )
    assert [s.text for s in t.segments] == ["Hi all."]
    assert t.words == (Word("Hi", 0.0, 0.3), Word("all.", 0.4, 1.0))


def test_unusable_times_become_none_and_bad_words_are_dropped() -> None:
    t = transcript_from_response(
        answer(
            seg("a b", None, 2.0),
            seg("c d", -1, math.inf),
            seg("e f", math.nan, "x"),
        ),
        granularities=("segment",),
    )
    assert [(s.start, s.end) for s in t.segments] == [(None, 2.0), (None, None), (None, None)]
    words = transcript_from_response(
        answer(seg("ok", 0.0, 0.5), seg("late", None, 1.0), seg("  ", 1.0, 2.0)),
        granularities=("word",),
    ).words
    assert words == (Word("ok", 0.0, 0.5),)


def test_missing_fields_are_tolerated() -> None:
    t = transcript_from_response({"text": "  just text  ", "language": None})
    assert t.text == "just text"
    assert t.language is None and t.model is None and t.usage is None
    assert t.segments == () and t.words == ()


def test_speaker_labels_are_readable() -> None:
    assert speaker_label("speaker_1") == "Speaker 1"
    assert speaker_label("SPEAKER-07") == "Speaker 7"
    assert speaker_label("Alice") == "Alice"
    assert speaker_label("  ") is None
    assert speaker_label(None) is None


def test_stored_transcript_reads_back_equal():
    from voxcli.transcript import Transcript, transcript_from_data, transcript_to_data

    original = Transcript(
        text="Bonjour à tous.",
        language="fr",
        model="voxtral-mini-2602",
        segments=(Segment("Bonjour à tous.", 0.125, 1.5, "Speaker 1"),),
        words=(Word("Bonjour", 0.125, 0.5, "Speaker 1"),),
        usage=Usage(prompt_tokens=10, prompt_audio_seconds=1.5),
        duration=1.75,
    )
    assert transcript_from_data(json.loads(json.dumps(transcript_to_data(original)))) == original


@pytest.mark.parametrize(
    "data", [{}, {"text": "x", "segments": [{"txt": "y"}]}, {"text": "x", "usage": 3}]
)
def test_data_that_is_not_a_stored_transcript_is_refused(data):
    from voxcli.transcript import transcript_from_data

    with pytest.raises(ValueError, match="not a stored transcript"):
        transcript_from_data(data)
