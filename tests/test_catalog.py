"""The model catalogue, without a server: cards, the longest audio a request holds, the
checks and their hints, the API's refusals translated, the listing and the cache."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fake_models import (
    ApiError as FakeApiError,
)
from fake_models import (
    check_transcription,
    default_catalogue,
    model_card,
    transcription_capabilities,
)

from voxcli.api.errors import status_error
from voxcli.catalog.cache import (
    CACHE_TTL_SECONDS,
    ModelCatalog,
    Unchecked,
    cache_path,
    cached_model_ids,
)
from voxcli.catalog.card import (
    ModelCard,
    distinct_models,
    estimate_bias_tokens,
    find_card,
    parse_cards,
)
from voxcli.catalog.check import (
    ModelMismatch,
    Needs,
    UnknownModel,
    check,
    translate_api_error,
    translate_refusal,
    unknown_model,
)
from voxcli.catalog.kinds import DEFAULT_MODELS
from voxcli.catalog.listing import (
    format_audio_length,
    language_summary,
    models_json,
    render_table,
)
from voxcli.errors import ApiError, AuthError, ExitCode, InputError, UsageError
from voxcli.output.sinks import write_atomic

CARDS = tuple(parse_cards(default_catalogue().values()))
WHERE = "http://fake"


def card(name: str) -> ModelCard:
    found = find_card(CARDS, name)
    assert found is not None
    return found


def wire(model_id: str, **kwargs: object) -> ModelCard:
    return ModelCard.from_json(model_card(model_id, **kwargs))


# -- parsing -------------------------------------------------------------------------------


def test_a_current_card_is_parsed_from_the_wire_shape():
    mini = card("voxtral-mini-transcribe-3-0")
    assert mini.aliases == ("voxtral-mini-transcribe-3", "voxtral-mini-transcribe-latest")
    assert mini.name == "Voxtral Mini Transcribe 3"
    assert mini.max_context_length == 65536
    assert (mini.audio, mini.audio_transcription, mini.audio_transcription_realtime) == (
        True,
        True,
        False,
    )
    assert not mini.completion_chat
    assert mini.modes == ("offline",)
    assert mini.timestamp_granularities == ("segment",)
    assert (mini.diarization, mini.context_bias, mini.turn_detection) == (True, True, False)
    assert mini.languages[:3] == ("en", "fr", "es")
    assert mini.deprecation is None


def test_realtime_delays_and_deprecation_are_parsed():
    old = card("voxtral-mini-transcribe-realtime-2602")
    assert old.streaming_delays_ms == ((80, 1200), (2400, 2400))
    assert old.deprecation == datetime(2027, 3, 31, tzinfo=timezone.utc)
    assert old.deprecation_replacement_model == "voxtral-mini-transcribe-realtime-3-0"


def test_missing_null_mistyped_and_extra_fields_take_defaults():
    parsed = ModelCard.from_json(
        {
            "id": "odd",
            "aliases": "not-a-list",
            "name": None,
            "max_context_length": True,
            "deprecation": "next spring",
            "capabilities": None,
            "audio_transcription_capabilities": {
                "modes": ["offline", 3, None],
                "diarization": "yes",
                "languages": None,
                "streaming_delays_ms": [[100, 200], {"min": 5}, [9, 1], "x"],
                "brand_new_field": {"nested": True},
            },
            "something_new": 1,
        }
    )
    assert parsed == ModelCard(
        id="odd",
        has_transcription_capabilities=True,
        modes=("offline",),
        streaming_delays_ms=((100, 200),),
    )
    assert ModelCard.from_json({"id": "bare"}) == ModelCard(id="bare")
    assert ModelCard.from_json({"id": "x", "max_context_length": -5}).max_context_length is None


def test_dates_with_z_offset_or_none_are_utc():
    assert ModelCard.from_json({"id": "a", "deprecation": "2026-05-31T00:00:00Z"}).deprecation == (
        datetime(2026, 5, 31, tzinfo=timezone.utc)
    )
    naive = ModelCard.from_json({"id": "a", "deprecation": "2026-05-31T12:00:00"}).deprecation
    assert naive == datetime(2026, 5, 31, 12, tzinfo=timezone.utc)
    shifted = ModelCard.from_json({"id": "a", "deprecation": "2026-05-31T02:00:00+02:00"})
    assert shifted.deprecation == datetime(2026, 5, 31, tzinfo=timezone.utc)


def test_a_card_needs_an_id_and_junk_entries_are_skipped():
    with pytest.raises(ValueError, match="without an id"):
        ModelCard.from_json({"aliases": ["x"]})
    assert [c.id for c in parse_cards([{"id": "a"}, {"id": ""}, "b", None, {"id": "c"}])] == [
        "a",
        "c",
    ]


def test_to_json_round_trips_every_card():
    for each in CARDS:
        assert ModelCard.from_json(json.loads(json.dumps(each.to_json()))) == each


def test_names_and_kinds():
    assert card("voxtral-mini-latest").names == ("voxtral-mini-2602", "voxtral-mini-latest")
    kinds = {c.id: c.kinds for c in CARDS}
    assert kinds == {
        "voxtral-mini-transcribe-3-0": ("offline",),
        "voxtral-mini-transcribe-realtime-3-0": ("realtime",),
        "voxtral-small-transcribe-3": ("offline",),
        "voxtral-mini-2602": ("offline",),
        "voxtral-mini-transcribe-realtime-2602": ("realtime",),
        "voxtral-small-2507": ("chat",),
        "mistral-small-2506": (),
    }
    assert not card("mistral-small-latest").is_audio
    both = wire(
        "both",
        capabilities=["audio", "audio_transcription", "audio_transcription_realtime"],
        transcription=transcription_capabilities(modes=["offline", "realtime"]),
    )
    assert both.kinds == ("offline", "realtime")
    no_modes = ModelCard.from_json({"id": "n", "capabilities": {"audio_transcription": True}})
    assert no_modes.kinds == ("offline",)


def test_find_card_prefers_an_exact_id_and_distinct_models_merges_per_name_entries():
    first = ModelCard(id="a-latest", aliases=("b",))
    second = ModelCard(id="b", aliases=("a-latest",))
    assert find_card([first, second], "b") is second
    assert find_card([first, second], "a-latest") is first
    assert find_card([first, second], "zzz") is None
    pinned = ModelCard(id="m-2602", aliases=("m-latest", "m-2"))
    per_name = [
        ModelCard(id="m-latest", aliases=("m-2602", "m-2")),
        pinned,
        ModelCard(id="m-2", aliases=("m-latest", "m-2602")),
    ]
    assert distinct_models([*per_name, first]) == [pinned, first]


# -- the longest audio one request holds ------------------------------------------------------


def test_a_65536_token_model_holds_roughly_an_hour():
    seconds = card("voxtral-mini-transcribe-latest").max_audio_seconds()
    assert seconds == pytest.approx((65536 - 1024) / 16.5)
    assert 60 * 60 <= seconds <= 70 * 60
    assert card("voxtral-mini-2602").max_audio_seconds() == pytest.approx((131072 - 1024) / 16.5)


def test_bias_tokens_shorten_the_audio_and_the_result_is_never_negative():
    mini = card("voxtral-mini-transcribe-latest")
    assert estimate_bias_tokens(["farewell_address", "Qx"]) == (6 + 1) + (1 + 1)
    full = mini.max_audio_seconds()
    assert full is not None
    assert mini.max_audio_seconds(bias_tokens=1650) == pytest.approx(full - 100)
    assert ModelCard(id="tiny", max_context_length=100).max_audio_seconds() == 0.0
    assert ModelCard(id="unknown").max_audio_seconds() is None


def test_the_estimate_stays_above_the_fakes_count():
    terms = ["a", "abcd", "abcde", "farewell_address", "x" * 40]
    fake_count = sum(max(1, -(-len(t) // 4)) for t in terms)
    assert estimate_bias_tokens(terms) >= fake_count


# -- checks before sending --------------------------------------------------------------------


def refusal(name: str, needs: Needs, catalogue=CARDS) -> ModelMismatch:
    with pytest.raises(ModelMismatch) as caught:
        check(card(name), needs, catalogue, name=name)
    assert caught.value.exit_code == ExitCode.USAGE
    assert isinstance(caught.value, UsageError)
    return caught.value


def test_word_timestamps_on_a_segment_only_model():
    err = refusal("voxtral-mini-transcribe-latest", Needs(timestamps=("segment", "word")))
    assert err.message == (
        "model voxtral-mini-transcribe-latest (voxtral-mini-transcribe-3-0) cannot do word "
        "timestamps; it supports offline transcription, segment timestamps, diarization, "
        "context bias, languages en fr es de it pt nl hi ar ru zh ja ko"
    )
    assert err.hint == "word timestamps: use -m voxtral-mini-latest (voxtral-mini-2602)"


PLAIN_OFFLINE = wire(
    "plain-offline",
    capabilities=["audio", "audio_transcription"],
    transcription=transcription_capabilities(timestamp_granularities=["segment"]),
    max_context_length=65536,
)


@pytest.mark.parametrize(
    ("needs", "lacks"),
    [
        (Needs(diarize=True), "diarization"),
        (Needs(speakers=2), "diarization"),
        (Needs(bias=3), "context bias"),
    ],
)
def test_diarization_and_bias_on_a_model_without_them(needs, lacks):
    with pytest.raises(ModelMismatch) as caught:
        check(PLAIN_OFFLINE, needs, (*CARDS, PLAIN_OFFLINE))
    assert caught.value.message.startswith(f"model plain-offline cannot do {lacks}; it supports ")
    assert "offline transcription, segment timestamps, languages en" in caught.value.message
    # the default of the kind fits, so it is the one named
    assert caught.value.hint == (
        f"{lacks}: use -m voxtral-mini-transcribe-latest (voxtral-mini-transcribe-3-0)"
    )


def test_every_missing_feature_is_named_and_the_hint_fits_them_all():
    err = refusal("voxtral-mini-transcribe-latest", Needs(timestamps=("word",), diarize=True))
    assert "cannot do word timestamps; " in err.message  # it has diarization
    with pytest.raises(ModelMismatch) as caught:
        check(PLAIN_OFFLINE, Needs(timestamps=("word",), diarize=True, bias=1), CARDS)
    assert "cannot do word timestamps, diarization or context bias;" in caught.value.message
    assert caught.value.hint == (
        "word timestamps, diarization or context bias: use -m voxtral-mini-latest "
        "(voxtral-mini-2602)"
    )


def test_a_language_the_model_does_not_list():
    err = refusal("voxtral-mini-transcribe-latest", Needs(language="xx"))
    assert "cannot do language xx; " in err.message
    assert (
        err.hint
        == "no listed model supports language xx; `voxcli models` lists what each model can do"
    )
    assert check(card("voxtral-mini-transcribe-latest"), Needs(language="fr"), CARDS) == []
    anything = wire(
        "any-language",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(languages=[]),
    )
    assert check(anything, Needs(language="xx"), CARDS) == []  # an empty list says nothing


def test_a_transcription_model_for_chat_and_a_chat_model_for_transcription():
    err = refusal("voxtral-mini-transcribe-latest", Needs(kind="chat"))
    assert "cannot do chat with audio; it supports offline transcription" in err.message
    assert err.hint == "chat with audio: use -m voxtral-small-latest (voxtral-small-2507)"
    err = refusal("voxtral-small-latest", Needs(timestamps=("segment",)))
    assert err.message == (
        "model voxtral-small-latest (voxtral-small-2507) cannot do offline transcription; "
        "it supports chat with audio"
    )
    assert err.hint == (
        "offline transcription: use -m voxtral-mini-transcribe-latest (voxtral-mini-transcribe-3-0)"
    )


def test_realtime_and_offline_are_told_apart():
    err = refusal("voxtral-mini-transcribe-latest", Needs(kind="realtime"))
    assert "cannot do realtime transcription; it supports offline transcription" in err.message
    assert err.hint == (
        "realtime transcription: use -m voxtral-mini-transcribe-realtime-latest "
        "(voxtral-mini-transcribe-realtime-3-0)"
    )
    err = refusal("voxtral-mini-transcribe-realtime-latest", Needs(kind="offline"))
    assert "cannot do offline transcription; it supports realtime transcription, " in err.message
    assert "turn detection" in err.message
    assert "timestamps" not in err.message  # timestamps are an offline matter


def test_a_model_that_takes_no_audio():
    err = refusal("mistral-small-latest", Needs(kind="chat"))
    assert err.message == (
        "model mistral-small-latest (mistral-small-2506) takes no audio; it supports text chat only"
    )
    assert err.hint == "chat with audio: use -m voxtral-small-latest (voxtral-small-2507)"


def test_more_speaker_references_than_the_api_takes():
    mini = card("voxtral-mini-transcribe-latest")
    assert check(mini, Needs(diarize=True, speakers=8), CARDS) == []
    with pytest.raises(ModelMismatch) as caught:
        check(mini, Needs(diarize=True, speakers=9), CARDS)
    assert caught.value.message == "at most 8 speaker references are allowed per request, got 9"
    assert caught.value.hint == "pass at most 8 --speaker clips"


def test_what_fits_passes_and_unknown_details_are_not_refused():
    assert (
        check(card("voxtral-mini-latest"), Needs(timestamps=("word",), diarize=True), CARDS) == []
    )
    vague = ModelCard(id="vague", audio=True, audio_transcription=True)
    needs = Needs(timestamps=("word",), diarize=True, bias=2, language="fr")
    assert check(vague, needs, CARDS) == []


def test_a_deprecated_model_gives_one_warning_line():
    old = card("voxtral-mini-transcribe-realtime-2602")
    assert check(old, Needs(kind="realtime"), CARDS) == [
        "model voxtral-mini-transcribe-realtime-2602 is deprecated and retires on 2027-03-31; "
        "use -m voxtral-mini-transcribe-realtime-3-0 instead"
    ]
    bare = ModelCard(
        id="old", audio=True, audio_transcription=True, deprecation=datetime(2026, 1, 2)
    )
    assert check(bare, Needs(), (), name="old-latest") == [
        "model old-latest (old) is deprecated and retires on 2026-01-02"
    ]


def test_the_hint_prefers_current_models_and_latest_aliases():
    def offline(model_id: str, **kwargs: object) -> ModelCard:
        return wire(
            model_id,
            capabilities=["audio", "audio_transcription"],
            transcription=transcription_capabilities(timestamp_granularities=["segment", "word"]),
            **kwargs,
        )

    retiring = offline("old-words", deprecation="2027-01-01T00:00:00Z", aliases=["old-latest"])
    pinned = offline("words-2601")
    aliased = offline("words-2602", aliases=["words-latest"])
    needs = Needs(timestamps=("word",))
    with pytest.raises(ModelMismatch) as caught:
        check(card("voxtral-mini-transcribe-3-0"), needs, [retiring, pinned, aliased])
    assert caught.value.hint == "word timestamps: use -m words-latest (words-2602)"
    with pytest.raises(ModelMismatch) as caught:
        check(card("voxtral-mini-transcribe-3-0"), needs, [retiring, pinned])
    assert caught.value.hint == "word timestamps: use -m words-2601"


def test_unknown_model_names_the_default_of_its_kind():
    err = unknown_model("voxtral-mini-2507", "chat")
    assert isinstance(err, UnknownModel) and isinstance(err, UsageError)
    assert err.exit_code == ExitCode.USAGE
    assert err.message == (
        "unknown model voxtral-mini-2507: the server does not offer it (it may have been retired)"
    )
    assert err.hint == (
        "the current chat with audio default is -m voxtral-small-latest; "
        "`voxcli models` lists what each model can do"
    )
    assert "-m voxtral-mini-transcribe-latest;" in (unknown_model("x", "offline").hint or "")
    assert "-m voxtral-mini-transcribe-realtime-latest;" in (
        unknown_model("x", "realtime").hint or ""
    )
    assert "-m my-default;" in (unknown_model("x", "offline", "my-default").hint or "")
    own = unknown_model(DEFAULT_MODELS["offline"], "offline")
    assert (
        own.hint
        == "see `voxcli models` for the models this server offers for offline transcription"
    )


# -- the API's own refusals --------------------------------------------------------------------


def fake_refusal(name: str, **request: object) -> ApiError:
    """The ApiError voxcli raises for the fake server's answer to this request."""
    with pytest.raises(FakeApiError) as caught:
        check_transcription(default_catalogue().get(name), name, **request)
    error = status_error(caught.value.status, str(caught.value.message), WHERE)
    assert isinstance(error, ApiError)
    return error


