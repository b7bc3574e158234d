"""The engine's promises: one bounded pool of threads, stop and cancel, flag rules first.

The thread bound is measured on a real process (``/proc/PID/status``) transcribing
several split recordings at once against the fake server; the request builder is
table-tested as the pure function it is.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env

from voxcli.commands.transcribe.request import TranscribeFlags, build_request
from voxcli.config import resolve_settings
from voxcli.engine.scheduler import Cancelled, Priority, Scheduler
from voxcli.errors import UsageError

JOBS = 8


def _threads_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_threads_stay_within_jobs_plus_four_with_split_recordings(fake_server, tmp_path):
    sources = [
        make_tone_wav(tmp_path / f"talk{n}.wav", 300.0, silence_at=[(55.0, 65.0), (170.0, 190.0)])
        for n in range(6)
    ]
    fake_server.latency = 0.3  # keep many parts in flight at once
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voxcli",
            "transcribe",
            *map(str, sources),
            "--split-minutes",
            "1",
            "-j",
            str(JOBS),
            "-d",
            str(tmp_path / "out"),
            "--no-cache",
        ],
        env=subprocess_env(fake_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    samples: list[int] = []
    while proc.poll() is None:
        if (count := _threads_of(proc.pid)) is not None:
            samples.append(count)
        time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert len(fake_server.transcription_requests()) >= 6 * 4  # every file was split
    assert fake_server.max_in_flight == JOBS
    assert samples and max(samples) <= JOBS + 4, max(samples)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"talk{n}.txt" for n in range(6)
    ]


def test_a_waiting_task_runs_queued_parts_instead_of_blocking_the_pool():
    scheduler = Scheduler(1)
    try:

        def parent() -> list[int]:
            parts = [scheduler.submit(lambda n=n: n, Priority.PART) for n in range(3)]
            return [scheduler.join(part) for part in parts]

        task = scheduler.submit(parent)
        deadline = time.monotonic() + 10
        while not task.done() and time.monotonic() < deadline:
            scheduler.wait_any([task], timeout=0.5)
        assert task.result() == [0, 1, 2]  # one worker, no deadlock
    finally:
        scheduler.close()


def test_stop_cancels_what_has_not_started():
    scheduler = Scheduler(1)
    started = threading.Event()
    release = threading.Event()
    try:
        running = scheduler.submit(lambda: (started.set(), release.wait(10))[1])
        assert started.wait(10)
        queued = scheduler.submit(lambda: "never")
        scheduler.stop()
        late = scheduler.submit(lambda: "never either")
        for task in (queued, late):
            assert task.done()
            with pytest.raises(Cancelled):
                task.result()
        release.set()
        scheduler.wait_any([running], timeout=10)
        assert running.result() is True  # what was running finishes
    finally:
        release.set()
        scheduler.close()


# -- flag rules come first ---------------------------------------------------------------


def test_conflicting_outputs_fail_before_the_tree_is_walked(api_env):
    started = time.monotonic()
    result = run_cli("transcribe", "-r", "/", "-o", "a.txt", "-d", "out")
    assert result.exit_code == 2
    assert "--output and --output-dir cannot be used together" in result.stderr
    assert time.monotonic() - started < 5  # walking / would take far longer
    assert api_env.requests == []


SETTINGS = resolve_settings(env={})


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (TranscribeFlags(), "no SOURCE given"),
        (
            TranscribeFlags(sources=("a.wav",), output=Path("a.txt"), output_dir=Path("d")),
            "--output and --output-dir",
        ),
        (TranscribeFlags(sources=("a.wav", "b.wav"), output=Path("a.txt")), "single source"),
        (TranscribeFlags(sources=("a.wav",), skip_existing=True), "--skip-existing needs"),
        (TranscribeFlags(sources=("a.wav", "b.wav"), fmt="srt"), "cannot share stdout"),
        (TranscribeFlags(sources=("a.wav",), stream=True, fmt="json"), "--stream prints text"),
        (TranscribeFlags(sources=("a.wav",), stream=True, split_minutes=5), "cannot be split"),
        (TranscribeFlags(sources=("a.wav",), stream=True, diarize=True), "with --diarize"),
        (
            TranscribeFlags(sources=("a.wav",), stream=True, timestamps=("segment",)),
            "with --timestamps",
        ),
        (TranscribeFlags(sources=("a.wav",), split_minutes=0.0), "--split-minutes"),
        (TranscribeFlags(sources=("a.wav",), language="eng"), "two-letter"),
        (
            TranscribeFlags(sources=("a.wav",), language="en", timestamps=("segment",)),
            "--language and --timestamps",
        ),
        (TranscribeFlags(sources=("a.wav",), language="en", fmt="srt"), "needs timestamps"),
        (
            TranscribeFlags(sources=("a.wav",), bias=tuple(f"t{n}" for n in range(101))),
            "at most 100",
        ),
        (TranscribeFlags(sources=("-",), files_from="-"), "stdin cannot carry both"),
        (
            TranscribeFlags(files_from="-", api_key_file="-"),
            "stdin cannot carry both the file list and the key",
        ),
    ],
)
def test_request_rules(flags, message):
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        build_request(flags, SETTINGS)


def test_request_defaults_from_the_flags_and_settings():
    request = build_request(
        TranscribeFlags(sources=("a.wav",), output=Path("talk.srt"), diarize=True),
        resolve_settings(env={}, model="voxtral-mini-2602"),
    )
    assert request.output_format == "srt"
    assert request.params.model == "voxtral-mini-2602"
    assert request.params.timestamp_granularities == ("segment",)
    assert request.params.diarize is True
