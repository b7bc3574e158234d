"""Behaviour chat and detect-lang share with transcribe: quiet, stdin naming, models, odd input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli

DATA = Path(__file__).parent / "data"
MP3 = str(DATA / "speech.mp3")


@pytest.fixture
def noisy_config(api_env, monkeypatch, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('colour = "red"\n')
    config.chmod(0o600)
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    return api_env


@pytest.mark.parametrize(
    "args",
    [("chat", "-q", MP3, "-p", "hi", "--json"), ("detect-lang", "-q", MP3)],
    ids=["chat", "detect-lang"],
)
def test_quiet_silences_config_warnings_in_every_command(noisy_config, args):
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_detect_lang_names_stdin_in_errors(api_env):
    result = run_cli("detect-lang", "-", stdin=b"not audio at all\n")
    assert result.exit_code == 2
    assert "audio on stdin is not an audio file" in result.stderr
    assert "/tmp" not in result.stderr


def test_detect_lang_output_shape_follows_what_was_typed(api_env):
    result = run_cli("detect-lang", MP3, MP3)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{MP3}\ten\n"
    assert len(api_env.transcription_requests()) == 1


def test_detect_lang_samples_long_compressed_audio(api_env, tmp_path):
    wav = tmp_path / "long.wav"
    make_tone_wav(wav, 90, samplerate=44100, channels=2)
    ogg = tmp_path / "long.ogg"
    import soundfile

    # Block-wise: libsndfile's Vorbis encoder crashes on very large single writes.
    with (
        soundfile.SoundFile(wav) as src,
        soundfile.SoundFile(
            ogg, "w", src.samplerate, src.channels, format="OGG", subtype="VORBIS"
        ) as dst,
    ):
        for block in src.blocks(blocksize=4096):
            dst.write(block)
    result = run_cli("detect-lang", str(ogg), "--sample", "10")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    upload = request.files["file"][0]
    assert upload.filename.endswith(".flac")
    assert upload.duration == pytest.approx(10.0, abs=0.05)


def test_non_utf8_question_on_stdin_is_a_usage_error(api_env):
    result = run_cli("chat", MP3, stdin=b"\xff\xfebad")
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr
    assert api_env.requests == []


def test_chat_has_its_own_model_setting(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_MODEL", "voxtral-mini-2602")
    monkeypatch.setenv("VOXCLI_CHAT_MODEL", "voxtral-small-latest")
    assert run_cli("chat", MP3, "-p", "hi", "--no-stream").exit_code == 0
    assert run_cli("transcribe", MP3).exit_code == 0
    [chat] = api_env.chat_requests()
    [transcription] = api_env.transcription_requests()
    assert chat.json["model"] == "voxtral-small-latest"
    assert transcription.fields["model"] == ["voxtral-mini-2602"]


def test_chat_ignores_the_transcription_model_setting(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_MODEL", "voxtral-mini-2602")
    result = run_cli("chat", MP3, "-p", "hi", "--json")
    assert result.exit_code == 0, result.stderr
    assert api_env.chat_requests()[0].json["model"] == "voxtral-small-latest"
    assert json.loads(result.stdout)["answer"]
