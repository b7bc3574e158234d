"""``voxcli batch`` across processes: a submit killed mid-upload resumes without uploading
again or making a second job; two overlapping collects write each output once; a collect
killed half-way finishes on the next run. voxcli runs as a real subprocess where it is
killed or runs alongside another."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env

VOXCLI = [sys.executable, "-m", "voxcli"]


def batches() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "voxcli" / "batches"


def journal(kind: str) -> list[dict]:
    records = []
    for path in batches().glob(f"*/{kind}.jsonl"):
        records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def submitted(result) -> tuple[str, list[str]]:
    assert result.exit_code == 0, result.output
    pairs = [line.split() for line in result.stdout.splitlines()]
    return pairs[0][0], [p[1] for p in pairs]


@pytest.fixture
def inputs(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    for n in range(5):
        make_tone_wav(tmp_path / "in" / f"take{n}.wav", 1.0 + n / 10)
    return tmp_path / "in"


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_killed_submit_resumes_without_uploading_again_or_a_second_job(
    inputs, api_env, signum, tmp_path
):
    lock = threading.Lock()
    uploads = []

    def slow_after_two(request):
        if request.method == "POST" and request.path == "/v1/files":
            with lock:
                uploads.append(request)
                return 30.0 if len(uploads) > 2 else 0.0
        return 0.0

    api_env.delay_fn = slow_after_two
    (tmp_path / "tmp").mkdir()
    process = subprocess.Popen(
        [*VOXCLI, "batch", "submit", "-r", "in", "-d", "out", "-j", "1"],
        env=subprocess_env(api_env, TMPDIR=str(tmp_path / "tmp")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: len(uploads) >= 3, what="a third upload")
        wait_until(lambda: len([r for r in journal("submit") if r["t"] == "upload"]) == 2)
    finally:
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    api_env.delay_fn = None
    assert api_env.batch_jobs == {}
    if signum == signal.SIGTERM:  # a clean stop: exit 143, no temporary files left
        assert process.returncode == 143, stderr
        assert b"terminated" in stderr
        assert not list((tmp_path / "tmp").iterdir())

    status = run_cli("batch", "status")
    assert status.exit_code == 0 and "UPLOADING  (submit interrupted: run it again)" in (
        status.stdout
    )
    result = run_cli("batch", "submit", "-r", "in", "-d", "out", "-j", "1", "-v")
    name, [job_id] = submitted(result)
    assert "resuming batch" in result.stderr
    answered = collections.Counter(
        r.file().filename for r in api_env.file_requests() if r.method == "POST" and r.status == 200
    )
    assert sorted(answered) == [f"take{n}.flac" for n in range(5)]
    assert set(answered.values()) == {1}  # nothing uploaded twice
    assert len(api_env.batch_jobs) == 1 and len(api_env.batch_jobs[job_id].lines) == 5
    assert all(
        line.body["file_id"] in api_env.uploaded_files for line in api_env.batch_jobs[job_id].lines
    )
    again = run_cli("batch", "submit", "-r", "in", "-d", "out")
    assert submitted(again) == (name, [job_id]) and len(api_env.batch_jobs) == 1


def test_two_overlapping_collects_write_each_output_once(inputs, api_env, tmp_path):
    api_env.batch_step_seconds = 0
    name, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    api_env.delay_fn = lambda request: 3.0 if request.path.endswith("/content") else 0.0
    command = [*VOXCLI, "batch", "collect", "--report", "report.jsonl", "-v"]
    processes = [
        subprocess.Popen(
            command,
            env=subprocess_env(api_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.communicate()[1]) for p in processes]
    assert [code for code, _ in results] == [0, 0], results
    assert sum("another voxcli is collecting it" in err for _, err in results) == 1, results
    lines = [json.loads(x) for x in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert sorted(r["source"] for r in lines if r["status"] == "done") == [
        f"in/take{n}.wav" for n in range(5)
    ]
    assert len(lines) == 5
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    assert len(written) == 5
    api_env.delay_fn = None
    assert run_cli("batch", "collect", name).exit_code == 0  # a third, later run
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == written


def _many_segments(request, duration):
    """A long transcript, so rendering each output takes a while (~0.1 s as SRT)."""
    segments = [
        {
            "text": f"Sentence {i} of a long recording.",
            "start": i * 1.0,
            "end": i * 1.0 + 0.9,
            "type": "transcription_segment",
        }
        for i in range(3000)
    ]
    return {
        "model": "voxtral-mini-latest",
        "text": " ".join(s["text"] for s in segments),
        "language": "en",
        "segments": segments,
        "usage": {"prompt_audio_seconds": 3000},
    }


def test_a_killed_collect_finishes_on_the_next_run(tmp_path, monkeypatch, api_env):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    for n in range(20):
        make_tone_wav(tmp_path / "in" / f"part{n:02d}.wav", 0.5)
    api_env.batch_step_seconds = 0
    api_env.set_transcription(_many_segments)
    name, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", "-f", "srt"))
    process = subprocess.Popen(
        [*VOXCLI, "batch", "collect", "-j", "1"],
        env=subprocess_env(api_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: len(journal("collect")) >= 3, what="three written outputs")
    finally:
        process.kill()
        process.wait(timeout=30)
    settled = {r["input"] for r in journal("collect") if r.get("t") == "input"}
    assert 3 <= len(settled) < 20, "the collect finished before it could be killed"
    outputs = sorted((tmp_path / "out").glob("*.srt"))
    before = {p.name: p.stat().st_mtime_ns for p in outputs}

    result = run_cli("batch", "collect", "--report", "report.jsonl")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.srt"))) == 20
    rewritten = [
        json.loads(x)["output"] for x in (tmp_path / "report.jsonl").read_text().splitlines()
    ]
    assert len(rewritten) <= 20 - len(settled) + 1  # at most the one being written when killed
    inputs = json.loads((batches() / name / "manifest.json").read_text())["inputs"]
    for entry in inputs:
        if entry["index"] in settled:
            output = Path(entry["output"])
            assert output.stat().st_mtime_ns == before[output.name]  # not written again
            assert str(output) not in rewritten
    records = [r for r in journal("collect") if r.get("t") == "input"]
    assert sorted(r["input"] for r in records) == list(range(20))