def test_word_level_refusal_is_translated_with_a_hint_from_the_catalogue():
    error = fake_refusal("voxtral-mini-transcribe-3-0", granularities=["segment", "word"])
    mismatch = translate_api_error("voxtral-mini-transcribe-3-0", "offline", error, CARDS)
    assert isinstance(mismatch, ModelMismatch)
    assert mismatch.exit_code == ExitCode.USAGE
    assert mismatch.message == (
        "model voxtral-mini-transcribe-3-0 cannot do word timestamps (the API said: "
        "Word-level segments are not enabled for this model)"
    )
    assert mismatch.hint == "word timestamps: use -m voxtral-mini-latest (voxtral-mini-2602)"
    unlisted = translate_api_error("voxtral-mini-transcribe-3-0", "offline", error)
    assert unlisted is not None
    assert (
        unlisted.hint
        == "choose another model with -m; `voxcli models` lists what each model can do"
    )


@pytest.mark.parametrize(
    ("model", "request_", "says"),
    [
        ("voxtral-small-2507", {}, "cannot do offline transcription"),
        ("voxtral-mini-transcribe-3-0", {"language": "xx"}, "cannot do language xx"),
        ("voxtral-mini-transcribe-realtime-2602", {}, "cannot do offline transcription"),
    ],
)
def test_other_capability_refusals_are_translated(model, request_, says):
    mismatch = translate_api_error(model, "offline", fake_refusal(model, **request_), CARDS)
    assert isinstance(mismatch, ModelMismatch)
    assert mismatch.message.startswith(f"model {model} {says} (the API said: ")


