"""Many inputs, second round: report as a shared log, per-input collisions, progress counts,
``cancelled`` report lines, and no empty output folders after failed or interrupted runs.

End to end through the real SDK against the fake server, like ``test_many_files.py``.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env

from voxcli.engine.locks import try_lock

DATA = Path(__file__).parent / "data"


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _dirs(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def _records(report: Path) -> list[dict]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _sent_names(fake) -> list[str]:
    return sorted(r.files["file"][0].filename for r in fake.transcription_requests())


# -- 1. --report is a log that runs append to --------------------------------------------------


def test_report_accumulates_across_runs(api_env, tmp_path):
    _copy(DATA / "speech.mp3", tmp_path / "in" / "a.mp3")
    report = tmp_path / "r.jsonl"
    args = ["transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"), "--skip-existing"]
    assert run_cli(*args, "--report", str(report)).exit_code == 0
    _copy(DATA / "speech.mp3", tmp_path / "in" / "b.mp3")
    assert run_cli(*args, "--report", str(report)).exit_code == 0
    statuses = [(Path(r["source"]).name, r["status"]) for r in _records(report)]
    assert statuses == [("a.mp3", "done"), ("a.mp3", "skipped"), ("b.mp3", "done")]


def test_two_processes_appending_to_one_report_lose_no_line(tmp_path):
    report, go = tmp_path / "r.jsonl", tmp_path / "go"
    script = textwrap.dedent(
        """
        import os, sys, time
        from pathlib import Path
        from voxcli.output.report import ReportWriter
        name, report, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
        writer = ReportWriter(report)  # both open before either writes
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.005)
        for i in range(300):
            writer.write(source=f"{name}-{i}-" + "x" * 1500, output=None, status="done")
        writer.close()
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, name, str(report), str(go)], stdout=subprocess.PIPE
        )
        for name in ("one", "two")
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline() == b"ready\n"
        go.touch()
        for proc in procs:
            assert proc.wait(timeout=60) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    sources = [record["source"].split("-x")[0] for record in _records(report)]  # all parse
    assert sorted(sources) == sorted(f"{n}-{i}" for n in ("one", "two") for i in range(300))


# -- 2. a collision fails only the inputs concerned --------------------------------------------


