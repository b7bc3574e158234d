"""Building our Transcript model from the API's JSON answer."""

from __future__ import annotations

import json
import math

import pytest

from voxcli.transcript import (
    Segment,
    Transcript,
    Usage,
    Word,
    speaker_label,
    sum_usages,
    transcript_from_data,
    transcript_from_response,
    transcript_to_data,
)


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
        Segment("Hello there.", 0.0, 1.5, "Speaker 2", speaker_id="speaker_2"),
        Segment("Bye.", 1.5, 2.0, None),
    )
    assert t.words == ()
    assert t.model == "voxtral-mini-2602" and t.language == "en"
    assert t.source == "a.wav" and t.duration == 2.1
    assert t.usage == Usage(4, 9, 13, 3)
    assert isinstance(t.usage.prompt_audio_seconds, int)  # as the API sent it


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
    original = Transcript(
        text="Bonjour à tous.",
        language="fr",
        model="voxtral-mini-2602",
        segments=(Segment("Bonjour à tous.", 0.125, 1.5, "Speaker 1", "speaker_1", -0.5),),
        words=(Word("Bonjour", 0.125, 0.5, "Speaker 1", "speaker_1", 0.75),),
        usage=Usage(
            prompt_tokens=10,
            prompt_audio_seconds=2,
            extra={"service_tier": "priority", "details": {"audio": [1, 2]}},
        ),
        duration=1.75,
    )
    assert transcript_from_data(json.loads(json.dumps(transcript_to_data(original)))) == original
    # A part cached before these fields existed still reads back.
    old = {"text": "x", "segments": [{"text": "x", "start": 0, "end": 1, "speaker": None}]}
    old["usage"] = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    old["usage"]["prompt_audio_seconds"] = 1.0
    back = transcript_from_data(old)
    assert back.segments == (Segment("x", 0, 1),) and back.usage == Usage(1, 2, 3, 1.0)
    assert hash(back) == hash(transcript_from_data(old))  # extra usage takes no part in it


@pytest.mark.parametrize(
    "data", [{}, {"text": "x", "segments": [{"txt": "y"}]}, {"text": "x", "usage": 3}]
)
def test_data_that_is_not_a_stored_transcript_is_refused(data):
    with pytest.raises(ValueError, match="not a stored transcript"):
        transcript_from_data(data)


# ----------------------------------------------------------------------------- words by type


def word(text: str, start: float, end: float, **extra: object) -> dict:
    return {"text": text, "start": start, "end": end, "type": "transcription_word", **extra}


def test_the_type_field_tells_words_from_segments_whatever_their_text() -> None:
    t = transcript_from_response(
        answer(
            seg("We flew to New York in 24 000 seconds.", 0.0, 4.0),
            word("We", 0.0, 0.3),
            word("flew", 0.3, 0.6),
            word("to", 0.6, 0.8),
            word("New York", 0.8, 1.6),  # one word entry holding a space
            word("in", 1.6, 1.8),
            word(" 24 000 ", 1.8, 2.8),  # and a number grouped with a space
            word("seconds.", 2.8, 4.0),
            seg("Yes.", 5.0, 5.4),
            word("Yes.", 5.0, 5.4),
        ),
        granularities=("segment", "word"),
    )
    assert [s.text for s in t.segments] == ["We flew to New York in 24 000 seconds.", "Yes."]
    assert [w.text for w in t.words] == [
        "We",
        "flew",
        "to",
        "New York",
        "in",
        "24 000",
        "seconds.",
        "Yes.",
    ]
    assert [w.start for w in t.words] == sorted(w.start for w in t.words)


def test_a_typed_word_is_a_word_even_when_only_segments_were_asked_for() -> None:
    t = transcript_from_response(
        answer(seg("Hi all.", 0.0, 1.0), word("Hi all", 0.0, 1.0)), granularities=("segment",)
    )
    assert [s.text for s in t.segments] == ["Hi all."]
    assert [w.text for w in t.words] == ["Hi all"]