@pytest.mark.parametrize(
    ("detail", "says", "hint"),
    [
        (
            "Diarization is not enabled for this model",
            "cannot do diarization",
            "diarization: use -m voxtral-mini-transcribe-latest (voxtral-mini-transcribe-3-0)",
        ),
        (
            "Context bias is not enabled for this model",
            "cannot do context bias",
            "context bias: use -m voxtral-mini-transcribe-latest (voxtral-mini-transcribe-3-0)",
        ),
    ],
)
def test_diarization_and_bias_refusals_are_translated(detail, says, hint):
    mismatch = translate_refusal("plain-offline", "offline", 400, detail, (*CARDS, PLAIN_OFFLINE))
    assert isinstance(mismatch, ModelMismatch)
    assert mismatch.message == f"model plain-offline {says} (the API said: {detail})"
    assert mismatch.hint == hint


def test_a_context_overflow_is_translated_with_the_split_the_model_needs():
    error = fake_refusal("voxtral-mini-transcribe-3-0", audio_seconds=2 * 3600.0)
    mismatch = translate_api_error("voxtral-mini-transcribe-3-0", "offline", error, CARDS)
    assert isinstance(mismatch, ModelMismatch)
    assert mismatch.message.startswith(
        "the request is too long for model voxtral-mini-transcribe-3-0 (the API said: The audio "
        "and context_bias need 90000 tokens"
    )
    assert mismatch.hint == (
        "voxtral-mini-transcribe-3-0 holds ≈ 1 h 5 min of audio per request: split it with "
        "--split-minutes 65, or pass fewer --bias terms"
    )
    chat = translate_refusal(
        "voxtral-small-latest",
        "chat",
        400,
        "Prompt contains 40000 tokens, too large for model with 32768 maximum context length",
    )
    assert chat is not None and chat.hint == "send shorter audio or a shorter prompt"


