"""Long recordings end to end: split at quiet points, parts in parallel, merge, part cache.

Every test runs the CLI through the real SDK against the fake server and checks what
the server received (each part's audio) and what voxcli printed.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env
from fake_mistral import TEST_API_KEY, FakeMistral

from voxcli.engine import longform
from voxcli.env import Limits

# 61 s of tone with three pauses; with --split-minutes 0.25 (15 s parts, cuts may move
# +-3.75 s) each cut has exactly one pause within reach.
SILENCES = [(13.5, 15.5), (29.0, 31.0), (44.6, 46.4)]
SECONDS = 61.0
SPLIT = ("--split-minutes", "0.25")


@pytest.fixture
def long_wav(tmp_path: Path) -> Path:
    return make_tone_wav(tmp_path / "talk.wav", SECONDS, silence_at=SILENCES)


def cache_entries() -> list[Path]:
    root = Path(os.environ["XDG_CACHE_HOME"]) / "voxcli" / "parts"
    return sorted(root.glob("*/*.json")) if root.exists() else []


def parts(server: FakeMistral) -> list:
    """The part uploads the server received, in part order (by the part's file name)."""
    return sorted((r.file() for r in server.transcription_requests()), key=lambda f: f.filename)


def part_number(request) -> int:
    name = request.file().filename  # talk.part003.flac
    return int(name.split(".part")[1][:3])


def per_part_answer(request, duration):
    """Two segments per part, at known part-relative times, text naming the part."""
    n = part_number(request)
    half = duration / 2
    return {
        "model": "voxtral-mini-latest",
        "text": f"Part {n} begins. Part {n} ends.",
        "language": "en",
        "segments": [
            {
                "text": f"Part {n} begins.",
                "start": 0.25,
                "end": half,
                "type": "transcription_segment",
            },
            {
                "text": f"Part {n} ends.",
                "start": half,
                "end": duration,
                "type": "transcription_segment",
            },
        ],
        "usage": {
            "prompt_audio_seconds": math.ceil(duration),
            "prompt_tokens": 10 * n,
            "completion_tokens": 6,
            "total_tokens": 10 * n + 6,
        },
    }


def assert_in_silences(cuts: list[float]) -> None:
    assert len(cuts) == len(SILENCES)
    for cut, (a, b) in zip(cuts, SILENCES, strict=True):
        assert a + 0.1 < cut < b - 0.1, (cut, a, b)


def test_split_cuts_only_inside_silences_and_merges_offset_times(api_env, tmp_path, temp_dir):
    long_wav = make_tone_wav(
        tmp_path / "talk.wav", SECONDS, samplerate=44100, channels=2, silence_at=SILENCES
    )
    api_env.set_transcription(per_part_answer)
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "2", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""

    uploads = parts(api_env)
    assert [u.filename for u in uploads] == [f"talk.part{i:03d}.flac" for i in (1, 2, 3, 4)]
    for upload in uploads:
        info = sf.info(io.BytesIO(upload.data))
        assert (info.format, info.samplerate, info.channels) == ("FLAC", 16000, 1)
    durations = [u.duration for u in uploads]
    offsets = list(itertools.accumulate(durations, initial=0.0))
    assert offsets[-1] == pytest.approx(SECONDS, abs=0.01)  # nothing lost, nothing doubled
    assert_in_silences(offsets[1:-1])

    data = json.loads(result.stdout)
    assert data["text"] == " ".join(f"Part {n} begins. Part {n} ends." for n in (1, 2, 3, 4))
    assert data["duration"] == pytest.approx(SECONDS, abs=0.001)
    expected = []
    for n, (offset, length) in enumerate(zip(offsets, durations, strict=False), start=1):
        expected += [
            (f"Part {n} begins.", offset + 0.25, offset + length / 2),
            (f"Part {n} ends.", offset + length / 2, offset + length),
        ]
    got = [(s["text"], s["start"], s["end"]) for s in data["segments"]]
    assert [g[0] for g in got] == [e[0] for e in expected]
    for (_, start, end), (_, want_start, want_end) in zip(got, expected, strict=True):
        assert start == pytest.approx(want_start, abs=0.002)
        assert end == pytest.approx(want_end, abs=0.002)
    times = [t for _, start, end in got for t in (start, end)]
    assert times == sorted(times)  # in order, never overlapping
    usage = data["usage"]
    assert usage["prompt_tokens"] == 10 + 20 + 30 + 40
    assert usage["total_tokens"] == 100 + 4 * 6
    assert usage["prompt_audio_seconds"] == sum(math.ceil(d) for d in durations)
    assert list(temp_dir.iterdir()) == []


def test_split_srt_with_words_is_monotonic(api_env, long_wav, temp_dir):
    result = run_cli(
        "transcribe", str(long_wav), *SPLIT, "-m", "voxtral-mini-2602", "-t", "segment", "-t",
        "word", "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    offsets = list(itertools.accumulate((u.duration for u in parts(api_env)), initial=0.0))
    for key in ("segments", "words"):
        spans = [(item["start"], item["end"]) for item in data[key]]
        assert spans, key
        flat = [t for span in spans for t in span]
        assert flat == sorted(flat), key
        assert flat[-1] == pytest.approx(SECONDS, abs=0.01)
    # the fake spreads each part's segments over that part: a segment starts at each cut
    starts = [s["start"] for s in data["segments"]]
    for offset in offsets[:-1]:
        assert min(abs(s - offset) for s in starts) < 0.002
    srt = run_cli("transcribe", str(long_wav), *SPLIT, "-f", "srt")
    assert srt.exit_code == 0, srt.stderr
    assert srt.stdout.startswith("1\n00:00:00,000 --> ")


def test_verbose_reports_the_parts(api_env, long_wav):
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-v")
    assert result.exit_code == 0, result.stderr
    assert "quiet points" in result.stderr
    assert result.stderr.count(") done") == 4
    assert "4 parts transcribed, 0 of them from the cache" in result.stderr
    again = run_cli("transcribe", str(long_wav), *SPLIT, "-v")
    assert again.stderr.count(") from the cache") == 4
    assert "4 parts transcribed, 4 of them from the cache" in again.stderr


def test_short_recording_is_not_split(api_env, tmp_path):
    wav = make_tone_wav(tmp_path / "short.wav", 17.0, silence_at=[(8, 9)])
    result = run_cli("transcribe", str(wav), *SPLIT)  # 17 s is within 15 s + 3.75 s
    assert result.exit_code == 0, result.stderr
    [upload] = parts(api_env)
    assert upload.filename == "short.flac"
    assert cache_entries() == []  # single requests are never cached


def test_failed_part_is_resumed_and_only_missing_parts_are_sent(api_env, long_wav, temp_dir):
    def fail_part_3(request, duration):
        if part_number(request) == 3:
            raise RuntimeError("part 3 fails")  # the fake answers 500
        return api_env.default_transcription(request, duration)

    api_env.set_transcription(fail_part_3)
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "4", "--retries", "0")
    assert result.exit_code == 1
    assert "500" in result.stderr
    assert "3 finished parts are saved in the cache" in result.stderr
    assert result.stdout == ""
    first = {u.filename: u for u in parts(api_env)}
    assert len(first) == 4  # -j 4: every part was already in flight
    assert len(cache_entries()) == 3
    assert list(temp_dir.iterdir()) == []

    api_env.reset()
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "4", "-f", "json")
    assert result.exit_code == 0, result.stderr
    [resent] = parts(api_env)
    assert resent.filename == "talk.part003.flac"
    assert resent.sha256 == first[resent.filename].sha256  # the very same range
    data = json.loads(result.stdout)
    assert data["text"].count("Hello from the fake Mistral server.") == 4
    assert len(cache_entries()) == 4
    assert list(temp_dir.iterdir()) == []


