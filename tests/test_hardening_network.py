"""Hostile servers (issue 15): bounded waits, bounded answers, no leaks, clean text.

Faults go through the fake server (``drip_next``, ``flood_next``, ``end_next``, redirects as
``fail_next(307, headers={"Location": ...})``). Runs that would hang without the bounds run
on a thread with a deadline (:func:`run_within`), so a regression fails instead of hanging.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cli_runner import Result, make_env, run_cli, run_env, subprocess_env
from fake_mistral import FakeMistral

from voxcli.api.client import UPLOAD_ALLOWANCE_BYTES_PER_SECOND, parse_retry_after
from voxcli.config import DEFAULT_MAX_RETRY_AFTER, MAX_RESPONSE_BYTES, resolve_settings
from voxcli.console import server_text
from voxcli.redact import redact

DATA = Path(__file__).parent / "data"
WAV = str(DATA / "speech.wav")
CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


def run_within(seconds: float, *args: str, stdin: bytes = b"") -> tuple[Result, float]:
    """``run_cli(*args)`` on a thread that must finish within ``seconds``; (result, elapsed)."""
    env = make_env(stdin=stdin)
    box: dict[str, int] = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: box.update(code=run_env(env, *args)), daemon=True)
    worker.start()
    worker.join(seconds)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"voxcli {' '.join(args)} still running after {seconds} s"
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return Result(box["code"], env.stdout.getvalue(), env.stderr.getvalue()), elapsed


def no_control(text: str) -> bool:
    """No control character but newlines and tabs."""
    return not any(ch in text for ch in CONTROL)


def one_line_error(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, stderr
    assert lines[0].startswith("voxcli: error: "), stderr
    assert all(line.startswith("voxcli: hint: ") for line in lines[1:]), stderr


# -- 1. Retry-After ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        ("99999", 60.0),
        ("inf", 60.0),
        ("1e308", 60.0),
        ("1e400", 60.0),
        ("99999999999999999999999999", 60.0),
        ("-3", None),
        ("nan", None),
        ("soon", None),
        ("", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Wed, 99 Foo 2024 99:99:99 GMT", None),
    ],
)
def test_every_form_of_retry_after_is_parsed_safely_and_capped(value, expected):
    assert parse_retry_after(value, None, cap=60.0) == expected


def test_retry_after_ms_is_parsed_safely_too():
    assert parse_retry_after(None, "1e308", cap=60.0) == 60.0
    assert parse_retry_after(None, "1500", cap=60.0) == 1.5
    assert parse_retry_after(None, "x", cap=60.0) is None
    assert parse_retry_after("99999", "250", cap=60.0) == 0.25  # the precise one wins


def test_the_default_cap_is_60_seconds_and_configurable(monkeypatch):
    assert DEFAULT_MAX_RETRY_AFTER == 60.0
    assert resolve_settings(env={}).max_retry_after == 60.0
    assert resolve_settings(env={"VOXCLI_MAX_RETRY_AFTER": "5"}).max_retry_after == 5.0


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon", "1e308"])
def test_a_bad_retry_after_cap_is_a_usage_error(api_env, monkeypatch, value):
    monkeypatch.setenv("VOXCLI_MAX_RETRY_AFTER", value)
    result = run_cli("transcribe", WAV)
    assert result.exit_code == 2
    assert "VOXCLI_MAX_RETRY_AFTER" in result.stderr
    assert api_env.requests == []


@pytest.mark.parametrize(
    "value", ["99999", "inf", "1e308", "Fri, 31 Dec 9999 23:59:59 GMT", "nan", "garbage"]
)
def test_a_hostile_retry_after_waits_at_most_the_cap(api_env, monkeypatch, value):
    monkeypatch.setenv("VOXCLI_MAX_RETRY_AFTER", "0.5")
    api_env.fail_next(429, headers={"Retry-After": value})
    result, _ = run_within(30, "transcribe", WAV)
    assert result.exit_code == 0, result.stderr
    first, second = api_env.transcription_requests()
    assert first.finished_at is not None
    assert second.received_at - first.finished_at < 2.5


def test_no_wait_once_no_attempt_is_left(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_MAX_RETRY_AFTER", "2")
    api_env.fail_next(429, times=5, headers={"Retry-After": "2"})
    result, _ = run_within(30, "transcribe", WAV, "--retries", "1")
    ended = time.monotonic()
    assert result.exit_code == 1
    assert "after 2 attempts" in result.stderr
    requests = api_env.transcription_requests()
    assert len(requests) == 2
    assert requests[1].received_at - requests[0].received_at >= 1.8  # the one wait it had
    assert requests[1].finished_at is not None
    assert ended - requests[1].finished_at < 1.0  # and none after the last attempt


# -- 22. Retries visible with -v --------------------------------------------------------


def test_retries_are_reported_with_verbose(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_MAX_RETRY_AFTER", "0.3")
    api_env.fail_next(429, headers={"Retry-After": "99999"})
    api_env.fail_next(503)
    result, _ = run_within(30, "chat", WAV, "-p", "Q", "-v")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "retrying" in line]
    assert len(notes) == 2, result.stderr
    assert "attempt 1 of 4" in notes[0] and "HTTP 429" in notes[0]
    assert "retrying in 0.3 s" in notes[0] and "Retry-After" in notes[0]
    assert "attempt 2 of 4" in notes[1] and "HTTP 503" in notes[1]


@pytest.mark.parametrize("flags", [(), ("-q",), ("-q", "-v")])
def test_retries_are_silent_without_verbose_and_with_quiet(api_env, monkeypatch, flags):
    monkeypatch.setenv("VOXCLI_MAX_RETRY_AFTER", "0.1")
    api_env.fail_next(429, headers={"Retry-After": "1"})
    result, _ = run_within(30, "chat", WAV, "-p", "Q", *flags)
    assert result.exit_code == 0, result.stderr
    assert "retrying" not in result.stderr
    assert len(api_env.chat_requests()) == 2


# -- 2. A wall-clock deadline per request ----------------------------------------------


def _allowance(fake: FakeMistral) -> float:
    return sum(r.body_size for r in fake.work_requests()) / UPLOAD_ALLOWANCE_BYTES_PER_SECOND


@pytest.mark.parametrize(
    ("args", "timeout"),
    [
        (("transcribe", WAV), 3.0),  # the case: a byte every 0.4 s, --timeout 3
        (("transcribe", "--stream", WAV), 1.5),
        (("chat", WAV, "-p", "Q", "--no-stream"), 1.5),
        (("chat", WAV, "-p", "Q", "--stream"), 1.5),
    ],
)
def test_a_dripping_answer_ends_at_the_deadline(api_env, args, timeout):
    api_env.drip_next(0.4)
    result, elapsed = run_within(40, *args, "--timeout", str(timeout), "--retries", "0")
    assert result.exit_code == 1
    assert "timed out" in result.stderr
    one_line_error(result.stderr)
    assert timeout - 0.1 < elapsed < timeout + _allowance(api_env) + 2.0


def test_dripping_headers_end_at_the_deadline_too(api_env):
    api_env.drip_next(0.4, headers=True)
    result, elapsed = run_within(40, "transcribe", WAV, "--timeout", "2", "--retries", "0")
    assert result.exit_code == 1
    assert "timed out" in result.stderr
    assert elapsed < 2 + _allowance(api_env) + 2.0


def test_each_attempt_has_its_own_deadline(api_env):
    api_env.drip_next(0.4, times=5)
    result, elapsed = run_within(40, "transcribe", WAV, "--timeout", "1.5", "--retries", "1")
    assert result.exit_code == 1
    assert "timed out" in result.stderr and "after 2 attempts" in result.stderr
    assert len(api_env.transcription_requests()) == 2
    assert elapsed < 2 * (1.5 + _allowance(api_env)) + 3.0


def test_a_slowly_read_upload_gets_its_allowance(api_env, tmp_path):
    from audio_factory import make_tone_wav

    big = make_tone_wav(tmp_path / "talk.wav", 20.0, samplerate=44100, channels=2)  # 3.5 MB
    api_env.read_bandwidth = 1_200_000  # ~3 s to read the upload: longer than --timeout
    result, _ = run_within(
        60, "transcribe", str(big), "--upload", "original", "--timeout", "1.5", "--retries", "0"
    )
    assert result.exit_code == 0, result.stderr


# -- 5. Response size cap ---------------------------------------------------------------


@pytest.mark.parametrize("size", [MAX_RESPONSE_BYTES + 2_000_000, None])
def test_an_oversized_answer_fails_cleanly(api_env, size):
    api_env.flood_next(size)
    result, _ = run_within(60, "transcribe", WAV, "--retries", "2", "--timeout", "60")
    assert result.exit_code == 1
    assert "more than 64.0 MB" in result.stderr
    one_line_error(result.stderr)
    assert len(api_env.transcription_requests()) == 1  # a hostile answer is not retried


def test_a_never_ending_stream_fails_cleanly(api_env):
    api_env.flood_next(None)
    result, _ = run_within(60, "chat", WAV, "-p", "Q", "--stream", "--timeout", "60")
    assert result.exit_code == 1
    assert "more than 64.0 MB" in result.stderr


# -- 6. A stream that ends before its final event --------------------------------------


def test_transcribe_stream_without_its_done_event_is_exit_1(api_env):
    api_env.end_next(after_events=3)
    result = run_cli("transcribe", "--stream", WAV)
    assert result.exit_code == 1
    assert "the stream ended early" in result.stderr
    one_line_error(result.stderr)
    assert result.stdout.endswith("\n")  # the partial line is ended, not left dangling


def test_chat_stream_without_its_final_chunk_is_exit_1(api_env):
    api_env.end_next(after_events=3)
    result = run_cli("chat", WAV, "-p", "Q", "--stream")
    assert result.exit_code == 1
    assert "the stream ended early" in result.stderr
    one_line_error(result.stderr)


def test_a_complete_stream_is_still_exit_0(api_env):
    assert run_cli("transcribe", "--stream", WAV).exit_code == 0
    assert run_cli("chat", WAV, "-p", "Q", "--stream").exit_code == 0


# -- 11. --stream | head -c 5 ----------------------------------------------------------


def test_stream_into_a_closed_pipe_exits_141(fake_server):
    fake_server.stream_interval = 0.2
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", "--stream", WAV],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(fake_server),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(5)) == 5
    proc.stdout.close()  # like `| head -c 5`
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


# -- 12. Credentials in --server-url ----------------------------------------------------


def test_url_credentials_are_masked_in_every_message():
    assert redact("at http://alice:pw-123@host:8/v1 failed") == "at http://***@host:8/v1 failed"
    assert redact("'https://tok@h'") == "'https://***@h'"
    assert redact("mail alice@example.com") == "mail alice@example.com"


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_credentials_in_the_server_url_are_refused_and_never_printed(
    api_env, monkeypatch, tmp_path, how
):
    url = api_env.url.replace("http://", "http://alice:hunter2-secret@")
    monkeypatch.setenv("VOXCLI_DEBUG", "1")  # tracebacks too
    args = ["transcribe", WAV]
    if how == "flag":
        args += ["--server-url", url]
    elif how == "env":
        monkeypatch.setenv("MISTRAL_SERVER_URL", url)
    else:
        monkeypatch.delenv("MISTRAL_SERVER_URL")
        config = tmp_path / "c.toml"
        config.write_text(f'server_url = "{url}"\n')
        monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    result = run_cli(*args)
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "alice" not in result.output
    assert "user name or password" in result.stderr
    assert api_env.requests == []


# -- 14. Server text reaches the terminal without control characters ---------------------

HOSTILE = "Hi \x1b]0;owned\x07there\x1b[2J \x9b31m red\r\nnext\tline"


@pytest.mark.parametrize("mode", ["--stream", "--no-stream"])
def test_chat_answers_lose_their_control_characters(api_env, mode):
    api_env.set_chat(HOSTILE)
    result = run_cli("chat", WAV, "-p", "Q", mode)
    assert result.exit_code == 0, result.stderr
    assert no_control(result.stdout), repr(result.stdout)
    assert "next\tline" in result.stdout and "\n" in result.stdout.rstrip("\n")


def test_chat_json_answers_lose_their_control_characters(api_env):
    api_env.set_chat(HOSTILE)
    result = run_cli("chat", WAV, "-p", "Q", "--json")
    assert result.exit_code == 0, result.stderr
    assert no_control(result.stdout.rstrip("\n"))
    assert "\\u001b" not in result.stdout
    assert json.loads(result.stdout)["answer"].startswith("Hi ")


def test_streamed_transcript_text_loses_its_control_characters(api_env):
    api_env.set_transcription_stream(
        [
            ("transcription.text.delta", {"type": "transcription.text.delta", "text": "Hi\x1b[2J"}),
            (
                "transcription.text.delta",
                {"type": "transcription.text.delta", "text": " there\x07"},
            ),
            (
                "transcription.done",
                {"type": "transcription.done", "model": "m", "text": "Hi there", "language": "en"},
            ),
        ]
    )
    result = run_cli("transcribe", "--stream", WAV)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hi[2J there\n"


def test_api_error_bodies_are_escaped_on_stderr_and_in_tracebacks(api_env, monkeypatch):
    monkeypatch.setenv("VOXCLI_DEBUG", "1")
    api_env.fail_next(400, body='{"message": "bad \\u001b]0;owned\\u0007 \\u009b2J thing"}')
    result = run_cli("transcribe", WAV, "--retries", "0")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert no_control(result.stderr.replace("\n", ""))
    assert "bad \\x1b]0;owned\\x07 \\x9b2J thing" in result.stderr


def test_server_text_escapes_controls_but_keeps_lines():
    assert server_text("a\x1b[2Jb\r\nc\td\x9b") == "a[2Jb\nc\td"


@pytest.mark.parametrize("language", ["\x1b[2Jen", "english", "e", "12", "en-US-x-y-z"])
def test_detect_lang_refuses_what_is_not_a_language_code(api_env, language):
    api_env.set_transcription(
        lambda rec, duration: {**api_env.default_transcription(rec, duration), "language": language}
    )
    result = run_cli("detect-lang", WAV)
    assert result.exit_code == 1
    assert result.stdout == "unknown\n"
    assert "not a language code" in result.stderr
    assert no_control(result.stderr.replace("\n", ""))


@pytest.mark.parametrize(
    ("language", "printed"), [("EN", "en"), ("pt-BR", "pt-br"), ("yue", "yue")]
)
def test_detect_lang_accepts_language_codes(api_env, language, printed):
    api_env.set_transcription(
        lambda rec, duration: {**api_env.default_transcription(rec, duration), "language": language}
    )
    result = run_cli("detect-lang", WAV)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{printed}\n"


# -- 15. No cross-origin redirects for uploads ------------------------------------------


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("transcribe", WAV), "/v1/audio/transcriptions"),
        (("chat", WAV, "-p", "Q"), "/v1/chat/completions"),
    ],
)
def test_a_cross_origin_redirect_never_gets_the_audio(api_env, args, path):
    with FakeMistral() as other:
        api_env.fail_next(307, headers={"Location": other.url + path})
        result = run_cli(*args, "--retries", "0")
        assert result.exit_code == 1
        assert "redirected" in result.stderr and other.url in result.stderr
        one_line_error(result.stderr)
        assert other.requests == []


def test_a_same_origin_redirect_is_followed(api_env):
    api_env.fail_next(307, headers={"Location": api_env.url + "/v1/audio/transcriptions"})
    result = run_cli("transcribe", WAV, "--upload", "original")
    assert result.exit_code == 0, result.stderr
    _, second = api_env.transcription_requests()
    assert second.file("file") is not None
    assert second.file("file").data == Path(WAV).read_bytes()


# -- 17. Values checked before anything is sent ----------------------------------------


@pytest.mark.parametrize("value", ["1.6", "nan", "inf", "1e308"])
@pytest.mark.parametrize("command", ["chat", "transcribe", "transcribe --stream"])
def test_temperature_outside_the_range_is_a_usage_error(api_env, value, command):
    args = [*command.split(), WAV, "--temperature", value]
    if command == "chat":
        args += ["-p", "Q"]
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    assert "--temperature" in result.stderr
    assert value == "nan" or "from 0 to 1.5" in result.stderr  # nan: refused by the option
    assert api_env.work_requests() == []


@pytest.mark.parametrize("value", ["inf", "1e308", "100000", "nan"])
def test_timeout_must_be_finite_and_sane(api_env, value):
    result = run_cli("transcribe", WAV, "--timeout", value)
    assert result.exit_code == 2
    assert "--timeout" in result.stderr
    assert api_env.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://a b",
        "http://[::1",
        "http://127.0.0.1:99999",
        "127.0.0.1:8080",
        "ftp://example.com",
        "http://",
        "http://:80",
        "http://host/v1?x=1",
        "http://host/#frag",
        "http://ho\x00st",
        "http://ho%00st",
    ],
)
def test_a_server_url_that_does_not_parse_is_a_usage_error(api_env, url):
    result = run_cli("transcribe", WAV, "--server-url", url)
    assert result.exit_code == 2, result.stderr
    assert "--server-url" in result.stderr
    assert no_control(result.stderr.replace("\n", ""))
    assert api_env.requests == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}/", "HTTP://127.0.0.1:{port}", "http://localhost:{port}"]
)
def test_good_server_urls_still_work(fake_server, monkeypatch, url):
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-x")
    result = run_cli("transcribe", WAV, "--server-url", url.format(port=fake_server.port))
    assert result.exit_code == 0, result.stderr


def test_allowance_is_documented_as_bounded():
    from voxcli.api.client import MAX_TRANSFER_ALLOWANCE_SECONDS

    assert UPLOAD_ALLOWANCE_BYTES_PER_SECOND == 100_000
    assert math.isfinite(MAX_TRANSFER_ALLOWANCE_SECONDS) and MAX_TRANSFER_ALLOWANCE_SECONDS <= 3600


def test_file_downloads_are_not_held_to_the_answer_cap(api_env, tmp_path):
    # batch results come through the Files API, with a cap of their own
    from fake_mistral import TEST_API_KEY

    from voxcli.api import MistralApi
    from voxcli.config import Settings

    line = b'{"custom_id": "x", "response": {}}\n'
    data = line * (MAX_RESPONSE_BYTES // len(line) + 1000)
    source = tmp_path / "big.jsonl"
    source.write_bytes(data)
    api = MistralApi(Settings(api_key=TEST_API_KEY, key_origin="test", server_url=api_env.url))
    try:
        file_id = api.upload_file(source, "big.jsonl", purpose="batch")
        size = api.download_file(file_id, tmp_path / "out.jsonl", max_bytes=len(data))
    finally:
        api.close()
    assert size == len(data) > MAX_RESPONSE_BYTES
    assert (tmp_path / "out.jsonl").read_bytes() == data