def test_without_a_telling_type_words_are_found_by_time_never_by_text() -> None:
    # What the SDK hands over: every entry typed "transcription_segment", words too.
    entries = [
        seg("We flew to New York.", 0.0, 2.0, speaker_id="speaker_1"),
        seg("We", 0.0, 0.3, speaker_id="speaker_1"),
        seg("flew", 0.3, 0.6, speaker_id="speaker_1"),
        seg("to", 0.6, 0.8, speaker_id="speaker_1"),
        seg("New York.", 0.8, 2.02, speaker_id="speaker_1"),  # past the segment by 20 ms
        seg("Uh huh.", 1.2, 1.6, speaker_id="speaker_2"),  # another speaker, inside: a segment
        seg("Uh huh.", 1.2, 1.6, speaker_id="speaker_2"),  # ... and its word
        seg("Sure thing.", 3.0, 4.0),
        seg("Sure", 3.0, 3.4),
        seg("thing.", 3.5, 4.0),
    ]
    t = transcript_from_response(answer(*entries), granularities=("segment", "word"))
    assert [(s.text, s.speaker) for s in t.segments] == [
        ("We flew to New York.", "Speaker 1"),
        ("Uh huh.", "Speaker 2"),
        ("Sure thing.", None),
    ]
    assert [w.text for w in t.words] == [
        "We",
        "flew",
        "to",
        "New York.",
        "Uh huh.",
        "Sure",
        "thing.",
    ]
    # All segments first, then all words: the same answer.
    again = transcript_from_response(
        answer(*(entries[i] for i in (0, 5, 7, 1, 2, 3, 4, 6, 8, 9))),
        granularities=("segment", "word"),
    )
    assert again.segments == t.segments and again.words == t.words


def test_finding_words_by_time_scales_to_long_answers() -> None:
    import time

    entries = []
    for s in range(2000):
        entries.append(seg(f"segment {s} has five words", s * 3.0, s * 3.0 + 2.5))
        entries.extend(
            seg(f"w{s}.{k}", s * 3.0 + k * 0.5, s * 3.0 + k * 0.5 + 0.4) for k in range(5)
        )
    began = time.perf_counter()
    t = transcript_from_response(answer(*entries), granularities=("segment", "word"))
    assert time.perf_counter() - began < 5
    assert (len(t.segments), len(t.words)) == (2000, 10000)


def test_score_and_raw_speaker_id_are_kept() -> None:
    t = transcript_from_response(
        answer(
            seg("Hello.", 0.0, 1.0, speaker_id="speaker_3", score=-0.125),
            seg("Bonjour.", 1.0, 2.0, speaker_id="Alice", score=None),
        ),
        granularities=("segment",),
    )
    assert [(s.speaker, s.speaker_id, s.score) for s in t.segments] == [
        ("Speaker 3", "speaker_3", -0.125),
        ("Alice", "Alice", None),
    ]


def test_usage_keeps_every_field_as_sent() -> None:
    data = answer(seg("a", 0, 1))
    data["usage"] = {
        "prompt_tokens": 4,
        "completion_tokens": 9,
        "total_tokens": 13,
        "prompt_audio_seconds": 203,
        "service_tier": "standard",
        "prompt_tokens_details": {"audio_tokens": 3},
    }
    usage = transcript_from_response(data).usage
    assert usage is not None
    assert usage.prompt_audio_seconds == 203 and isinstance(usage.prompt_audio_seconds, int)
    assert usage.extra == {"service_tier": "standard", "prompt_tokens_details": {"audio_tokens": 3}}
    assert list(usage.as_dict()) == [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_audio_seconds",
        "service_tier",
        "prompt_tokens_details",
    ]
    data["usage"] = {"prompt_audio_seconds": 2.5}
    assert transcript_from_response(data).usage == Usage(prompt_audio_seconds=2.5)


def test_usages_of_parts_add_up() -> None:
    a = Usage(1, 2, 3, 10, extra={"service_tier": "standard", "cost": 1})
    b = Usage(1, None, 3, 20, extra={"service_tier": "standard", "cost": 2})
    c = Usage(1, 1, 1, 5, extra={"service_tier": "priority"})
    assert sum_usages([a, None, b]) == Usage(
        2, 2, 6, 30, extra={"service_tier": "standard", "cost": 3}
    )
    assert sum_usages([a, c]).extra == {"service_tier": ["standard", "priority"], "cost": 1}  # type: ignore[union-attr]
    assert isinstance(sum_usages([a, b]).prompt_audio_seconds, int)  # type: ignore[union-attr]
    assert sum_usages([None]) is None
