"""The pure request builders of ``chat`` and ``detect-lang``: every flag rule, no I/O.

``transcribe``'s table is in ``test_engine.py``. Settings come from an empty environment,
so nothing here reads a file, stdin or the network.
"""

from __future__ import annotations

import pytest

from voxcli.commands.chat.request import ChatFlags, build_chat_request
from voxcli.commands.common import ConnectionFlags
from voxcli.commands.detect_lang.request import DetectFlags, build_detect_request
from voxcli.config import CHAT_MODEL_SETTING, resolve_settings
from voxcli.errors import UsageError

SETTINGS = resolve_settings(env={})
CHAT_SETTINGS = resolve_settings(env={}, model_setting=CHAT_MODEL_SETTING)


class NeverRead:
    """A stdin that fails the test if anything reads it."""

    def read(self, *args: object) -> str:
        raise AssertionError("stdin was read")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (ChatFlags(sources=("a.wav", "-", "-"), prompt="Q"), "only once"),
        (ChatFlags(sources=("-",), prompt="Q", api_key_file="-"), "both the audio"),
        (ChatFlags(sources=("-",), prompt="Q", stdin_isatty=True), "stdin is a terminal"),
        (ChatFlags(sources=("a.wav",), stdin_isatty=True), "no question"),
        (ChatFlags(sources=("-",)), "no question"),
        (ChatFlags(sources=("a.wav",), api_key_file="-"), "no question"),
        (ChatFlags(sources=("a.wav",), prompt="   "), "no question"),
    ],
)
def test_chat_request_rules(flags, message):
    with pytest.raises(UsageError, match=message):
        build_chat_request(flags, CHAT_SETTINGS)


def test_chat_request_keeps_clip_order_and_repeats_and_strips_the_prompt():
    request = build_chat_request(
        ChatFlags(sources=("b.wav", "a.wav", "b.wav"), prompt="  Who speaks?\n", stream=False),
        CHAT_SETTINGS,
    )
    assert [clip.raw for clip in request.clips] == ["b.wav", "a.wav", "b.wav"]
    assert request.prompt == "Who speaks?"
    assert request.answer == "whole"
    assert request.params.model == CHAT_SETTINGS.model


def test_chat_request_leaves_the_question_to_stdin_when_it_is_free():
    request = build_chat_request(ChatFlags(sources=("a.wav",), as_json=True), CHAT_SETTINGS)
    assert request.prompt is None  # read by the runner, not by the pure builder
    assert request.answer == "json"
    assert not request.audio_on_stdin


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (DetectFlags(), "no SOURCE given"),
        (DetectFlags(sources=("-", "-")), "only once"),
        (DetectFlags(sources=("-",), api_key_file="-"), "both the audio"),
        (DetectFlags(sources=("-",), stdin_isatty=True), "stdin is a terminal"),
        (DetectFlags(sources=("a.wav",), sample=float("nan")), "--sample"),
    ],
)
def test_detect_request_rules(flags, message):
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        build_detect_request(flags, SETTINGS)


def test_detect_request_output_shape_follows_what_was_typed():
    one = build_detect_request(DetectFlags(sources=("a.wav",)), SETTINGS)
    same_twice = build_detect_request(DetectFlags(sources=("a.wav", "./a.wav")), SETTINGS)
    assert not one.several
    assert same_twice.several
    assert len(same_twice.sources) == 1  # sent once
    assert one.model == SETTINGS.model


def test_connection_flags_are_read_by_name_from_the_parsed_command_line():
    params = {"api_key_file": "k", "server_url": "http://x", "timeout": 3.0, "jobs": 4}
    assert ConnectionFlags.of(params) == ConnectionFlags(
        api_key_file="k", server_url="http://x", timeout=3.0
    )


