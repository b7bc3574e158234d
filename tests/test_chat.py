"""voxcli chat, end to end through the real SDK against the fake server."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
from pathlib import Path
from unittest import mock

import pytest
import soundfile
from audio_factory import make_tone_wav
from cli_runner import make_env, run_cli, run_env
from fake_mistral import TEST_API_KEY

from voxcli.cli import run
from voxcli.commands.chat.messages import write_answer

DATA = Path(__file__).parent / "data"
WAV, MP3 = DATA / "speech.wav", DATA / "speech.mp3"


def _content(request) -> list[dict]:
    """The user message's content chunks of a recorded chat request."""
    [user] = [m for m in request.json["messages"] if m["role"] == "user"]
    return user["content"]


def _audio_chunks(request) -> list[str]:
    return [c["input_audio"] for c in _content(request) if c["type"] == "input_audio"]


def _decode(b64: str) -> bytes:
    assert not b64.startswith("data:")
    return base64.b64decode(b64, validate=True)


# --- what is sent ----------------------------------------------------------------------------


def test_inline_base64_audio_is_decodable_audio(api_env):
    result = run_cli("chat", str(WAV), "-p", "What is said?")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    [chunk] = _audio_chunks(request)
    data, rate = soundfile.read(io.BytesIO(_decode(chunk)))
    original = soundfile.info(str(WAV))
    # lossless input goes as 16 kHz mono FLAC, the whole clip
    assert soundfile.info(io.BytesIO(_decode(chunk))).format == "FLAC"
    assert rate == 16_000 and data.ndim == 1
    assert len(data) / rate == pytest.approx(original.duration, abs=0.01)
    assert api_env.file_requests() == []


def test_two_clips_give_two_input_audio_chunks_in_order(api_env):
    result = run_cli("chat", str(MP3), str(WAV), "-p", "Compare them.")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    content = _content(request)
    assert [c["type"] for c in content] == ["input_audio", "input_audio", "text"]
    first, second = (_decode(c["input_audio"]) for c in content[:2])
    assert first == MP3.read_bytes()  # already compact: sent as is
    assert soundfile.info(io.BytesIO(second)).format == "FLAC"
    assert content[2]["text"] == "Compare them."
    assert "received 2 audio chunk(s)" in result.stdout


def test_the_same_clip_twice_is_sent_twice(api_env):
    result = run_cli("chat", str(MP3), str(MP3), "-p", "Are these identical?")
    assert result.exit_code == 0, result.stderr
    chunks = _audio_chunks(api_env.chat_requests()[0])
    assert [_decode(c) for c in chunks] == [MP3.read_bytes()] * 2


def test_url_audio_is_passed_as_url(api_env):
    url = "https://example.com/audio/talk.mp3?sig=abc"
    result = run_cli("chat", url, str(WAV), "-p", "Which one is longer?")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    chunks = _audio_chunks(request)
    assert chunks[0] == url
    assert soundfile.info(io.BytesIO(_decode(chunks[1]))).format == "FLAC"