def test_with_one_job_a_failure_stops_scheduling_later_parts(api_env, long_wav, temp_dir):
    def fail_part_2(request, duration):
        if part_number(request) == 2:
            raise RuntimeError("part 2 fails")  # the fake answers 500
        return api_env.default_transcription(request, duration)

    api_env.set_transcription(fail_part_2)
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "1", "--retries", "0")
    assert result.exit_code == 1
    # -j 1: one request in flight, the next part encoded and waiting for it. When part 2
    # fails, part 3 is already waiting (it is sent, and saved); part 4 is never started.
    assert [part_number(r) for r in api_env.transcription_requests()] == [1, 2, 3]
    assert api_env.max_in_flight == 1
    assert "2 finished parts are saved in the cache" in result.stderr
    api_env.reset()
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert [part_number(r) for r in api_env.transcription_requests()] == [2, 4]
    assert list(temp_dir.iterdir()) == []


def test_no_cache_sends_every_part_and_writes_nothing(api_env, long_wav):
    for _ in range(2):
        result = run_cli("transcribe", str(long_wav), *SPLIT, "--no-cache")
        assert result.exit_code == 0, result.stderr
    assert len(api_env.transcription_requests()) == 8
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "voxcli" / "parts").exists()


def test_cache_is_private_and_keyed_by_request_parameters(api_env, long_wav):
    assert run_cli("transcribe", str(long_wav), *SPLIT).exit_code == 0
    entries = cache_entries()
    assert len(entries) == 4
    root = Path(os.environ["XDG_CACHE_HOME"]) / "voxcli"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)

    # Another model, temperature, language or bias is another request: nothing reused.
    for extra in (
        ["-m", "voxtral-mini-2602"],
        ["--temperature", "0.3"],
        ["-l", "fr"],
        ["--bias", "Mistral"],
    ):
        api_env.reset()
        assert run_cli("transcribe", str(long_wav), *SPLIT, *extra).exit_code == 0
        assert len(api_env.transcription_requests()) == 4, extra
    # ... and other audio with the same name is other audio.
    api_env.reset()
    make_tone_wav(long_wav, SECONDS, samplerate=22050, silence_at=SILENCES)
    assert run_cli("transcribe", str(long_wav), *SPLIT).exit_code == 0
    assert len(api_env.transcription_requests()) == 4
    # The same request again is served from the cache.
    api_env.reset()
    assert run_cli("transcribe", str(long_wav), *SPLIT).exit_code == 0
    assert api_env.transcription_requests() == []