def test_speaker_reference_refusals_are_translated():
    too_many = translate_refusal(
        "m", "offline", 400, "At most 8 speaker references are supported, got 9"
    )
    assert isinstance(too_many, ModelMismatch)
    assert too_many.message == "at most 8 speaker references are allowed per request, got 9"
    assert too_many.hint == "pass at most 8 --speaker clips"
    alone = translate_refusal("m", "offline", 400, "speaker_references requires diarize=true")
    assert alone is not None and alone.hint == "add --diarize"


def test_a_404_about_the_model_is_an_unknown_model_and_other_answers_pass_through():
    error = status_error(
        404, "Invalid model: voxtral-mini-2507 does not exist or you do not have access", WHERE
    )
    assert isinstance(error, ApiError)
    unknown = translate_api_error("voxtral-mini-2507", "chat", error)
    assert isinstance(unknown, UnknownModel)
    assert "-m voxtral-small-latest" in (unknown.hint or "")
    assert translate_refusal("m", "offline", 404, "File f-1 not found") is None
    assert translate_refusal("m", "offline", 500, "Word-level segments are not enabled") is None
    assert translate_refusal("m", "offline", 400, "Exactly one of file, file_url") is None
    assert translate_refusal("m", "offline", 400, "context_bias accepts at most 100 terms") is None
    assert translate_refusal("m", "offline", 400, None) is None
    assert translate_refusal("m", "offline", None, "Diarization is not enabled") is None