def test_a_bias_term_over_100_characters_is_a_usage_error():
    from voxcli.commands.transcribe.request import TranscribeFlags, build_request

    with pytest.raises(UsageError, match="at most 100 characters"):
        build_request(TranscribeFlags(sources=("a.wav",), bias=("x" * 101,)), SETTINGS)
    build_request(TranscribeFlags(sources=("a.wav",), bias=("x" * 100,)), SETTINGS)


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a%00b.mp3", "https://example.com/a b.mp3", "https://e.com/\x1b.mp3"],
)
def test_a_url_source_with_nul_space_or_control_characters_is_refused(url):
    with pytest.raises(UsageError, match="not a valid URL"):
        build_detect_request(DetectFlags(sources=(url,)), SETTINGS)


@pytest.mark.parametrize("code", ["xx", "qq", "zz"])
def test_a_two_letter_code_outside_iso_639_1_is_refused(code):
    from voxcli.commands.transcribe.request import TranscribeFlags, build_request

    with pytest.raises(UsageError, match="not an ISO 639-1 language code"):
        build_request(TranscribeFlags(sources=("a.wav",), language=code), SETTINGS)
    assert build_request(TranscribeFlags(sources=("a.wav",), language="FR"), SETTINGS)


# -- --audio-track (issue 14): kept in every request, refused where it cannot apply -------------

URL = "https://example.com/talk.mp4"


def _transcribe(**kwargs):
    from voxcli.commands.transcribe.request import TranscribeFlags, build_request

    return build_request(TranscribeFlags(**kwargs), SETTINGS)


def _submit(**kwargs):
    from voxcli.commands.batch.request import SubmitFlags, build_submit_request
    from voxcli.commands.transcribe.request import TranscribeFlags

    retry = kwargs.pop("retry_failed", None)
    flags = SubmitFlags(TranscribeFlags(**kwargs), retry_failed=retry)
    return build_submit_request(flags, SETTINGS)


def _live(**kwargs):
    from voxcli.commands.live.request import LiveFlags, build_live_request
    from voxcli.config import REALTIME_MODEL_SETTING

    settings = resolve_settings(env={}, model_setting=REALTIME_MODEL_SETTING)
    return build_live_request(LiveFlags(**kwargs), settings)


def _detect(**kwargs):
    return build_detect_request(DetectFlags(**kwargs), SETTINGS)


@pytest.mark.parametrize(
    ("build", "kwargs", "message"),
    [
        (_transcribe, {"sources": ("a.mkv",), "audio_track": -1}, "counts audio streams from 0"),
        (_transcribe, {"sources": ("a.mkv", URL), "audio_track": 0}, "applies to local files"),
        (_detect, {"sources": ("a.mkv",), "audio_track": -1}, "counts audio streams from 0"),
        (_detect, {"sources": (URL,), "audio_track": 1}, "applies to local files"),
        (_submit, {"sources": (URL,), "output_dir": "out", "audio_track": 1}, "local files"),
        (_submit, {"retry_failed": "k3x9qa", "audio_track": 1}, "cannot take --audio-track"),
        (_live, {"audio_track": 0}, "the microphone has no streams"),
        (_live, {"source": "a.mkv", "audio_track": -1}, "counts audio streams from 0"),
    ],
    ids=[
        "transcribe-negative",
        "transcribe-url",
        "detect-negative",
        "detect-url",
        "submit-url",
        "submit-retry",
        "live-microphone",
        "live-negative",
    ],
)
def test_audio_track_rules(build, kwargs, message):
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        build(**kwargs)


@pytest.mark.parametrize("track", [None, 0, 2])
def test_audio_track_goes_into_every_request(track):
    from pathlib import Path

    assert _transcribe(sources=("a.mkv", "-"), audio_track=track).audio_track == track
    assert _detect(sources=("a.mkv",), audio_track=track).audio_track == track
    submit = _submit(sources=("a.mkv",), output_dir=Path("out"), audio_track=track)
    assert submit.transcribe is not None and submit.transcribe.audio_track == track
    for source in ("a.mkv", "-", URL):  # live decodes URLs itself: a stream can be picked
        assert _live(source=source, audio_track=track).audio_track == track
