"""Issue 15, items 16, 20, 23 and 25: chat uploads that expire, voxcli's own wording for
bad option values, text layout on terminals and in pipes, and the progress display."""

from __future__ import annotations

from pathlib import Path

from cli_runner import run_cli

DATA = Path(__file__).parent / "data"
WAV = DATA / "speech.wav"


# --- 16: chat uploads expire and are visible to the uploader only ---------------------


def test_chat_upload_expires_and_is_visible_to_the_user_only(api_env):
    result = run_cli("chat", str(WAV), "-p", "Q", "--upload-threshold", "1KB")
    assert result.exit_code == 0, result.stderr
    [upload] = [r for r in api_env.file_requests() if r.method == "POST"]
    assert upload.field("purpose") == "audio"
    assert upload.field("expiry") == "1"
    assert upload.field("visibility") == "user"


def test_chat_upload_left_behind_by_a_failed_delete_still_expires(api_env):
    api_env.fail_next(500, times=10, when=lambda rec: rec.method == "DELETE")
    result = run_cli("chat", str(WAV), "-p", "Q", "--upload-threshold", "1KB", "--retries", "0")
    assert result.exit_code == 0, result.stderr
    [stored] = api_env.uploaded_files.values()
    assert stored.expiry == 1
    assert stored.visibility == "user"


# --- 20: voxcli's own wording for bad values; -f txt; -o -; no silent last-wins --------


def _usage_error(result, api_env) -> str:
    assert result.exit_code == 2, result.output
    assert api_env.work_requests() == []
    assert result.stdout == ""
    assert "Value error" not in result.stderr
    assert "Input should" not in result.stderr
    assert "Invalid value for" not in result.stderr
    return result.stderr.splitlines()[0]


def test_unknown_format_is_said_in_voxclis_words(api_env):
    line = _usage_error(run_cli("transcribe", str(WAV), "-f", "docx"), api_env)
    assert line == (
        "voxcli: error: --format must be one of text, json, jsonl, srt, vtt, tsv, not 'docx'"
    )


def test_a_number_below_the_minimum_is_said_in_voxclis_words(api_env):
    line = _usage_error(run_cli("transcribe", str(WAV), "--jobs", "0"), api_env)
    assert line == "voxcli: error: --jobs must be at least 1, not 0"


def test_a_word_where_a_number_belongs_is_said_in_voxclis_words(api_env):
    line = _usage_error(run_cli("transcribe", str(WAV), "--jobs", "many"), api_env)
    assert line == "voxcli: error: --jobs must be a whole number, not 'many'"
    line = _usage_error(run_cli("transcribe", str(WAV), "--timeout", "soon"), api_env)
    assert line == "voxcli: error: --timeout must be a number, not 'soon'"


def test_txt_is_accepted_as_text(api_env):
    result = run_cli("transcribe", str(WAV), "-f", "txt")
    assert result.exit_code == 0, result.stderr
    plain = run_cli("transcribe", str(WAV), "-f", "text")
    assert result.stdout == plain.stdout != ""


def test_completion_still_offers_the_real_format_names():
    scripts = Path(__file__).parent.parent / "completions"
    for script in scripts.iterdir():
        text = script.read_text()
        assert "text json jsonl srt vtt tsv" in text, script.name
        assert "txt" not in text.replace(".txt", ""), script.name


def test_dash_output_means_stdout(api_env, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    result = run_cli("transcribe", str(WAV), "-o", "-", "-f", "srt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("1\n00:00:00,000 --> ")
    assert list(cwd.iterdir()) == []


def test_a_single_value_option_given_twice_differently_is_a_usage_error(api_env):
    line = _usage_error(run_cli("transcribe", str(WAV), "-f", "srt", "-f", "vtt"), api_env)
    assert line == "voxcli: error: --format given twice ('srt', then 'vtt'); give it once"


def test_a_single_value_option_repeated_with_the_same_value_is_fine(api_env):
    result = run_cli("transcribe", str(WAV), "-f", "srt", "--format", "srt")
    assert result.exit_code == 0, result.stderr


def test_an_output_extension_contradicting_format_is_a_usage_error(api_env, tmp_path):
    out = tmp_path / "x.vtt"
    line = _usage_error(run_cli("transcribe", str(WAV), "-o", str(out), "-f", "srt"), api_env)
    assert "--output" in line and ".vtt" in line and "srt" in line
    assert not out.exists()


def test_an_output_extension_agreeing_with_format_or_unknown_is_fine(api_env, tmp_path):
    for name, fmt in (("x.srt", "srt"), ("x.TXT", "text"), ("x.out", "vtt"), ("x.txt", "txt")):
        result = run_cli("transcribe", str(WAV), "-o", str(tmp_path / name), "-f", fmt)
        assert result.exit_code == 0, (name, result.stderr)


# --- 23: wrap only on a terminal or with --text-width; headers between transcripts -----


def _long_text_wav(tmp_path: Path) -> Path:
    from audio_factory import make_tone_wav

    return make_tone_wav(tmp_path / "long.wav", 40.0)


def _run_with_tty_stdout(*args: str):
    import dataclasses
    import io

    from cli_runner import Result, make_env, run_env

    env = dataclasses.replace(make_env(), stdout_isatty=True)
    code = run_env(env, *args)
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return Result(code, env.stdout.getvalue(), env.stderr.getvalue())


def test_text_in_a_pipe_is_one_paragraph_per_line(api_env, tmp_path):
    result = run_cli("transcribe", str(_long_text_wav(tmp_path)))
    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert len(line) > 80


def test_text_on_a_terminal_is_wrapped_at_80(api_env, tmp_path):
    result = _run_with_tty_stdout("transcribe", str(_long_text_wav(tmp_path)))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 80


def test_text_width_wraps_in_a_pipe_too(api_env, tmp_path):
    result = run_cli("transcribe", str(_long_text_wav(tmp_path)), "--text-width", "40")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 40


def test_several_text_transcripts_on_stdout_get_headers(api_env, tmp_path):
    other = tmp_path / "other.wav"
    other.write_bytes(WAV.read_bytes())
    result = run_cli("transcribe", str(WAV), str(other), "-j", "1")
    assert result.exit_code == 0, result.stderr
    blocks = result.stdout.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [f"==> {WAV} <==", f"==> {other} <=="]
    assert all(len(b.splitlines()) == 2 for b in blocks)


def test_quiet_drops_the_headers(api_env, tmp_path):
    other = tmp_path / "other.wav"
    other.write_bytes(WAV.read_bytes())
    result = run_cli("transcribe", str(WAV), str(other), "-q")
    assert result.exit_code == 0, result.stderr
    assert "==>" not in result.stdout
    assert len(result.stdout.splitlines()) == 2


def test_one_source_has_no_header(api_env):
    result = run_cli("transcribe", str(WAV))
    assert result.exit_code == 0, result.stderr
    assert "==>" not in result.stdout