def test_recursive_dirs_with_the_same_name_fail_only_those_inputs(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy(DATA / "speech.mp3", tmp_path / "tree" / "a" / "talk.mp3")
    _copy(DATA / "speech.mp3", tmp_path / "tree" / "b" / "talk.mp3")
    _copy(DATA / "speech.mp3", tmp_path / "tree" / "a" / "other.mp3")
    report = tmp_path / "r.jsonl"
    result = run_cli(
        "transcribe", "-r", "tree/a", "tree/b", "-d", "out", "--report", str(report)
    )  # fmt: skip
    assert result.exit_code == 1
    assert _files(tmp_path / "out") == ["other.txt"]
    assert _sent_names(api_env) == ["other.mp3"]
    errors = [line for line in result.stderr.splitlines() if "would both be written" in line]
    assert errors == [
        "voxcli: error: tree/a/talk.mp3 and tree/b/talk.mp3 would both be written to out/talk.txt",
        "voxcli: error: tree/b/talk.mp3 and tree/a/talk.mp3 would both be written to out/talk.txt",
    ]
    assert "-r" in result.stderr and "common parent directory" in result.stderr
    assert "2 of 3 inputs failed" in result.stderr
    statuses = {r["source"]: r["status"] for r in _records(report)}
    assert statuses == {
        "tree/a/talk.mp3": "failed",
        "tree/a/other.mp3": "done",
        "tree/b/talk.mp3": "failed",
    }
    # The cron case: the next run does the same (and only that); nothing is refused wholesale.
    again = run_cli("transcribe", "-r", "tree/a", "tree/b", "-d", "out", "--skip-existing")
    assert again.exit_code == 1 and "2 of 3 inputs failed" in again.stderr
    assert _sent_names(api_env) == ["other.mp3"]


def test_files_from_absolute_paths_outside_the_cwd(api_env, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    one = _copy(DATA / "speech.mp3", tmp_path / "rec" / "x" / "talk.mp3")
    two = _copy(DATA / "speech.mp3", tmp_path / "rec" / "y" / "talk.mp3")
    fine = _copy(DATA / "speech.mp3", tmp_path / "rec" / "y" / "fine.mp3")
    listing = f"{one}\n{two}\n{fine}\n".encode()
    result = run_cli("transcribe", "--files-from", "-", "-d", "out", stdin=listing)
    assert result.exit_code == 1
    assert _files(work / "out") == ["fine.txt"]
    assert f"{one} and {two} would both be written to out/talk.txt" in result.stderr
    assert "run voxcli from a common parent directory" in result.stderr

    # From the common parent, the same list mirrors the folders and nothing collides.
    monkeypatch.chdir(tmp_path)
    result = run_cli("transcribe", "--files-from", "-", "-d", "out2", stdin=listing)
    assert result.exit_code == 0, result.stderr
    assert _files(tmp_path / "out2") == ["rec/x/talk.txt", "rec/y/fine.txt", "rec/y/talk.txt"]


def test_same_stem_side_by_side(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy(DATA / "speech.wav", tmp_path / "in" / "talk.wav")
    _copy(DATA / "speech.flac", tmp_path / "in" / "talk.flac")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "else.mp3")
    result = run_cli("transcribe", "-r", "in", "-d", "out")
    assert result.exit_code == 1
    assert _files(tmp_path / "out") == ["else.txt"]
    assert "in/talk.flac and in/talk.wav would both be written to out/talk.txt" in result.stderr
    assert "differ only in their extension" in result.stderr


# -- 3. the progress display counts every input ------------------------------------------------


class _Recorder:
    """A progress display that records calls (the seam the command hands to the runner)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.ended: list[int] = []
        self.stopped = False

    def start(self, total: int) -> None:
        self.total = total

    def begin(self, index: int, name: str) -> None:
        pass

    def end(self, index: int) -> None:
        self.ended.append(index)

    def uploaded(self, index: int, sent: int, total: int) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True


def test_progress_counts_skipped_locked_and_failed_inputs(api_env, tmp_path, monkeypatch):
    import voxcli.commands.transcribe.run as transcribe_run

    recorder = _Recorder()
    monkeypatch.setattr(transcribe_run, "make_progress", lambda **_: recorder)
    for name in ("a", "b", "c", "d"):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{name}.mp3")
    (tmp_path / "out").mkdir()
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "e.wav")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "f.mp3")
    for name in ("a", "b", "c"):
        (tmp_path / "out" / f"{name}.txt").write_text("earlier\n")
    held = try_lock(tmp_path / "out" / "d.txt")
    try:
        result = run_cli(
            "transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "out"), "--skip-existing"
        )  # fmt: skip
    finally:
        held.release()
    assert result.exit_code == 1  # e.wav is not audio
    assert _sent_names(api_env) == ["f.mp3"]
    assert recorder.total == 6 and recorder.stopped
    assert sorted(recorder.ended) == [0, 1, 2, 3, 4, 5]  # 3 skipped, 1 locked, 1 failed, 1 done


def test_rich_progress_reaches_the_total_without_begin():
    from voxcli.console import Console
    from voxcli.output.progress import RichProgress

    progress = RichProgress(Console(io.StringIO(), color=False).rich())
    progress.start(3)
    try:
        for index in range(3):
            progress.end(index)  # skipped inputs never begin
        assert progress._bar is not None
        task = progress._bar.tasks[0]
        assert task.completed == 3 and task.fields["count"] == "3/3 files"
    finally:
        progress.stop()


# -- 4. one report line per input, cancelled ones included -------------------------------------


def test_fail_fast_reports_the_inputs_never_started_as_cancelled(api_env, tmp_path):
    for i in range(4):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    api_env.fail_next(400)
    report = tmp_path / "r.jsonl"
    result = run_cli(
        "transcribe", "-j", "1", "--fail-fast", "-r", str(tmp_path / "in"),
        "-d", str(tmp_path / "o"), "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "3 not run" in result.stderr
    records = _records(report)
    assert [(Path(r["source"]).name, r["status"]) for r in records] == [
        ("0.mp3", "failed"),
        ("1.mp3", "cancelled"),
        ("2.mp3", "cancelled"),
        ("3.mp3", "cancelled"),
    ]
    assert all(r["error"] is None and r["usage"] is None for r in records[1:])


# -- 5. signals: cancelled lines, no empty folders ---------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_reports_unfinished_inputs_and_leaves_no_empty_folders(api_env, tmp_path, sig):
    inputs = tmp_path / "in"
    for i in range(6):  # three inputs per new folder: a folder goes with the last of them
        make_tone_wav(_mkparent(inputs / f"d{i % 2}" / "deeper" / f"{i}.wav"), 1.0)
    out = tmp_path / "out"
    out.mkdir()  # exists before the run: stays
    report = tmp_path / "r.jsonl"
    report.write_text('{"earlier": "line"}\n')
    api_env.latency = 60.0
    env = subprocess_env(api_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", "-j", "3", "-r", str(inputs),
         "-d", str(out), "--report", str(report)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        api_env.wait_for_requests(3, timeout=30)
        assert any(p.is_dir() for p in out.iterdir())  # locks made the folders
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (130, 143), stderr
    assert list(out.iterdir()) == []  # no empty folders, no lock files
    lines = report.read_text().splitlines()
    assert lines[0] == '{"earlier": "line"}'
    records = [json.loads(line) for line in lines[1:]]
    assert [Path(r["source"]).name for r in records] == [f"{i}.wav" for i in (0, 2, 4, 1, 3, 5)]
    assert {r["status"] for r in records} == {"cancelled"}


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_failed_input_leaves_no_empty_folder(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy(DATA / "speech.mp3", tmp_path / "in" / "good" / "a.mp3")
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "bad" / "deep" / "c.wav")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "mixed" / "ok.mp3")
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "mixed" / "no.wav")
    for name in ("x", "y", "z"):  # one new folder shared by three failing inputs
        _copy(DATA / "not_audio.wav", tmp_path / "in" / "allbad" / f"{name}.wav")
    result = run_cli("transcribe", "-r", "in", "-d", "out")
    assert result.exit_code == 1
    assert _files(tmp_path / "out") == ["good/a.txt", "mixed/ok.txt"]
    assert _dirs(tmp_path / "out") == ["good", "mixed"]


def test_lock_removes_only_the_folders_it_created(tmp_path):
    (tmp_path / "out" / "kept").mkdir(parents=True)
    lock = try_lock(tmp_path / "out" / "kept" / "new" / "deeper" / "x.txt")
    assert lock is not None
    assert (tmp_path / "out" / "kept" / "new" / "deeper").is_dir()
    lock.release()
    assert _dirs(tmp_path / "out") == ["kept"]

    lock = try_lock(tmp_path / "out" / "a" / "x.txt")
    (tmp_path / "out" / "a" / "x.txt").write_text("written\n")
    lock.release(written=True)
    assert _files(tmp_path / "out") == ["a/x.txt"]

    lock = try_lock(tmp_path / "out" / "b" / "c" / "x.txt")
    (tmp_path / "out" / "b" / "other.txt").write_text("someone else's\n")
    lock.release()  # b is not empty: kept, c removed
    assert _dirs(tmp_path / "out") == ["a", "b", "kept"]


@pytest.mark.parametrize("first", [0, 1])
def test_a_new_folder_shared_by_two_locks_goes_with_the_last(tmp_path, first):
    locks = [try_lock(tmp_path / "out" / "new" / name) for name in ("x.txt", "y.txt")]
    assert all(lock is not None for lock in locks)
    locks[first].release()
    assert (tmp_path / "out" / "new").is_dir()  # the other lock is still in it
    locks[1 - first].release()
    assert not (tmp_path / "out").exists()
