"""voxcli transcribe, end to end through the real SDK against the fake server."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import soundfile
from cli_runner import run_cli
from fake_mistral import TEST_API_KEY

DATA = Path(__file__).parent / "data"
WORDS_MODEL = "voxtral-mini-2602"  # Voxtral 3 models give segment timestamps only


def _one_line_error(result) -> None:
    """Errors are one line (plus an optional hint), never a traceback."""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("voxcli: error: ")
    if len(lines) == 2:
        assert lines[1].startswith("voxcli: hint: ")


@pytest.mark.parametrize("name", ["speech.wav", "speech.flac", "speech.mp3"])
def test_transcribes_audio_files(api_env, name):
    result = run_cli("transcribe", str(DATA / name), "--upload", "original")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""
    [request] = api_env.transcription_requests()
    [upload] = request.files["file"]
    assert upload.filename == name
    assert upload.data == (DATA / name).read_bytes()
    assert request.fields["model"] == ["voxtral-mini-transcribe-latest"]
    assert request.fields["stream"] == ["false"]
    assert request.fields["diarize"] == ["false"]
    assert "language" not in request.fields
    assert "timestamp_granularities" not in request.fields


def test_flags_map_onto_api_fields(api_env, tmp_path):
    bias_file = tmp_path / "terms.txt"
    bias_file.write_text("# product names\nVoxtral\nfarewell address  # a phrase\n\nMistral\n")
    result = run_cli(
        "transcribe",
        str(DATA / "speech.wav"),
        "-m",
        "voxtral-mini-2602",
        "--language",
        "FR",
        "--diarize",
        "--temperature",
        "0.2",
        "--bias",
        "Mistral,  Le Chat ,",
        "--bias",
        "Mistral",
        "--bias-file",
        str(bias_file),
    )
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["model"] == ["voxtral-mini-2602"]
    assert request.fields["language"] == ["fr"]
    assert request.fields["diarize"] == ["true"]
    assert float(request.fields["temperature"][0]) == pytest.approx(0.2)
    assert request.fields["context_bias"] == ["Mistral", "Le_Chat", "Voxtral", "farewell_address"]


def test_timestamps_given_twice_requests_both(api_env):
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), "-m", WORDS_MODEL, "-t", "segment", "-t", "word"
    )
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["timestamp_granularities"] == ["segment", "word"]


def test_101_bias_terms_is_a_usage_error_and_sends_nothing(api_env):
    terms = ",".join(f"term{i}" for i in range(101))
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--bias", terms)
    assert result.exit_code == 2
    assert "101 terms" in result.stderr and "100" in result.stderr
    _one_line_error(result)
    assert api_env.requests == []


def test_100_bias_terms_are_accepted(api_env):
    terms = ",".join(f"term{i}" for i in range(100)) + ",term0"
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--bias", terms)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert len(request.fields["context_bias"]) == 100


def test_language_with_timestamps_is_rejected_before_any_request(api_env):
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), "--language", "en", "--timestamps", "segment"
    )
    assert result.exit_code == 2
    assert "--language" in result.stderr and "--timestamps" in result.stderr
    assert "does not accept both" in result.stderr
    _one_line_error(result)
    assert api_env.requests == []


@pytest.mark.parametrize("code", ["english", "e", "e1", "en-US"])
def test_language_must_be_two_letters(api_env, code):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--language", code)
    assert result.exit_code == 2
    assert "two-letter" in result.stderr
    assert api_env.requests == []


def test_srt_without_timestamps_requests_segments(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "srt")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["timestamp_granularities"] == ["segment"]
    assert result.stdout.startswith("1\n00:00:00,000 --> ")


def test_srt_with_language_explains_the_conflict(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "vtt", "-l", "en")
    assert result.exit_code == 2
    assert "needs timestamps" in result.stderr
    assert "hint:" in result.stderr
    assert api_env.requests == []


def test_output_file_infers_format_and_is_written_atomically(api_env, tmp_path):
    target = tmp_path / "sub" / "talk.vtt"
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("WEBVTT\n")
    assert [p.name for p in target.parent.iterdir()] == ["talk.vtt"]
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_json_output_is_our_schema(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "voxtral-mini-transcribe-latest"
    assert data["text"]
    assert data["source"] == str(DATA / "speech.wav")


def test_several_sources_go_to_output_dir_by_stem(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the samples lie outside the cwd: outputs are named by stem
    out = tmp_path / "out"
    result = run_cli(
        "transcribe",
        str(DATA / "speech.wav"),
        str(DATA / "speech.mp3"),
        "--output-dir",
        str(out),
        "-f",
        "srt",
    )
    # Both stems are "speech": refusing both beats silently overwriting one with the other.
    assert result.exit_code == 1
    assert "would both be written" in result.stderr
    assert str(DATA / "speech.wav") in result.stderr and str(DATA / "speech.mp3") in result.stderr
    assert api_env.work_requests() == []

    other = tmp_path / "talk.flac"
    other.write_bytes((DATA / "speech.flac").read_bytes())
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), str(other), "--output-dir", str(out), "-f", "srt"
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["speech.srt", "talk.srt"]


def test_several_sources_to_stdout_in_input_order(api_env, tmp_path):
    def answer(request, duration=None):
        name = request.files["file"][0].filename
        return {
            "model": "voxtral-mini-latest",
            "text": f"transcript of {name}",
            "language": "en",
            "usage": {"prompt_audio_seconds": 2, "prompt_tokens": 1, "total_tokens": 2},
        }

    api_env.set_transcription(answer)
    first = tmp_path / "b.mp3"
    first.write_bytes((DATA / "speech.mp3").read_bytes())
    result = run_cli("transcribe", str(first), str(DATA / "speech.flac"), "--upload", "original")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [  # with headers, as `head` (issue 15.23)
        f"==> {first} <==",
        "transcript of b.mp3",
        "",
        f"==> {DATA / 'speech.flac'} <==",
        "transcript of speech.flac",
    ]


def test_audio_on_stdin(api_env):
    data = (DATA / "speech.mp3").read_bytes()
    result = run_cli("transcribe", "-", stdin=data)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.files["file"][0].data == data
    assert request.files["file"][0].filename.endswith(".mp3")


def test_url_source_is_sent_as_file_url(api_env):
    url = "https://example.com/audio/talk.mp3"
    result = run_cli("transcribe", url)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["file_url"] == [url]
    assert "file" not in request.files


def test_missing_key_exits_3_and_says_how_to_fix_it(fake_server, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 3
    assert "no Mistral API key" in result.stderr
    assert "MISTRAL_API_KEY" in result.stderr and "--api-key-file" in result.stderr
    _one_line_error(result)
    assert fake_server.requests == []


def test_rejected_key_exits_3(api_env):
    api_env.reject_all_keys()
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 3
    assert "rejected" in result.stderr
    _one_line_error(result)
    assert TEST_API_KEY not in result.output


def test_key_from_file_and_stdin(fake_server, monkeypatch, tmp_path):
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    fake_server.require_key("sk-from-file")
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--api-key-file", str(key_file))
    assert result.exit_code == 0, result.stderr
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), "--api-key-file", "-", stdin="sk-from-file\n"
    )
    assert result.exit_code == 0, result.stderr
    auth = [r.headers.get("authorization") for r in fake_server.transcription_requests()]
    assert auth == ["Bearer sk-from-file", "Bearer sk-from-file"]


def test_config_file_settings_and_permission_warning(fake_server, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        f'api_key = "sk-config"\nserver_url = "{fake_server.url}"\nmodel = "voxtral-mini-2602"\n'
        'format = "json"\nretries = 0\ntimeout = 30\n'
    )
    config.chmod(0o644)
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 0, result.stderr
    assert "readable by other users" in result.stderr and "chmod 600" in result.stderr
    assert "sk-config" not in result.output
    assert json.loads(result.stdout)["model"] == "voxtral-mini-2602"
    [request] = fake_server.transcription_requests()
    assert request.headers.get("authorization") == "Bearer sk-config"

    config.chmod(0o600)
    monkeypatch.setenv("VOXCLI_MODEL", "from-env")
    fake_server.models_endpoint = False  # a made-up model name: nothing to check it against
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "text")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert fake_server.transcription_requests()[-1].fields["model"] == ["from-env"]


def test_xdg_config_home_is_respected(fake_server, tmp_path, monkeypatch):
    config = tmp_path / "xdg" / "voxcli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'api_key = "sk-xdg"\nserver_url = "{fake_server.url}"\n')
    config.chmod(0o600)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 0, result.stderr


def test_two_429s_then_success(api_env):
    api_env.fail_next(429, times=2, headers={"Retry-After": "0.05"})
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--upload", "original")
    assert result.exit_code == 0, result.stderr
    requests = api_env.transcription_requests()
    assert len(requests) == 3
    # The file is sent whole on every attempt, not just the first.
    assert {r.files["file"][0].data for r in requests} == {(DATA / "speech.wav").read_bytes()}


def test_persistent_503_exits_1_after_the_configured_retries(api_env):
    api_env.fail_next(503, times=50, headers={"Retry-After": "0.05"})
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--retries", "2")
    assert result.exit_code == 1
    assert "503" in result.stderr and "3 attempts" in result.stderr
    _one_line_error(result)
    assert len(api_env.transcription_requests()) == 3


def test_retries_zero_sends_once(api_env):
    api_env.fail_next(500, times=5)
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--retries", "0")
    assert result.exit_code == 1
    assert len(api_env.transcription_requests()) == 1


def test_dropped_connection_is_retried(api_env):
    api_env.drop_next(times=1)
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 0, result.stderr
    assert len(api_env.transcription_requests()) == 2


def test_timeout_exits_1_with_one_line(api_env):
    api_env.slow_next(3.0, times=5)
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--timeout", "0.3", "--retries", "0")
    assert result.exit_code == 1
    assert "timed out" in result.stderr
    _one_line_error(result)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.wav", "no such file"),
        (lambda tmp: tmp, "directory"),
        (lambda tmp: DATA / "empty.wav", "empty"),
        (lambda tmp: DATA / "not_audio.wav", "not an audio file"),
    ],
    ids=["missing", "directory", "empty", "text-renamed-wav"],
)
def test_bad_inputs_exit_2_with_one_line(api_env, tmp_path, make, message):
    result = run_cli("transcribe", str(make(tmp_path)))
    assert result.exit_code == 2
    assert message in result.stderr
    _one_line_error(result)
    assert api_env.work_requests() == []


def test_one_bad_input_among_several_still_writes_the_others(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = run_cli(
        "transcribe", str(tmp_path / "missing.wav"), str(DATA / "speech.wav"), "-d", str(out)
    )
    assert result.exit_code == 1
    assert "missing.wav" in result.stderr
    assert [p.name for p in out.iterdir()] == ["speech.txt"]


def test_api_key_never_printed_even_with_debug(api_env):
    api_env.fail_next(500, times=10, body=f'{{"message": "bad key {TEST_API_KEY}"}}')
    result = run_cli("--debug", "transcribe", str(DATA / "speech.wav"), "--retries", "0")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert TEST_API_KEY not in result.output
    assert "***" in result.stderr


def test_mistral_debug_env_does_not_leak_the_key(api_env, monkeypatch, capfd):
    monkeypatch.setenv("MISTRAL_DEBUG", "1")
    result = run_cli("transcribe", str(DATA / "speech.wav"))
    assert result.exit_code == 0
    captured = capfd.readouterr()
    assert TEST_API_KEY not in result.output + captured.out + captured.err


def test_verbose_reports_bytes_saved(api_env, tmp_path):
    wav = tmp_path / "stereo.wav"
    import numpy as np

    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)
    soundfile.write(wav, np.stack([tone, tone], axis=1), 44100)
    result = run_cli("transcribe", str(wav), "-v")
    assert result.exit_code == 0, result.stderr
    assert "16 kHz mono FLAC" in result.stderr and "less" in result.stderr
    [request] = api_env.transcription_requests()
    assert request.files["file"][0].filename == "stereo.flac"


def test_usage_errors_from_click_are_one_line(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--format", "docx")
    assert result.exit_code == 2
    _one_line_error(result)


def test_version():
    from voxcli import __version__

    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"voxcli {__version__}\n"


def test_cue_shaping_flags_reach_the_renderer(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "srt", "--max-line-width", "16")
    assert result.exit_code == 0, result.stderr
    text_lines = [
        line
        for line in result.stdout.splitlines()
        if line and "-->" not in line and not line.isdigit()
    ]
    assert text_lines
    assert all(len(line) <= 16 for line in text_lines if " " in line)


def test_highlight_words_asks_for_word_timestamps(api_env):
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), "-m", WORDS_MODEL, "-f", "vtt", "--highlight-words"
    )
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["timestamp_granularities"] == ["word"]
    assert "<u>" in result.stdout


def test_highlight_words_with_segment_timestamps_is_a_usage_error(api_env):
    result = run_cli(
        "transcribe", str(DATA / "speech.wav"), "-f", "srt", "-t", "segment", "--highlight-words"
    )
    assert result.exit_code == 2
    assert "--timestamps word" in result.stderr
    assert api_env.requests == []


def test_invalid_cue_option_names_the_flag(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "srt", "--max-lines", "0")
    assert result.exit_code == 2
    assert "--max-lines" in result.stderr
    assert api_env.requests == []


def test_verbose_reports_reading_speed(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-f", "srt", "-v")
    assert result.exit_code == 0, result.stderr
    assert "characters/s" in result.stderr
