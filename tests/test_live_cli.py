"""``voxcli live`` end to end: the CLI, the real SDK's realtime client and the fake
realtime server (``tests/fake_realtime.py``) on the fake Mistral server's port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import srt
from cli_runner import run_cli, subprocess_env
from fake_mistral import SENTENCES, FakeMistral
from fake_realtime import FakeRealtime
from test_live_sources import FakeRawInputStream, fake_sounddevice

DATA = Path(__file__).parent / "data"
WAV = DATA / "speech.wav"


@pytest.fixture
def rt(api_env: FakeMistral) -> Iterator[FakeRealtime]:
    with FakeRealtime(api_env, segment_seconds=0.5) as realtime:
        yield realtime


def speech_pcm(rate: int = 16_000, seconds: float | None = None) -> np.ndarray:
    """The sample speech as float mono at ``rate``, looped to ``seconds`` if given."""
    data, native = soundfile.read(WAV, dtype="float32")
    if rate != native:
        import soxr

        data = soxr.resample(data, native, rate)
    if seconds is not None:
        data = np.resize(data, round(seconds * rate))
    return data


def segments_of(stdout: str) -> list[dict]:
    events = [json.loads(line) for line in stdout.splitlines()]
    return [e for e in events if e["type"] == "segment"]


def test_a_wav_file_at_full_speed_prints_each_segment_once(api_env, rt):
    result = run_cli("live", str(WAV), "--pace", "0")
    assert result.exit_code == 0, result.stderr
    # 2.84 s in segments of 0.5 s: five whole ones and the rest at the end of the audio
    assert result.stdout.splitlines() == [SENTENCES[n % len(SENTENCES)] for n in range(6)]
    [session] = rt.sessions
    assert session.settings["audio_format"] == {"encoding": "pcm_s16le", "sample_rate": 16000}
    assert session.settings["turn_detection"] is not None  # on: the card says it can
    assert all(size <= 262_144 and size % 2 == 0 for size in session.chunk_sizes)
    assert session.audio_bytes == soundfile.info(WAV).frames * 2


@pytest.mark.parametrize(
    ("encoding", "rate", "dtype", "width"),
    [("pcm_s16le", 22_050, "<i2", 2), ("pcm_f32le", 8_000, "<f4", 4)],
)
def test_raw_pcm_on_stdin_is_sent_as_declared(api_env, rt, encoding, rate, dtype, width):
    samples = speech_pcm(rate)
    raw = (samples * 32767).astype(dtype) if dtype == "<i2" else samples.astype(dtype)
    result = run_cli(
        "live", "-", "--encoding", encoding, "--rate", str(rate), "-f", "jsonl",
        stdin=raw.tobytes(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    assert session.settings["audio_format"] == {"encoding": encoding, "sample_rate": rate}
    assert bytes(session.audio) == raw.tobytes()
    assert all(size % width == 0 for size in session.chunk_sizes)
    ends = [s["end"] for s in segments_of(result.stdout)]
    assert ends[-1] == pytest.approx(len(samples) / rate, abs=0.01)


def test_settings_go_in_the_first_session_update(api_env, rt, tmp_path):
    bias = tmp_path / "bias.txt"
    bias.write_text("Voxtral\nLe Chat\n")
    result = run_cli(
        "live", str(WAV), "--pace", "0", "-l", "fr", "--diarize", "--bias", "Mistral",
        "--bias-file", str(bias), "--delay", "480", "--end-silence", "700", "-f", "jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    assert len(session.updates) == 1  # everything in the first update, before any audio
    first = session.settings
    assert first["language"] == "fr" and first["diarize"] is True
    assert first["context_bias"] == ["Mistral", "Voxtral", "Le_Chat"]
    assert first["target_streaming_delay_ms"] == 480
    assert first["turn_detection"]["min_silence_ms"] == 700
    assert {s["speaker"] for s in segments_of(result.stdout)} == {"Speaker 1", "Speaker 2"}


def test_no_turns_leaves_turn_detection_off(api_env, rt):
    result = run_cli("live", str(WAV), "--pace", "0", "--no-turns", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert rt.sessions[0].settings["turn_detection"] is None
    assert not any(json.loads(line)["type"] == "turn" for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--delay", "50"), "--delay 50 ms is outside"),
        (("-m", "voxtral-mini-transcribe-latest"), "cannot do realtime transcription"),
        (("--speaker", "A=a.wav"), "--speaker needs --diarize"),
        (("-f", "json"), "needs -o PATH"),
        (("--rate", "1000"), "--rate must be"),
    ],
)
def test_refusals_come_before_connecting(api_env, rt, args, message):
    result = run_cli("live", str(WAV), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert rt.sessions == []


def test_output_file_is_a_valid_srt_of_the_whole_session(api_env, rt, tmp_path):
    out = tmp_path / "live.srt"
    result = run_cli("live", str(WAV), "--pace", "0", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # -o: the transcript goes to the file only
    cues = list(srt.parse(out.read_text()))
    assert [c.content for c in cues][:2] == [
        "Hello from the fake Mistral server.",
        "This transcript is generated, not heard.",
    ]
    assert [c.start for c in cues] == sorted(c.start for c in cues)


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_input_faster_than_real_time_is_sent_whole_past_the_buffer(api_env, rt, tmp_path, via):
    # Three minutes (more than the 2-minute reconnect buffer) as fast as they can be read:
    # a file or pipe waits for the server instead of dropping audio.
    pcm = (speech_pcm(16_000, seconds=180) * 32767).astype("<i2")
    if via == "file":
        wav = tmp_path / "long.wav"
        soundfile.write(wav, pcm, 16_000, subtype="PCM_16")
        result = run_cli("live", str(wav), "--pace", "0", "-f", "jsonl")
    else:
        result = run_cli("live", "-", "-f", "jsonl", stdin=pcm.tobytes())
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    assert session.audio_bytes == len(pcm) * 2
    assert "dropped" not in result.stderr
    assert segments_of(result.stdout)[-1]["end"] == pytest.approx(180.0, abs=0.01)


def test_duration_stops_by_itself(api_env, rt):
    result = run_cli("live", str(WAV), "--pace", "0", "--duration", "1.2", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    assert session.audio_bytes == round(1.2 * 16000) * 2


def test_a_401_is_exit_3(api_env, rt):
    rt.reject_next(401)
    result = run_cli("live", str(WAV), "--pace", "0")
    assert result.exit_code == 3
    assert "rejected" in result.stderr and "Traceback" not in result.stderr
    assert len(rt.sessions) == 1  # never retried


def test_an_error_event_about_the_request_is_exit_2_and_not_retried(api_env, rt):
    rt.error_after(0.3, "Invalid audio for this session", 422)
    result = run_cli("live", str(WAV), "--pace", "0", "-f", "jsonl")
    assert result.exit_code == 2
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("voxcli: error:")]
    assert "Invalid audio for this session" in line
    assert len(rt.sessions) == 1


def test_a_server_error_on_every_connection_is_exit_1_once_retries_are_spent(api_env, rt):
    rt.error_after(0.0, "Internal server error", 500, times=None)
    result = run_cli("live", str(WAV), "--pace", "0", "--retries", "2")
    assert result.exit_code == 1
    assert result.stderr.count("voxcli: error:") == 1
    # The first connection and two retries; one more when a connection got a segment
    # confirmed before its error (the count restarts after progress), never endless.
    assert 3 <= len(rt.sessions) <= 4


def test_a_dropped_connection_reconnects_and_loses_nothing(api_env, rt):
    rt.drop_after(1.1)
    result = run_cli("live", str(WAV), "--pace", "0", "-f", "jsonl", "--retries", "3")
    assert result.exit_code == 0, result.stderr
    assert len(rt.sessions) == 2
    segments = segments_of(result.stdout)
    starts = [s["start"] for s in segments]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert segments[-1]["end"] == pytest.approx(soundfile.info(WAV).duration, abs=0.01)
    covered = sum(s["end"] - s["start"] for s in segments)
    assert covered == pytest.approx(soundfile.info(WAV).duration, abs=0.05)


def test_the_microphone_path_through_the_sounddevice_seam(api_env, rt, mocker):
    pcm = (speech_pcm(16_000) * 32767).astype("<i2")
    mocker.patch.object(FakeRawInputStream, "feed", pcm.reshape(-1, 1))
    module = fake_sounddevice({2: {16_000}})  # the default device takes 16 kHz
    mocker.patch("voxcli.live.mic.load_sounddevice", return_value=module)
    result = run_cli("live", "--duration", "2.0", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    assert session.audio_bytes == 2 * 16000 * 2
    assert bytes(session.audio) == pcm.tobytes()[: 2 * 16000 * 2]
    assert segments_of(result.stdout)[0]["text"] == SENTENCES[0]


# -- real processes: pipes, signals, kill -9 ------------------------------------------------


def _live_process(api_env, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "voxcli", "live", *args],
        env=subprocess_env(api_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def test_jsonl_lines_arrive_while_the_input_is_still_open(api_env, rt):
    proc = _live_process(api_env, "-", "-f", "jsonl", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        pcm = (speech_pcm(16_000) * 32767).astype("<i2").tobytes()
        proc.stdin.write(pcm)
        proc.stdin.flush()
        line = proc.stdout.readline()  # before stdin is closed
        assert json.loads(line)["type"] in {"turn", "language", "segment"}
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_sigint_mid_session_writes_complete_outputs_and_exits_0(api_env, rt, tmp_path):
    out = tmp_path / "live.vtt"
    looped = tmp_path / "long.wav"
    soundfile.write(looped, speech_pcm(16_000, seconds=60), 16_000, subtype="PCM_16")
    proc = _live_process(api_env, str(looped), "--pace", "4", "-o", str(out))
    try:
        rt.wait_for_sessions(1, timeout=20)
        deadline = time.monotonic() + 20
        while rt.sessions[0].audio_bytes < 16000 * 2 * 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    text = out.read_text()
    assert text.startswith("WEBVTT") and "Hello from the fake Mistral server." in text
    assert rt.sessions[0].close_reason == "done"  # the audio was ended, not cut off


def test_kill_9_leaves_the_last_checkpoint_as_a_valid_file(api_env, rt, tmp_path):
    out = tmp_path / "live.srt"
    looped = tmp_path / "long.wav"
    soundfile.write(looped, speech_pcm(16_000, seconds=60), 16_000, subtype="PCM_16")
    proc = _live_process(api_env, str(looped), "--pace", "4", "-o", str(out))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and "Hello from the fake Mistral server." in out.read_text():
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    cues = list(srt.parse(out.read_text()))
    assert cues and cues[0].content == "Hello from the fake Mistral server."