# -- the listing -------------------------------------------------------------------------------


def test_the_table_has_one_aligned_line_per_audio_model():
    lines = render_table(CARDS).splitlines()
    assert lines[0].split() == [
        "MODEL",
        "ALIASES",
        "USE",
        "TIMESTAMPS",
        "DIARIZE",
        "BIAS",
        "LANGUAGES",
        "MAX",
        "AUDIO",
        "DEPRECATED",
    ]
    ids = [line.split()[0] for line in lines[1:]]
    assert ids == sorted(c.id for c in CARDS if c.is_audio)
    assert all(line == line.rstrip() for line in lines)
    column = lines[0].index("USE")
    assert {line[column - 2 : column] for line in lines} == {"  "}  # every row aligned
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["voxtral-mini-transcribe-3-0"].split()[1:] == [
        "voxtral-mini-transcribe-3,voxtral-mini-transcribe-latest",
        "offline",
        "segment",
        "yes",
        "yes",
        "en,fr,es,de",
        "+9",
        "≈",
        "1",
        "h",
        "5",
        "min",
        "-",
    ]
    assert "segment,word" in rows["voxtral-mini-2602"]
    assert "≈ 2 h 11 min" in rows["voxtral-mini-2602"]
    assert rows["voxtral-mini-transcribe-realtime-2602"].endswith(
        "2027-03-31 → voxtral-mini-transcribe-realtime-3-0"
    )
    chat = rows["voxtral-small-2507"].split()
    assert chat[1:7] == ["voxtral-small-latest", "chat", "-", "-", "-", "-"]


def test_all_includes_models_without_audio_and_server_text_is_made_safe():
    assert "mistral-small-2506" not in render_table(CARDS)
    assert "mistral-small-2506" in render_table(CARDS, include_all=True)
    sneaky = ModelCard(id="evil\x1b[31m", aliases=("a\nb",), audio=True)
    row = render_table([sneaky]).splitlines()[1]
    assert "\x1b" not in row and "\n" not in row
    assert row.split()[:3] == ["evil", "[31m", "a"]


