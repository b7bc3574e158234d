"""``--stream`` is one request: it refuses what would need a split, before anything is sent,
and ``-v`` says what it uploads, as a non-streamed transcription does."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli

from voxcli.env import Limits


@pytest.fixture
def stereo_wav(tmp_path: Path) -> Path:
    return make_tone_wav(tmp_path / "talk.wav", 20.0, samplerate=44100, channels=2)


def test_stream_with_split_minutes_is_a_usage_error(api_env, stereo_wav):
    result = run_cli("transcribe", "--stream", str(stereo_wav), "--split-minutes", "5")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--stream sends the recording in one request, so it cannot be split" in result.stderr
    assert "drop --stream" in result.stderr
    assert api_env.requests == []


def test_stream_with_split_minutes_is_refused_before_the_key_is_needed(
    api_env, stereo_wav, monkeypatch
):
    monkeypatch.delenv("MISTRAL_API_KEY")
    result = run_cli("transcribe", "--stream", "-", "--split-minutes", "5", stdin=b"RIFF")
    assert result.exit_code == 2
    assert "cannot be split with --split-minutes" in result.stderr


def test_stream_of_a_url_with_split_minutes_is_refused_too(api_env):
    result = run_cli(
        "transcribe", "--stream", "https://example.com/talk.mp3", "--split-minutes", "5"
    )
    assert result.exit_code == 2
    assert api_env.requests == []


@pytest.mark.parametrize("upload", ["auto", "original"])
def test_stream_over_the_upload_limit_is_refused_before_sending(
    api_env, stereo_wav, monkeypatch, temp_dir, upload
):
    # auto: the 16 kHz mono FLAC (~0.6 MB) is over the limit; original: the 3.5 MB WAV is
    limits = Limits(max_upload_bytes=100_000)
    result = run_cli("transcribe", "--stream", str(stereo_wav), "--upload", upload, limits=limits)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert "--stream sends the audio in one request" in result.stderr
    assert "over the API's 100 KB limit" in result.stderr
    assert "hint: drop --stream: voxcli then cuts it at quiet points" in result.stderr
    assert api_env.work_requests() == []
    assert list(temp_dir.iterdir()) == []


def test_the_same_recording_without_stream_is_split(api_env, stereo_wav, monkeypatch):
    """What the hint promises."""
    limits = Limits(max_upload_bytes=400_000)
    result = run_cli("transcribe", str(stereo_wav), limits=limits)
    assert result.exit_code == 0, result.stderr
    assert len(api_env.transcription_requests()) >= 2


def test_stream_of_an_undecodable_file_over_the_limit_says_to_convert(
    api_env, tmp_path, monkeypatch
):
    m4a = tmp_path / "talk.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + bytes(2000))
    limits = Limits(max_upload_bytes=1000)
    result = run_cli("transcribe", "--stream", str(m4a), limits=limits)
    assert result.exit_code == 2
    assert "voxcli cannot cut MP4 files: convert it to FLAC first" in result.stderr
    assert api_env.work_requests() == []


def test_stream_at_the_limit_is_sent(api_env, stereo_wav, monkeypatch):
    limits = Limits(max_upload_bytes=stereo_wav.stat().st_size)
    result = run_cli(
        "transcribe", "--stream", str(stereo_wav), "--upload", "original", limits=limits
    )
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.file().size == stereo_wav.stat().st_size


@pytest.mark.parametrize("upload", ["auto", "original"])
def test_verbose_stream_prints_the_same_upload_summary(api_env, stereo_wav, upload):
    streamed = run_cli("transcribe", "--stream", str(stereo_wav), "-v", "--upload", upload)
    assert streamed.exit_code == 0, streamed.stderr
    whole = run_cli("transcribe", str(stereo_wav), "-v", "--upload", upload)
    assert whole.exit_code == 0, whole.stderr
    line = next(x for x in whole.stderr.splitlines() if ": sending " in x)
    assert line in streamed.stderr.splitlines()
    if upload == "auto":
        assert "of 16 kHz mono FLAC instead of" in line
    else:
        assert line.endswith("as is")


def test_quiet_stream_prints_no_summary(api_env, stereo_wav):
    result = run_cli("transcribe", "--stream", str(stereo_wav))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
