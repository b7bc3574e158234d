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