def test_the_json_form():
    data = models_json(CARDS)
    assert json.loads(json.dumps(data)) == data
    by_id = {item["id"]: item for item in data}
    assert "mistral-small-2506" not in by_id
    mini = by_id["voxtral-mini-transcribe-3-0"]
    assert mini["uses"] == ["offline"]
    assert mini["timestamp_granularities"] == ["segment"]
    assert mini["diarization"] is True
    assert mini["max_audio_seconds"] == pytest.approx(3909.8, abs=0.1)
    assert by_id["voxtral-small-2507"]["diarization"] is None  # the card does not say
    old = by_id["voxtral-mini-transcribe-realtime-2602"]
    assert old["deprecation"] == "2027-03-31T00:00:00+00:00"
    assert old["streaming_delays_ms"] == [[80, 1200], [2400, 2400]]
    assert {item["id"] for item in models_json(CARDS, include_all=True)} == {c.id for c in CARDS}


def test_lengths_and_language_lists():
    assert format_audio_length(3909.8) == "≈ 1 h 5 min"
    assert format_audio_length(7200) == "≈ 2 h"
    assert format_audio_length(45 * 60 + 59) == "≈ 45 min"
    assert format_audio_length(42.7) == "≈ 42 s"
    assert language_summary(["en", "fr"]) == "en,fr"
    assert language_summary(["a", "b", "c", "d", "e", "f"]) == "a,b,c,d +2"


# -- the cache -------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """A fetch that counts its calls and answers with ``cards`` or raises ``error``."""

    def __init__(self, cards=CARDS, error: Exception | None = None) -> None:
        self.cards = tuple(cards)
        self.error = error
        self.calls = 0

    def __call__(self) -> tuple[ModelCard, ...]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.cards


def catalog(tmp_path: Path, fetch: Fetcher, clock: Clock, server: str | None = WHERE):
    return ModelCatalog(tmp_path / "cache", server, fetch, now=clock)


def test_the_first_lookup_fetches_and_later_ones_use_the_file(tmp_path):
    clock, fetch = Clock(), Fetcher()
    first = catalog(tmp_path, fetch, clock)
    assert first.lookup("voxtral-mini-transcribe-latest") == card("voxtral-mini-transcribe-3-0")
    assert first.lookup("voxtral-mini-2602") == card("voxtral-mini-2602")
    assert fetch.calls == 1
    assert first.path == cache_path(tmp_path / "cache", WHERE)
    assert first.path.parent == tmp_path / "cache" / "models"
    for _ in range(10):
        again = catalog(tmp_path, fetch, clock)
        assert again.lookup("voxtral-small-latest") == card("voxtral-small-2507")
    assert fetch.calls == 1
    assert again.cards() == CARDS
    names = [f"names-{kind}.txt" for kind in ("chat", "offline", "realtime")]
    assert sorted(p.name for p in first.path.parent.iterdir()) == sorted(
        [first.path.name, *names]
    )  # no temp files


def test_the_file_is_valid_for_one_day(tmp_path):
    clock, fetch = Clock(), Fetcher()
    catalog(tmp_path, fetch, clock).cards()
    clock.now += CACHE_TTL_SECONDS - 1
    catalog(tmp_path, fetch, clock).cards()
    assert fetch.calls == 1
    clock.now += 1
    catalog(tmp_path, fetch, clock).cards()
    assert fetch.calls == 2
    clock.now -= 3600  # a clock set back: the file looks written in the future
    catalog(tmp_path, fetch, clock).cards()
    assert fetch.calls == 3


def test_a_name_missing_from_a_cached_catalogue_is_looked_for_once_in_a_fresh_one(tmp_path):
    clock = Clock()
    catalog(tmp_path, Fetcher(), clock).cards()
    newer = wire("voxtral-next", capabilities=["audio", "audio_transcription"])
    fetch = Fetcher([*CARDS, newer])
    cached = catalog(tmp_path, fetch, clock)
    assert cached.lookup("voxtral-next") == newer
    assert cached.lookup("voxtral-mini-2507") is None
    assert cached.lookup("voxtral-mini-2507") is None
    assert fetch.calls == 1
    assert catalog(tmp_path, fetch, clock).lookup("voxtral-next") == newer
    assert fetch.calls == 1  # the refetched cards were written back


def test_an_unavailable_endpoint_means_unchecked_and_is_tried_once(tmp_path):
    failure = ApiError("http://fake refused the request (HTTP 404): Not Found", status=404)
    fetch = Fetcher(error=failure)
    cat = catalog(tmp_path, fetch, Clock())
    assert cat.unavailable is None
    for _ in range(5):
        assert cat.lookup("voxtral-mini-transcribe-latest") == Unchecked(failure.message)
    assert cat.unavailable == Unchecked(failure.message)
    with pytest.raises(ApiError) as caught:
        cat.cards()
    assert caught.value is failure
    assert fetch.calls == 1
    assert not cat.path.exists()


