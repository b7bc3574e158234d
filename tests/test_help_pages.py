"""Help pages show what a user types (issue 15, item 19): no Python types, and the same
exit codes in every command's epilog."""

from __future__ import annotations

import pytest
from cli_runner import run_cli

COMMANDS = [
    ("transcribe",),
    ("chat",),
    ("detect-lang",),
    ("live",),
    ("models",),
    ("batch", "submit"),
    ("batch", "collect"),
    ("completion", "show"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_no_python_types(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0, result.stderr
    for python_type in ("<bool>", "<str>", "<list[", "<int>", "<float>", "<path>"):
        assert python_type not in result.stdout, python_type


def test_flags_take_no_value_in_help_and_lists_of_choices_read_as_choices():
    text = run_cli("transcribe", "--help").stdout
    diarize = next(line for line in text.splitlines() if "--diarize" in line)
    assert diarize.split("--diarize", 1)[1].split()[0] == "Label"  # nothing between
    assert "segment|word" in text


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] != "completion"], ids=" ".join)
def test_every_epilog_names_the_same_exit_codes(command):
    text = " ".join(run_cli(*command, "--help").stdout.split())
    for code in ("2 usage or input error", "3 authentication", "141 stdout closed early"):
        assert code in text
    assert "143" in text


@pytest.mark.parametrize(
    "command", [("transcribe",), ("detect-lang",), ("batch", "submit"), ("live",)], ids=" ".join
)
def test_audio_track_is_offered_where_audio_is_decoded(command):
    text = " ".join(run_cli(*command, "--help").stdout.replace("│", " ").split())
    assert "--audio-track N" in text
    assert "counting audio streams only, from 0" in text
    assert "Not for URLs that the API fetches itself" in text