def test_model_system_temperature_and_max_tokens_map_onto_the_api(api_env):
    result = run_cli(
        "chat",
        str(WAV),
        "-p",
        "Summarize",
        "-s",
        "Answer in French.",
        "--model",
        "voxtral-small-latest",
        "--temperature",
        "0.3",
        "--max-tokens",
        "64",
    )
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    body = request.json
    assert body["model"] == "voxtral-small-latest"
    assert body["temperature"] == pytest.approx(0.3)
    assert body["max_tokens"] == 64
    assert body["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert body["messages"][1]["role"] == "user"
    assert request.authorization == f"Bearer {TEST_API_KEY}"


def test_defaults_to_voxtral_small_and_sends_no_optional_fields(api_env):
    result = run_cli("chat", str(WAV), "-p", "Summarize")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    body = request.json
    assert body["model"] == "voxtral-small-latest"
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body.get("temperature") is None and body.get("max_tokens") is None


def test_audio_from_stdin(api_env):
    result = run_cli("chat", "-", "-p", "What is said?", stdin=WAV.read_bytes())
    assert result.exit_code == 0, result.stderr
    [chunk] = _audio_chunks(api_env.chat_requests()[0])
    data, rate = soundfile.read(io.BytesIO(_decode(chunk)))
    assert rate == 16_000
    assert len(data) / rate == pytest.approx(soundfile.info(str(WAV)).duration, abs=0.01)


# --- uploads over the threshold --------------------------------------------------------------


def test_file_over_threshold_is_uploaded_referenced_by_signed_url_and_deleted(api_env, temp_dir):
    result = run_cli("chat", str(WAV), "-p", "Summarize", "--upload-threshold", "1KB")
    assert result.exit_code == 0, result.stderr
    [upload] = [r for r in api_env.file_requests() if r.method == "POST"]
    assert upload.field("purpose") == "audio"
    sent = upload.file("file")
    assert sent.filename == "speech.flac"
    assert soundfile.info(io.BytesIO(sent.data)).samplerate == 16_000
    [request] = api_env.chat_requests()
    [chunk] = _audio_chunks(request)
    file_id = api_env.deleted_file_ids[0]
    assert chunk.startswith(f"{api_env.url}/signed/{file_id}?")
    assert api_env.deleted_file_ids == [file_id]
    assert api_env.uploaded_files == {}
    order = [(r.method, r.path) for r in api_env.work_requests()]
    assert order == [
        ("POST", "/v1/files"),
        ("GET", f"/v1/files/{file_id}/url"),
        ("POST", "/v1/chat/completions"),
        ("DELETE", f"/v1/files/{file_id}"),
    ]
    assert list(temp_dir.iterdir()) == []  # the re-encoded FLAC is gone too


def test_uploaded_file_is_deleted_when_the_signed_url_fails(api_env):
    api_env.fail_next(500, path="/v1/files/", times=1)  # GET /v1/files/{id}/url
    result = run_cli("chat", str(WAV), "-p", "Q", "--upload-threshold", "1KB", "--retries", "0")
    assert result.exit_code == 1
    assert api_env.chat_requests() == []
    assert len(api_env.deleted_file_ids) == 1
    assert api_env.uploaded_files == {}


def test_only_files_over_the_threshold_are_uploaded(api_env, tmp_path):
    big = make_tone_wav(tmp_path / "big.wav", 30.0)  # ~1 MB FLAC once re-encoded
    result = run_cli("chat", str(WAV), str(big), "-p", "Q", "--upload-threshold", "200000")
    assert result.exit_code == 0, result.stderr
    first, second = _audio_chunks(api_env.chat_requests()[0])
    assert soundfile.info(io.BytesIO(_decode(first))).format == "FLAC"  # inline
    assert second.startswith(f"{api_env.url}/signed/")
    assert len(api_env.deleted_file_ids) == 1 and api_env.uploaded_files == {}


def test_uploaded_file_is_deleted_when_the_chat_request_fails(api_env):
    api_env.fail_next(500, path="/v1/chat/completions", times=5)
    result = run_cli(
        "chat", str(WAV), "-p", "Summarize", "--upload-threshold", "1KB", "--retries", "0"
    )
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr
    assert len(api_env.chat_requests()) == 1
    assert len(api_env.deleted_file_ids) == 1
    assert api_env.uploaded_files == {}
    assert api_env.requests[-1].method == "DELETE"


def test_uploaded_file_is_deleted_when_interrupted(api_env, monkeypatch, temp_dir):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("voxcli.api.MistralApi.chat_stream", interrupt)
    result = run_cli(
        "chat", "-", "-p", "Summarize", "--upload-threshold", "1KB", stdin=WAV.read_bytes()
    )
    assert result.exit_code == 130
    assert len(api_env.deleted_file_ids) == 1
    assert api_env.uploaded_files == {}
    assert list(temp_dir.iterdir()) == []  # spooled stdin and the FLAC are gone


def _fail_on_server(fake, attr: str, should_fail) -> None:
    """Make one of the fake's handlers answer 500 when ``should_fail(rec)``, else as usual."""
    original = getattr(fake, attr)

    def handler(h, rec, *args):
        if should_fail(rec):
            return fake._error(h, rec, 500, "injected failure")
        return original(h, rec, *args)

    setattr(fake, attr, handler)


def test_uploads_are_deleted_when_a_later_upload_fails(api_env, tmp_path):
    other = make_tone_wav(tmp_path / "other.wav", 3.0)
    uploads = []

    def second_upload(rec) -> bool:
        uploads.append(rec)
        return len(uploads) == 2

    _fail_on_server(api_env, "_upload", second_upload)
    result = run_cli(
        "chat", str(WAV), str(other), "-p", "Q", "--upload-threshold", "1KB", "--retries", "0"
    )
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr
    assert api_env.chat_requests() == []
    assert len(api_env.deleted_file_ids) == 1  # the first upload
    assert api_env.uploaded_files == {}


def test_a_failed_delete_is_a_warning_not_an_error(api_env):
    _fail_on_server(api_env, "_file_op", lambda rec: rec.method == "DELETE")
    result = run_cli("chat", str(WAV), "-p", "Q", "--upload-threshold", "1KB", "--retries", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Fake answer")
    [line] = result.stderr.splitlines()
    assert line.startswith("voxcli: warning: ")
    assert "could not delete uploaded file 00000000-" in line


def test_missing_file_fails_before_any_upload(api_env, tmp_path):
    result = run_cli(
        "chat", str(WAV), str(tmp_path / "nope.wav"), "-p", "Q", "--upload-threshold", "1KB"
    )
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert api_env.work_requests() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10MB", 10_000_000), ("512KB", 512_000), ("2MiB", 2 * 1024 * 1024), ("1234", 1234)],
)
def test_upload_threshold_accepts_units(text, expected):
    from voxcli.sizes import parse_size

    assert parse_size(text) == expected


def test_bad_upload_threshold_is_a_usage_error(api_env):
    result = run_cli("chat", str(WAV), "-p", "Q", "--upload-threshold", "ten")
    assert result.exit_code == 2
    assert "not a size" in result.stderr
    assert api_env.requests == []


# --- the prompt ------------------------------------------------------------------------------


def test_prompt_from_stdin(api_env):
    result = run_cli("chat", str(WAV), stdin="Summarize this talk\n")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.chat_requests()
    assert _content(request)[-1] == {"type": "text", "text": "Summarize this talk"}


def test_prompt_flag_wins_over_stdin(api_env):
    result = run_cli("chat", str(WAV), "-p", "From the flag", stdin="From stdin")
    assert result.exit_code == 0, result.stderr
    assert _content(api_env.chat_requests()[0])[-1]["text"] == "From the flag"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("chat", str(WAV)), b""),  # nothing on stdin
        (("chat", str(WAV)), b"  \n"),  # only whitespace
        (("chat", "-"), WAV.read_bytes()),  # stdin carries the audio
        (("chat", str(WAV), "--api-key-file", "-"), f"{TEST_API_KEY}\n".encode()),
        (("chat", str(WAV), "-p", "   "), b""),
    ],
)
def test_no_question_is_a_usage_error(api_env, args, stdin):
    result = run_cli(*args, stdin=stdin)
    assert result.exit_code == 2, result.stderr
    assert "no question" in result.stderr
    assert "--prompt" in result.stderr
    assert api_env.requests == []