def test_a_refused_key_is_not_unavailable(tmp_path):
    cat = catalog(tmp_path, Fetcher(error=AuthError("the API key was rejected")), Clock())
    with pytest.raises(AuthError):
        cat.lookup("voxtral-mini-transcribe-latest")


def test_refresh_refetches_once(tmp_path):
    clock, fetch = Clock(), Fetcher()
    catalog(tmp_path, fetch, clock).cards()
    cat = catalog(tmp_path, fetch, clock)
    fetch.cards = (card("voxtral-mini-2602"),)
    assert cat.lookup("voxtral-mini-transcribe-latest") is not None  # from the file
    cat.refresh()
    cat.refresh()
    assert fetch.calls == 2
    assert cat.lookup("voxtral-mini-transcribe-latest") is None
    assert cat.cards() == (card("voxtral-mini-2602"),)
    assert catalog(tmp_path, fetch, clock).cards() == (card("voxtral-mini-2602"),)


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"version": 99, "server": "http://fake", "fetched_at": 1800000000, "cards": []}',
        b'{"version": 1, "server": "http://other", "fetched_at": 1800000000, "cards": []}',
        b'{"version": 1, "server": "http://fake", "fetched_at": "today", "cards": []}',
        b'{"version": 1, "server": "http://fake", "fetched_at": true, "cards": []}',
        b'{"version": 1, "server": "http://fake", "fetched_at": 1800000000, "cards": {}}',
        b'{"version": 1, "server": "http://fake", "fetched_at": 1800000000, "cards": [{}]}',
    ],
)
def test_a_damaged_file_is_treated_as_absent_and_replaced(tmp_path, content):
    clock, fetch = Clock(), Fetcher()
    path = cache_path(tmp_path / "cache", WHERE)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert catalog(tmp_path, fetch, clock).lookup("voxtral-mini-latest") == card(
        "voxtral-mini-2602"
    )
    assert fetch.calls == 1
    assert json.loads(path.read_text())["cards"][0]["id"] == CARDS[0].id


def test_a_cache_that_cannot_be_written_is_only_a_lost_saving(tmp_path):
    (tmp_path / "cache").write_text("a file where the directory should be")
    fetch = Fetcher()
    cat = catalog(tmp_path, fetch, Clock())
    assert cat.lookup("voxtral-mini-latest") == card("voxtral-mini-2602")
    assert cat.cards() == CARDS
    assert fetch.calls == 1


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "models" / "x.json"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InputError, match="disk full"):
        write_atomic(target, "{}", private=True)
    assert list(target.parent.iterdir()) == []
    cat = ModelCatalog(tmp_path, WHERE, Fetcher(), now=Clock())
    assert cat.lookup("voxtral-mini-latest") == card("voxtral-mini-2602")
    assert list(target.parent.iterdir()) == []


def test_an_existing_file_is_replaced_whole(tmp_path):
    target = tmp_path / "models" / "x.json"
    target.parent.mkdir()
    target.write_text("old and long " * 100)
    write_atomic(target, '{"new": 1}', private=True)
    assert target.read_text() == '{"new": 1}'
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_each_server_has_its_own_file(tmp_path):
    base = tmp_path / "cache"
    assert cache_path(base, None) == cache_path(base, "https://api.mistral.ai/")
    assert cache_path(base, WHERE) == cache_path(base, WHERE + "/")
    assert cache_path(base, WHERE) != cache_path(base, None)
    clock = Clock()
    catalog(tmp_path, Fetcher(), clock, server=None).cards()
    fetch = Fetcher([card("voxtral-mini-2602")])
    assert catalog(tmp_path, fetch, clock, server=WHERE).cards() == (card("voxtral-mini-2602"),)
    assert fetch.calls == 1


def test_cached_model_ids_reads_every_server_file(tmp_path):
    base = tmp_path / "cache"
    assert cached_model_ids(base) == []
    clock = Clock()
    catalog(tmp_path, Fetcher([card("voxtral-mini-2602")]), clock, server=None).cards()
    catalog(tmp_path, Fetcher([card("voxtral-small-2507")]), clock, server=WHERE).cards()
    (base / "models" / "broken.json").write_text("{")
    clock.now += 10 * CACHE_TTL_SECONDS  # expired files still name models
    assert cached_model_ids(base) == [
        "voxtral-mini-2602",
        "voxtral-mini-latest",
        "voxtral-small-2507",
        "voxtral-small-latest",
    ]


# -- the plain-text name lists the completion scripts read -----------------------------------