def test_damaged_cache_entry_is_sent_again(api_env, long_wav):
    assert run_cli("transcribe", str(long_wav), *SPLIT).exit_code == 0
    cache_entries()[0].write_text("{not json")
    api_env.reset()
    result = run_cli("transcribe", str(long_wav), *SPLIT)
    assert result.exit_code == 0, result.stderr
    assert len(api_env.transcription_requests()) == 1


def test_unwritable_cache_warns_and_still_transcribes(api_env, long_wav, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "cannot write the part cache" in result.stderr
    assert json.loads(result.stdout)["text"].count("Hello from the fake Mistral server.") == 4


def test_diarize_on_an_implicit_split_warns_and_goes_ahead(api_env, long_wav):
    limits = Limits(max_upload_bytes=600_000)
    result = run_cli("transcribe", str(long_wav), "--diarize", limits=limits)
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "speaker labels restart" in result.stderr
    assert len(api_env.transcription_requests()) > 1
    assert {r.field("diarize") for r in api_env.transcription_requests()} == {"true"}


def test_diarize_with_explicit_split_warns(api_env, long_wav):
    result = run_cli(
        "transcribe", str(long_wav), *SPLIT, "--diarize", "-t", "segment", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "speaker labels" in result.stderr
    assert {r.field("diarize") for r in api_env.transcription_requests()} == {"true"}
    assert {s["speaker"] for s in json.loads(result.stdout)["segments"]} == {
        "Speaker 1",
        "Speaker 2",
    }


def test_diarize_without_a_split_says_nothing(api_env, tmp_path):
    wav = make_tone_wav(tmp_path / "short.wav", 5.0)
    result = run_cli("transcribe", str(wav), *SPLIT, "--diarize")
    assert result.exit_code == 0 and result.stderr == ""


def test_upload_over_the_limit_is_split_into_parts_under_it(
    api_env, long_wav, temp_dir, monkeypatch
):
    limit = 600_000
    limits = Limits(max_upload_bytes=limit)
    result = run_cli("transcribe", str(long_wav), "-f", "json", limits=limits)
    assert result.exit_code == 0, result.stderr
    uploads = parts(api_env)
    assert len(uploads) >= 4  # 61 s of FLAC could take ~2 MB
    assert all(u.size <= limit for u in uploads)
    offsets = list(itertools.accumulate((u.duration for u in uploads), initial=0.0))
    assert offsets[-1] == pytest.approx(SECONDS, abs=0.01)
    assert json.loads(result.stdout)["duration"] == pytest.approx(SECONDS, abs=0.001)
    assert list(temp_dir.iterdir()) == []


def test_original_upload_over_the_limit_is_split_too(api_env, tmp_path, monkeypatch):
    mp3 = make_tone_wav(tmp_path / "talk.mp3", 40.0, samplerate=22050, silence_at=[(19, 21)])
    limits = Limits(max_upload_bytes=mp3.stat().st_size - 1)
    result = run_cli("transcribe", str(mp3), "--upload", "original", limits=limits)
    assert result.exit_code == 0, result.stderr
    uploads = parts(api_env)
    assert len(uploads) >= 2
    assert all(u.filename.endswith(".flac") and u.size < mp3.stat().st_size for u in uploads)


def test_file_under_the_limit_is_not_split(api_env, long_wav, monkeypatch):
    limits = Limits(max_upload_bytes=longform.flac_upper_bound(SECONDS) + 1)
    assert run_cli("transcribe", str(long_wav), limits=limits).exit_code == 0
    assert [u.filename for u in parts(api_env)] == ["talk.flac"]


def test_undecodable_container_over_the_limit_is_refused(api_env, tmp_path, monkeypatch):
    m4a = tmp_path / "talk.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + bytes(2000))
    limits = Limits(max_upload_bytes=1000)
    result = run_cli("transcribe", str(m4a), limits=limits)
    assert result.exit_code == 2
    assert "limit" in result.stderr and "cannot cut MP4" in result.stderr
    assert api_env.work_requests() == []


def test_mp3_is_split_inside_silences(api_env, tmp_path, temp_dir):
    mp3 = make_tone_wav(
        tmp_path / "talk.mp3", SECONDS, samplerate=22050, channels=2, silence_at=SILENCES
    )
    result = run_cli("transcribe", str(mp3), *SPLIT)
    assert result.exit_code == 0, result.stderr
    durations = [u.duration for u in parts(api_env)]
    offsets = list(itertools.accumulate(durations, initial=0.0))
    assert_in_silences(offsets[1:-1])
    assert offsets[-1] == pytest.approx(SECONDS, abs=0.06)  # MP3 priming/padding
    assert list(temp_dir.iterdir()) == []


def test_stdin_recording_is_split_and_cached(api_env, long_wav, temp_dir):
    data = long_wav.read_bytes()
    assert run_cli("transcribe", "-", *SPLIT, stdin=data).exit_code == 0
    assert len(parts(api_env)) == 4
    api_env.reset()
    assert run_cli("transcribe", "-", *SPLIT, stdin=data).exit_code == 0
    assert api_env.transcription_requests() == []
    assert list(temp_dir.iterdir()) == []


def test_split_minutes_must_be_positive(api_env, long_wav):
    result = run_cli("transcribe", str(long_wav), "--split-minutes", "0")
    assert result.exit_code == 2
    assert "--split-minutes" in result.stderr
    assert api_env.requests == []


def test_split_minutes_with_a_url_warns_and_sends_the_url(api_env):
    result = run_cli("transcribe", "https://example.com/a.mp3", *SPLIT)
    assert result.exit_code == 0
    assert "does not apply to URLs" in result.stderr
    assert len(api_env.transcription_requests()) == 1


def test_interrupting_a_split_run_leaves_no_temp_files_and_resumes(
    fake_server, long_wav, tmp_path, monkeypatch
):
    """Ctrl-C (a real SIGINT to a real process) while parts 3 and 4 are in flight."""
    fake_server.delay_fn = lambda request: 0.0 if part_number(request) <= 2 else 60.0
    tmp = tmp_path / "proc-tmp"
    tmp.mkdir()
    env = subprocess_env(fake_server, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", str(long_wav), *SPLIT, "-j", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        fake_server.wait_for_requests(4, timeout=60, path="/v1/audio/transcriptions")
        deadline = time.monotonic() + 30
        while len(cache_entries()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(cache_entries()) == 2
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - started < 10  # no waiting for the uploads in flight
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert out == b""
    assert list(tmp.iterdir()) == []

    fake_server.delay_fn = None
    fake_server.reset()
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "2")
    assert result.exit_code == 0, result.stderr
    assert sorted(part_number(r) for r in fake_server.transcription_requests()) == [3, 4]


def test_parts_in_flight_and_part_files_on_disk_are_bounded(api_env, tmp_path, temp_dir):
    wav = make_tone_wav(
        tmp_path / "long.wav", 100.0, silence_at=[(a, a + 1.0) for a in range(14, 100, 15)]
    )
    on_disk: list[int] = []

    def slow(request):
        on_disk.append(len(list(temp_dir.iterdir())))
        return 0.3

    api_env.delay_fn = slow
    result = run_cli("transcribe", str(wav), *SPLIT, "-j", "2")
    assert result.exit_code == 0, result.stderr
    assert len(api_env.transcription_requests()) >= 6
    assert api_env.max_in_flight == 2
    assert max(on_disk) <= 3  # --jobs part files in flight + the next one, encoded ahead
    assert list(temp_dir.iterdir()) == []


def test_diarize_split_warning_names_stdin_not_the_spool_file(api_env, long_wav):
    limits = Limits(max_upload_bytes=600_000)
    result = run_cli("transcribe", "-", "--diarize", stdin=long_wav.read_bytes(), limits=limits)
    assert result.exit_code == 0, result.stderr
    assert "voxcli: warning: -: split into parts" in result.stderr
    assert "voxcli-stdin" not in result.stderr
