"""Every failure is one line (plus a hint) with a documented exit code; the key never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli, subprocess_env
from fake_mistral import TEST_API_KEY

WAV = str(Path(__file__).parent / "data" / "speech.wav")


def assert_one_line_error(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, stderr
    assert lines[0].startswith("voxcli: error: ")
    assert all(line.startswith("voxcli: hint: ") for line in lines[1:])
    assert "Traceback" not in stderr


def test_multi_line_api_error_is_folded_into_one_line(api_env):
    api_env.fail_next(400, body='{"message": "bad things\\n  happened\\nhere"}')
    result = run_cli("transcribe", WAV, "--retries", "0")
    assert result.exit_code == 1
    assert "bad things happened here" in result.stderr
    assert_one_line_error(result.stderr)


def test_a_response_the_sdk_cannot_validate_is_one_line(api_env):
    api_env.set_transcription({"unexpected": ["shape", "of", "answer"]})
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 1
    assert "does not understand" in result.stderr
    assert_one_line_error(result.stderr)


def test_403_is_an_authentication_error(api_env):
    api_env.fail_next(403, body='{"message": "Forbidden"}')
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 3
    assert "rejected (HTTP 403)" in result.stderr
    assert_one_line_error(result.stderr)
    assert len(api_env.transcription_requests()) == 1


def test_retries_exhausted_names_the_attempts_before_the_servers_words(api_env):
    api_env.fail_next(500, times=5, body='{"message": "internal"}', headers={"Retry-After": "0"})
    result = run_cli("transcribe", WAV, "--retries", "1")
    assert result.exit_code == 1
    assert "(HTTP 500) after 2 attempts: internal" in result.stderr


def test_voxcli_debug_env_shows_a_masked_traceback(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_DEBUG", "1")
    api_env.fail_next(500, body=f'{{"message": "echo {TEST_API_KEY}"}}')
    result = run_cli("transcribe", WAV, "--retries", "0")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert TEST_API_KEY not in result.output


@pytest.mark.parametrize(
    ("env", "value", "flag"),
    [("VOXCLI_RETRIES", "x", "VOXCLI_RETRIES"), ("VOXCLI_TIMEOUT", "-1", "VOXCLI_TIMEOUT")],
)
def test_bad_values_from_the_environment_name_their_origin(api_env, monkeypatch, env, value, flag):
    monkeypatch.setenv(env, value)
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 2
    assert flag in result.stderr
    assert api_env.requests == []


def test_flags_beat_environment_beat_config(fake_server, monkeypatch, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        f'api_key = "sk-c"\nserver_url = "{fake_server.url}"\nmodel = "from-config"\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    monkeypatch.setenv("VOXCLI_MODEL", "from-env")
    fake_server.models_endpoint = False  # made-up model names: nothing to check them against
    result = run_cli("transcribe", WAV, "--model", "from-flag")
    assert result.exit_code == 0, result.stderr
    assert fake_server.transcription_requests()[-1].fields["model"] == ["from-flag"]


def test_bad_config_file_is_a_usage_error(monkeypatch, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("retries = [unclosed\n")
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-x")
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 2
    assert "not valid TOML" in result.stderr
    assert_one_line_error(result.stderr)


def test_no_arguments_prints_help_without_an_empty_error():
    result = run_cli()
    assert result.exit_code == 2
    assert "Usage" in result.stdout
    assert "error" not in result.stderr


def test_closed_stdout_exits_141_quietly(fake_server, tmp_path):
    import subprocess
    import sys

    # The FLAC's answer comes long after the reader has gone.
    fake_server.delay_fn = lambda r: 1.5 if r.files["file"][0].filename.endswith(".flac") else 0
    env = subprocess_env(fake_server)
    command = ["transcribe", "-f", "jsonl", "--upload", "original", WAV, WAV[:-4] + ".flac"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(1) == b"{"
    proc.stdout.close()  # like `| head -c 1`
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


def test_junk_on_stdin_is_named_as_stdin_not_a_temp_file(api_env):
    result = run_cli("transcribe", "-", stdin=b"hello, not audio\n")
    assert result.exit_code == 2
    assert "audio on stdin is not an audio file" in result.stderr
    assert "/tmp" not in result.stderr
    assert api_env.work_requests() == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("api_key = 12345", "api_key in"),
        ("model = 5", "for model in"),
        ('server_url = "ftp://x"', "expected an http:// or https:// URL"),
    ],
)
def test_wrongly_typed_config_values_are_usage_errors(
    fake_server, monkeypatch, tmp_path, line, message
):
    config = tmp_path / "c.toml"
    config.write_text(line + "\n")
    config.chmod(0o600)
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    if not line.startswith("api_key"):
        monkeypatch.setenv("MISTRAL_API_KEY", "sk-x")
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 2
    assert message in result.stderr
    assert_one_line_error(result.stderr)


@pytest.mark.parametrize("fmt", ["json", "srt", "vtt", "tsv"])
def test_several_sources_cannot_share_stdout_as_one_document(api_env, fmt):
    result = run_cli("transcribe", "-f", fmt, WAV, WAV[:-4] + ".flac")
    assert result.exit_code == 2
    assert "cannot share stdout" in result.stderr and "jsonl" in result.stderr
    assert api_env.requests == []


def test_diarize_alone_asks_for_segments_and_labels_speakers(api_env):
    result = run_cli("transcribe", "--diarize", WAV)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.fields["timestamp_granularities"] == ["segment"]
    assert result.stdout.startswith("Speaker 1: ")


def test_diarize_with_language_does_not_ask_for_timestamps(api_env):
    result = run_cli("transcribe", "--diarize", "-l", "en", WAV)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert "timestamp_granularities" not in request.fields


def test_highlight_words_needs_a_subtitle_format(api_env):
    result = run_cli("transcribe", "--highlight-words", "-f", "text", WAV)
    assert result.exit_code == 2
    assert "srt and vtt" in result.stderr
    assert api_env.requests == []


def test_quiet_silences_config_warnings(fake_server, monkeypatch, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'api_key = "sk-c"\nserver_url = "{fake_server.url}"\ncolour = "red"\n')
    config.chmod(0o644)
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    loud = run_cli("transcribe", WAV)
    assert "unknown key 'colour'" in loud.stderr and "chmod 600" in loud.stderr
    quiet = run_cli("transcribe", "-q", WAV)
    assert quiet.exit_code == 0
    assert quiet.stderr == ""


def test_rewriting_an_output_keeps_its_permissions(api_env, tmp_path):
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "talk.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    result = run_cli("transcribe", WAV, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text() != "old\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["talk.txt"]


@pytest.mark.parametrize("command", ["transcribe", "detect-lang"])
def test_debug_after_the_subcommand_shows_a_masked_traceback(api_env, command):
    api_env.fail_next(500, body=f'{{"message": "echo {TEST_API_KEY}"}}')
    result = run_cli(command, WAV, "--retries", "0", "--debug")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert TEST_API_KEY not in result.output