def names_file(base: Path, kind: str) -> list[str]:
    return (base / "models" / f"names-{kind}.txt").read_text(encoding="utf-8").splitlines()


def test_storing_a_catalogue_writes_a_name_list_per_kind(tmp_path):
    from voxcli.catalog.cache import names_path

    base = tmp_path / "cache"
    catalog(tmp_path, Fetcher(), Clock()).cards()
    assert names_path(base, "offline") == base / "models" / "names-offline.txt"
    offline = names_file(base, "offline")
    assert offline == sorted(offline)
    assert {
        "voxtral-mini-transcribe-3-0",
        "voxtral-mini-transcribe-3",
        "voxtral-mini-transcribe-latest",
        "voxtral-small-transcribe-latest",
        "voxtral-mini-2602",
        "voxtral-mini-latest",
    } <= set(offline)
    assert "voxtral-small-latest" not in offline
    assert not any("realtime" in name for name in offline)
    assert names_file(base, "chat") == ["voxtral-small-2507", "voxtral-small-latest"]
    assert set(names_file(base, "realtime")) == {
        "voxtral-mini-transcribe-realtime-3-0",
        "voxtral-mini-transcribe-realtime-3",
        "voxtral-mini-transcribe-realtime-latest",
        "voxtral-mini-transcribe-realtime-2602",
    }
    every = {name for kind in ("offline", "chat", "realtime") for name in names_file(base, kind)}
    assert "mistral-small-2506" not in every  # takes no audio
    text = (base / "models" / "names-chat.txt").read_text(encoding="utf-8")
    assert text.endswith("\n") and "\n\n" not in text


def test_name_lists_are_the_union_of_every_server_and_follow_a_refresh(tmp_path):
    base = tmp_path / "cache"
    clock = Clock()
    catalog(tmp_path, Fetcher([card("voxtral-mini-2602")]), clock, server=None).cards()
    assert names_file(base, "offline") == ["voxtral-mini-2602", "voxtral-mini-latest"]
    assert names_file(base, "chat") == []
    own = ModelCard(id="my-transcriber", aliases=("mine",), audio_transcription=True)
    other = catalog(tmp_path, Fetcher([own]), clock, server=WHERE)
    other.cards()
    assert names_file(base, "offline") == [
        "mine",
        "my-transcriber",
        "voxtral-mini-2602",
        "voxtral-mini-latest",
    ]
    # A day later the server lists another model: the lists follow at the next store.
    clock.now += CACHE_TTL_SECONDS
    catalog(tmp_path, Fetcher([card("voxtral-small-2507")]), clock, server=WHERE).cards()
    assert names_file(base, "offline") == ["voxtral-mini-2602", "voxtral-mini-latest"]
    assert names_file(base, "chat") == ["voxtral-small-2507", "voxtral-small-latest"]


def test_name_lists_leave_out_names_that_are_not_one_word(tmp_path):
    from voxcli.catalog.cache import write_name_lists

    base = tmp_path / "cache"
    odd = ModelCard(
        id="fine-1", aliases=("two words", "new\nline", "tab\there", ""), audio_transcription=True
    )
    catalog(tmp_path, Fetcher([odd]), Clock()).cards()
    assert names_file(base, "offline") == ["fine-1"]
    write_name_lists(base)  # unchanged lists are left alone
    assert names_file(base, "offline") == ["fine-1"]


def test_name_lists_are_written_atomically_and_their_failure_is_no_error(tmp_path, monkeypatch):
    import voxcli.catalog.cache as cache_module

    written: list[str] = []
    real = cache_module.write_atomic

    def spy(path: Path, text: str, *, private: bool = False) -> None:
        assert private
        written.append(path.name)
        real(path, text, private=private)

    monkeypatch.setattr(cache_module, "write_atomic", spy)
    catalog(tmp_path, Fetcher(), Clock()).cards()
    assert sorted(written[1:]) == ["names-chat.txt", "names-offline.txt", "names-realtime.txt"]

    def fail(path: Path, text: str, *, private: bool = False) -> None:
        if path.name.startswith("names-"):
            raise InputError(f"cannot write {path}: disk full")
        real(path, text, private=private)

    monkeypatch.setattr(cache_module, "write_atomic", fail)
    fetch = Fetcher([card("voxtral-mini-2602")])
    fresh = catalog(tmp_path, fetch, Clock(), server="http://other")
    assert fresh.lookup("voxtral-mini-2602") == card("voxtral-mini-2602")  # no error
    assert fresh.path.is_file()


def test_the_cache_is_private(tmp_path):
    cat = catalog(tmp_path, Fetcher(), Clock())
    cat.cards()
    assert cat.path.stat().st_mode & 0o777 == 0o600
    assert cat.path.parent.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in cat.path.parent.iterdir())