def test_stdin_can_be_given_only_once(api_env):
    result = run_cli("chat", "-", "-", "-p", "Q", stdin=WAV.read_bytes())
    assert result.exit_code == 2
    assert "only once" in result.stderr


def test_stdin_cannot_carry_both_audio_and_key(api_env):
    result = run_cli("chat", "-", "-p", "Q", "--api-key-file", "-", stdin=WAV.read_bytes())
    assert result.exit_code == 2
    assert "both the audio" in result.stderr


# --- output ----------------------------------------------------------------------------------


class _RecordingStdout(io.StringIO):
    """Records every write and whether a flush followed it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []

    def write(self, text: str) -> int:
        self.events.append(("write", text))
        return super().write(text)

    def flush(self) -> None:
        self.events.append(("flush", ""))


def _run_recording(*args: str) -> tuple[int, _RecordingStdout, str]:
    out, err = _RecordingStdout(), io.StringIO()
    code = run_env(make_env(stdout=out, stderr=err), *args)
    return code, out, err.getvalue()


def test_streaming_output_arrives_in_order_and_ends_with_a_newline(api_env):
    answer = "The speaker greets the audience and talks about the weather."
    api_env.set_chat(answer)
    code, out, err = _run_recording("chat", str(WAV), "-p", "Summarize")
    assert code == 0, err
    assert out.getvalue() == answer + "\n"
    assert api_env.chat_requests()[0].json["stream"] is True
    writes = [text for kind, text in out.events if kind == "write"]
    # one write per delta the server sent (word by word), in order, then the newline
    assert writes[:-1] == [w if i == 0 else " " + w for i, w in enumerate(answer.split())]
    assert writes[-1] == "\n"
    # every piece is flushed before the next one is written
    for i, (kind, _) in enumerate(out.events[:-1]):
        if kind == "write":
            assert out.events[i + 1][0] == "flush"


def test_closed_stdout_mid_stream_still_deletes_the_upload(api_env):
    class ClosedAfterFirstWrite(io.StringIO):
        def write(self, text: str) -> int:
            if self.getvalue():
                raise BrokenPipeError(32, "Broken pipe")
            return super().write(text)

    outcome: dict[str, object] = {}

    def run_it() -> None:
        # Typer turns EPIPE into sys.exit(1) (or re-raises it): any ending is fine here.
        try:
            with mock.patch.object(sys, "stdout", ClosedAfterFirstWrite()):
                outcome["code"] = run(["chat", str(WAV), "-p", "Q", "--upload-threshold", "1KB"])
        except BaseException as exc:
            outcome["code"] = exc

    # A suspended stream once held the only request slot and the delete waited forever.
    worker = threading.Thread(target=run_it, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "voxcli hung after stdout was closed"
    assert outcome["code"] != 0
    assert len(api_env.chat_requests()) == 1
    assert len(api_env.deleted_file_ids) == 1
    assert api_env.uploaded_files == {}


def test_streamed_answer_ends_with_exactly_one_newline(api_env):
    api_env.set_chat("Line one.\n\nLine two.\n\n\n")
    result = run_cli("chat", str(WAV), "-p", "Q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Line one.\n\nLine two.\n"


def test_no_stream_waits_for_the_whole_answer(api_env):
    api_env.set_chat("All of it at once.\n")
    code, out, err = _run_recording("chat", str(WAV), "-p", "Q", "--no-stream")
    assert code == 0, err
    assert out.getvalue() == "All of it at once.\n"
    assert not api_env.chat_requests()[0].json.get("stream")
    assert [text for kind, text in out.events if kind == "write"] == ["All of it at once.", "\n"]


def test_json_output_parses_and_stderr_is_empty(api_env):
    result = run_cli("chat", str(WAV), str(MP3), "-p", "Summarize", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    data = json.loads(result.stdout)
    assert set(data) == {"answer", "model", "usage", "finish_reason"}
    assert data["answer"].startswith("Fake answer from voxtral-small-latest: received 2 audio")
    assert data["model"] == "voxtral-small-latest"
    assert data["finish_reason"] == "stop"
    assert data["usage"]["prompt_audio_seconds"] == 6  # 2 x 2.84 s, rounded up by the fake
    assert data["usage"]["total_tokens"] == (
        data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
    )


def test_cut_off_answer_is_reported_on_stderr(api_env):
    api_env.set_chat(
        lambda rec: {
            "id": "x",
            "object": "chat.completion",
            "model": "voxtral-small-latest",
            "created": 0,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Half"},
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )
    result = run_cli("chat", str(WAV), "-p", "Q", "--no-stream", "--max-tokens", "1")
    assert result.exit_code == 0
    assert result.stdout == "Half\n"
    assert "cut off" in result.stderr


def test_write_answer_holds_back_trailing_newlines_until_more_text():
    out = io.StringIO()
    write_answer(["a\n", "\n", "b\n"], out)
    assert out.getvalue() == "a\n\nb\n"


# --- errors, shared with transcribe ----------------------------------------------------------


def test_no_key_is_exit_3(fake_server, monkeypatch):
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    result = run_cli("chat", str(WAV), "-p", "Q")
    assert result.exit_code == 3
    assert "no Mistral API key found" in result.stderr
    assert fake_server.requests == []


def test_rejected_key_is_exit_3(api_env):
    api_env.reject_all_keys()
    result = run_cli("chat", str(WAV), "-p", "Q")
    assert result.exit_code == 3
    assert "rejected" in result.stderr
    assert TEST_API_KEY not in result.output


def test_retries_then_succeeds(api_env):
    api_env.fail_next(503, path="/v1/chat/completions", times=1)
    result = run_cli("chat", str(WAV), "-p", "Q", "--retries", "1")
    assert result.exit_code == 0, result.stderr
    assert len(api_env.chat_requests()) == 2


def test_gives_up_after_the_retries(api_env):
    api_env.fail_next(503, path="/v1/chat/completions", times=5)
    result = run_cli("chat", str(WAV), "-p", "Q", "--retries", "2", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "after 3 attempts" in result.stderr
    assert len(api_env.chat_requests()) == 3


def test_dropped_stream_is_an_api_error_and_output_ends_with_a_newline(api_env):
    api_env.set_chat("one two three four five")
    api_env.drop_next(path="/v1/chat/completions", after_events=3)
    result = run_cli("chat", str(WAV), "-p", "Q", "--retries", "0")
    assert result.exit_code == 1
    assert result.stdout == "one two\n"
    assert "voxcli: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_key_file_and_server_flags_are_shared_with_transcribe(fake_server, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(TEST_API_KEY + "\n")
    fake_server.require_key(TEST_API_KEY)
    result = run_cli(
        "chat",
        str(WAV),
        "-p",
        "Q",
        "--api-key-file",
        str(key_file),
        "--server-url",
        fake_server.url,
    )
    assert result.exit_code == 0, result.stderr
    assert fake_server.chat_requests()[0].authorization == f"Bearer {TEST_API_KEY}"


def test_default_threshold_is_10_mb(api_env, tmp_path):
    import numpy as np

    # white noise barely compresses: 16 kHz 16-bit mono FLAC stays ~32 KB per second
    noise = np.random.default_rng(4).uniform(-0.9, 0.9, 16_000 * 330).astype(np.float32)
    path = tmp_path / "noise.wav"
    soundfile.write(str(path), noise, 16_000, subtype="PCM_16")
    result = run_cli("chat", str(path), "-p", "Q")
    assert result.exit_code == 0, result.stderr
    [upload] = [r for r in api_env.file_requests() if r.method == "POST"]
    assert upload.file("file").size > 10_000_000
    assert _audio_chunks(api_env.chat_requests()[0])[0].startswith(f"{api_env.url}/signed/")
    assert len(api_env.deleted_file_ids) == 1
