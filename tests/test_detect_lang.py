"""voxcli detect-lang, end to end through the real SDK against the fake server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile
from audio_factory import make_tone_wav
from cli_runner import run_cli

DATA = Path(__file__).parent / "data"
WAV, MP3 = DATA / "speech.wav", DATA / "speech.mp3"


def _sent_seconds(request) -> float:
    upload = request.file("file")
    assert upload is not None and upload.data is not None
    info = soundfile.info(io.BytesIO(upload.data))
    return info.frames / info.samplerate


def _answer_language(fake, pick) -> None:
    """Answer the default transcription, with the language ``pick(upload_file_name)``."""
    fake.set_transcription(
        lambda rec, duration: {
            **fake.default_transcription(rec, duration),
            "language": pick(rec.file("file").filename),
        }
    )


def test_one_source_prints_exactly_the_code_and_a_newline(api_env):
    result = run_cli("detect-lang", str(WAV))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "en\n"
    assert result.stderr == ""


def test_uses_the_transcription_endpoint_without_language_or_timestamps(api_env):
    _answer_language(api_env, lambda name: " FR ")
    result = run_cli("detect-lang", str(WAV), "-m", "voxtral-mini-2602")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "fr\n"
    [request] = api_env.transcription_requests()
    assert request.fields["model"] == ["voxtral-mini-2602"]
    assert "language" not in request.fields
    assert "timestamp_granularities" not in request.fields
    assert request.fields["stream"] == ["false"]


def test_five_minute_wav_sends_at_most_30_seconds(api_env, tmp_path, temp_dir):
    long_wav = make_tone_wav(tmp_path / "long.wav", 300.0, samplerate=44_100, channels=2)
    result = run_cli("detect-lang", str(long_wav))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "en\n"
    [request] = api_env.transcription_requests()
    upload = request.file("file")
    assert upload.filename == "long.flac"
    seconds = _sent_seconds(request)
    assert 29.9 <= seconds <= 30.0
    assert soundfile.info(io.BytesIO(upload.data)).samplerate == 16_000
    assert upload.size < long_wav.stat().st_size / 20
    assert list(temp_dir.iterdir()) == []  # the cut sample is removed


def test_sample_length_is_configurable(api_env, tmp_path):
    long_wav = make_tone_wav(tmp_path / "long.wav", 60.0)
    result = run_cli("detect-lang", str(long_wav), "--sample", "7.5")
    assert result.exit_code == 0, result.stderr
    assert _sent_seconds(api_env.transcription_requests()[0]) == pytest.approx(7.5, abs=0.01)


def test_sample_zero_sends_the_whole_file(api_env, tmp_path):
    long_wav = make_tone_wav(tmp_path / "long.wav", 45.0)
    result = run_cli("detect-lang", str(long_wav), "--sample", "0")
    assert result.exit_code == 0, result.stderr
    assert _sent_seconds(api_env.transcription_requests()[0]) == pytest.approx(45.0, abs=0.01)


def test_short_compressed_file_is_sent_as_it_is(api_env):
    result = run_cli("detect-lang", str(MP3))
    assert result.exit_code == 0, result.stderr
    upload = api_env.transcription_requests()[0].file("file")
    assert upload.data == MP3.read_bytes()


def test_undecodable_container_is_sent_whole(api_env, tmp_path):
    m4a = tmp_path / "talk.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42" + bytes(4000))
    result = run_cli("detect-lang", str(m4a))
    assert result.exit_code == 0, result.stderr
    upload = api_env.transcription_requests()[0].file("file")
    assert upload.data == m4a.read_bytes()
    assert upload.filename == "talk.m4a"


def test_url_is_passed_as_file_url(api_env):
    url = "https://example.com/talk.mp3"
    result = run_cli("detect-lang", url)
    assert result.exit_code == 0, result.stderr
    assert api_env.transcription_requests()[0].fields["file_url"] == [url]


def test_stdin_audio_is_sampled_too(api_env, tmp_path):
    long_wav = make_tone_wav(tmp_path / "long.wav", 40.0)
    result = run_cli("detect-lang", "-", stdin=long_wav.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "en\n"
    assert _sent_seconds(api_env.transcription_requests()[0]) == pytest.approx(30.0, abs=0.01)


def test_several_sources_print_source_tab_code_in_input_order(api_env):
    _answer_language(api_env, lambda name: "fr" if name == "speech.mp3" else "en")
    result = run_cli("detect-lang", str(MP3), str(WAV))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{MP3}\tfr\n{WAV}\ten\n"


def test_json_format(api_env):
    result = run_cli("detect-lang", str(WAV), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"source": str(WAV), "language": "en"}
    assert result.stdout.count("\n") == 1

    result = run_cli("detect-lang", str(WAV), str(MP3), "-f", "json")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"source": str(WAV), "language": "en"},
        {"source": str(MP3), "language": "en"},
    ]


@pytest.mark.parametrize("language", [None, ""])
def test_no_language_is_unknown_and_exit_1(api_env, language):
    _answer_language(api_env, lambda name: language)
    result = run_cli("detect-lang", str(WAV))
    assert result.exit_code == 1
    assert result.stdout == "unknown\n"
    assert "no language" in result.stderr


def test_one_unknown_among_several_still_prints_all(api_env):
    _answer_language(api_env, lambda name: None if name == "speech.mp3" else "en")
    result = run_cli("detect-lang", str(MP3), str(WAV), "-f", "json")
    assert result.exit_code == 1
    assert [json.loads(line)["language"] for line in result.stdout.splitlines()] == [
        "unknown",
        "en",
    ]


def test_missing_single_source_is_exit_2(api_env, tmp_path):
    result = run_cli("detect-lang", str(tmp_path / "nope.wav"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no such file" in result.stderr
    assert api_env.work_requests() == []


def test_not_audio_is_exit_2(api_env, not_audio_file):
    result = run_cli("detect-lang", str(not_audio_file))
    assert result.exit_code == 2
    assert "not an audio file" in result.stderr


def test_a_failing_source_among_several_is_reported_and_the_rest_go_on(api_env, tmp_path):
    missing = tmp_path / "nope.wav"
    result = run_cli("detect-lang", str(WAV), str(missing), str(MP3))
    assert result.exit_code == 1
    assert result.stdout == f"{WAV}\ten\n{MP3}\ten\n"
    assert f"no such file: {missing}" in result.stderr
    assert "1 of 3 inputs failed" in result.stderr


def test_api_failure_is_exit_1(api_env):
    api_env.fail_next(500, times=5)
    result = run_cli("detect-lang", str(WAV), "--retries", "1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "after 2 attempts" in result.stderr


def test_no_key_is_exit_3(fake_server, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    result = run_cli("detect-lang", str(WAV))
    assert result.exit_code == 3
    assert fake_server.requests == []


def test_rejected_key_stops_a_multi_source_run(api_env):
    api_env.reject_all_keys()
    result = run_cli("detect-lang", str(WAV), str(MP3))
    assert result.exit_code == 3
    assert len(api_env.requests) == 1  # the model lookup: refused, nothing else is tried
