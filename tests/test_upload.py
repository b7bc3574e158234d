"""Smart upload end to end: what the fake server receives for each kind of input,
and no temporary file left behind however the run ends."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env

from voxcli.api import MistralApi

SECONDS = 7.3


@pytest.fixture
def stereo_wav(tmp_path: Path) -> Path:
    return make_tone_wav(tmp_path / "talk.wav", SECONDS, samplerate=44100, channels=2)


def received(server):
    [request] = server.transcription_requests()
    return request.file()


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [("talk.wav", 44100, 2), ("talk.aiff", 48000, 2), ("talk.flac", 44100, 1)],
)
def test_lossless_input_arrives_as_16k_mono_flac_of_the_same_duration(
    api_env, tmp_path, temp_dir, name, rate, channels
):
    src = make_tone_wav(tmp_path / name, SECONDS, samplerate=rate, channels=channels)
    result = run_cli("transcribe", str(src))
    assert result.exit_code == 0, result.stderr
    upload = received(api_env)
    assert upload.filename == "talk.flac"
    assert upload.content_type == "audio/flac"
    info = sf.info(io.BytesIO(upload.data))
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        "FLAC",
        "PCM_16",
        16000,
        1,
    )
    assert info.frames / info.samplerate == pytest.approx(SECONDS, abs=0.010)
    assert upload.size < src.stat().st_size
    assert list(temp_dir.iterdir()) == []


def test_a_44k_stereo_wav_sends_many_times_fewer_bytes(api_env, stereo_wav):
    assert run_cli("transcribe", str(stereo_wav)).exit_code == 0
    assert received(api_env).size * 8 < stereo_wav.stat().st_size


@pytest.mark.parametrize("fixture", ["mp3_file", "ogg_file"])
def test_compressed_input_arrives_byte_identical(api_env, request, temp_dir, fixture):
    src: Path = request.getfixturevalue(fixture)
    result = run_cli("transcribe", str(src))
    assert result.exit_code == 0, result.stderr
    upload = received(api_env)
    assert upload.filename == src.name
    assert upload.data == src.read_bytes()
    assert list(temp_dir.iterdir()) == []


def test_opus_arrives_byte_identical(api_env, tmp_path):
    src = make_tone_wav(tmp_path / "memo.opus", 3.0, samplerate=48000, subtype="OPUS")
    assert run_cli("transcribe", str(src)).exit_code == 0
    assert received(api_env).data == src.read_bytes()


def test_16k_mono_flac_is_sent_as_is(api_env, flac_file):
    assert run_cli("transcribe", str(flac_file)).exit_code == 0
    assert received(api_env).data == flac_file.read_bytes()


def test_upload_original_sends_the_file_untouched(api_env, stereo_wav, temp_dir):
    result = run_cli("transcribe", str(stereo_wav), "--upload", "original", "-v")
    assert result.exit_code == 0, result.stderr
    upload = received(api_env)
    assert upload.filename == "talk.wav"
    assert upload.data == stereo_wav.read_bytes()
    assert "as is" in result.stderr
    assert list(temp_dir.iterdir()) == []


def test_stdin_wav_is_reencoded_and_the_spool_file_removed(api_env, stereo_wav, temp_dir):
    result = run_cli("transcribe", "-", stdin=stereo_wav.read_bytes())
    assert result.exit_code == 0, result.stderr
    upload = received(api_env)
    assert upload.filename == "stdin.flac"
    assert upload.duration == pytest.approx(SECONDS, abs=0.010)
    assert list(temp_dir.iterdir()) == []


def test_no_temp_file_after_a_server_error(api_env, stereo_wav, temp_dir):
    api_env.fail_next(503, times=5)
    result = run_cli("transcribe", "-", "--retries", "1", stdin=stereo_wav.read_bytes())
    assert result.exit_code == 1
    assert len(api_env.transcription_requests()) == 2
    assert list(temp_dir.iterdir()) == []


def test_no_temp_file_after_ctrl_c_during_the_upload(api_env, stereo_wav, temp_dir, mocker):
    seen: list[list[str]] = []

    def interrupted(self, params, payload, on_upload=None):
        # The runner keeps a run's temporary files in a private folder of its own.
        seen.append(sorted(p.name for p in temp_dir.rglob("*") if p.is_file()))
        raise KeyboardInterrupt

    mocker.patch.object(MistralApi, "transcribe", interrupted)
    result = run_cli("transcribe", "-", stdin=stereo_wav.read_bytes())
    assert result.exit_code == 130
    [names] = seen
    assert len(names) == 2  # the spooled stdin and the FLAC being sent existed...
    assert list(temp_dir.iterdir()) == []  # ...and are gone


def test_no_temp_file_after_sigint_to_a_real_process(fake_server, stereo_wav, tmp_path):
    fake_server.slow_next(60)
    tmp = tmp_path / "proc-tmp"
    tmp.mkdir()
    env = subprocess_env(fake_server, TMPDIR=str(tmp))
    with stereo_wav.open("rb") as audio_in:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voxcli", "transcribe", "-"],
            env=env,
            stdin=audio_in,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    try:
        [request] = fake_server.wait_for_requests(1, timeout=60)
        deadline = time.monotonic() + 30
        while request.body_read_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # spooled stdin + FLAC (in the run's private folder), while the request waits
        assert len([p for p in tmp.rglob("*") if p.is_file()]) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert out == b""
    assert list(tmp.iterdir()) == []
