"""Many inputs: recursion, --files-from, naming, concurrency, skip/lock, report, failures.

End to end through the real SDK against the fake server (in-process with ``run_cli``,
or as a subprocess where signals, TTYs or a second process are involved).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env

from voxcli.engine.locks import LOCK_SUFFIX, lock_path, try_lock

DATA = Path(__file__).parent / "data"


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _tone(path: Path, seconds: float, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_tone_wav(path, seconds, **kwargs)


def _answer_with_name(request, duration):
    """Answer with the uploaded file's name (or the URL) and the duration, to tell inputs apart."""
    upload = request.files.get("file")
    name = upload[0].filename if upload else request.field("file_url")
    return {
        "model": "voxtral-mini-latest",
        "text": f"transcript of {name} ({duration:.1f} s)",
        "language": "en",
        "usage": {
            "prompt_audio_seconds": round(duration),
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
        },
    }


def _files(root: Path) -> list[str]:
    """Every file under root (hidden ones included), as sorted relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- inputs ------------------------------------------------------------------------------------


def test_directory_recursion_mirrors_the_tree(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    incoming = tmp_path / "incoming"
    _copy(DATA / "speech.wav", incoming / "a.wav")
    _copy(DATA / "speech.flac", incoming / "sub" / "b.flac")
    _copy(DATA / "speech.mp3", incoming / "sub" / "deeper" / "C.MP3")
    _copy(DATA / "speech.wav", incoming / ".hidden.wav")
    _copy(DATA / "speech.wav", incoming / ".git" / "d.wav")
    (incoming / "notes.txt").write_text("not audio")

    result = run_cli("transcribe", "-r", "incoming/", "-d", "done", "-f", "srt")

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert _files(tmp_path / "done") == ["a.srt", "sub/b.srt", "sub/deeper/C.srt"]
    assert len(api_env.transcription_requests()) == 3
    assert (tmp_path / "done" / "a.srt").read_text().startswith("1\n00:00:00,000 --> ")


def test_a_directory_without_recursive_is_a_usage_error(api_env, tmp_path):
    _copy(DATA / "speech.wav", tmp_path / "in" / "a.wav")
    result = run_cli("transcribe", str(tmp_path / "in"))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr and "--recursive" in result.stderr
    assert api_env.requests == []


def test_files_from_stdin_like_find_print(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    api_env.set_transcription(_answer_with_name)
    first = _copy(DATA / "speech.wav", tmp_path / "in" / "one.wav")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "two words.mp3")
    listing = "in/one.wav\n\nin/two words.mp3\n./in/one.wav\n" + f"{first}\n"

    result = run_cli(
        "transcribe", "--files-from", "-", "-d", "out", "--upload", "original", stdin=listing
    )

    assert result.exit_code == 0, result.stderr
    assert _files(tmp_path / "out") == ["in/one.txt", "in/two words.txt"]
    # Duplicates (the same file named three ways) are sent once.
    names = sorted(r.files["file"][0].filename for r in api_env.transcription_requests())
    assert names == ["one.wav", "two words.mp3"]
    assert (
        (tmp_path / "out" / "in" / "two words.txt")
        .read_text()
        .startswith("transcript of two words.mp3")
    )


def test_files_from_a_file_with_nul_separators_and_arguments(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    api_env.set_transcription(_answer_with_name)
    _copy(DATA / "speech.wav", tmp_path / "a.wav")
    _copy(DATA / "speech.flac", tmp_path / "odd\nname.flac")
    listing = tmp_path / "list"
    listing.write_bytes(b"odd\nname.flac\0a.wav\0")
    _copy(DATA / "speech.mp3", tmp_path / "first.mp3")

    result = run_cli(
        "transcribe", "first.mp3", "--files-from", str(listing), "--upload", "original"
    )

    assert result.exit_code == 0, result.stderr
    # Several text transcripts on stdout come with `==> NAME <==` headers (issue 15.23).
    assert re.sub(r" \(\d+\.\d s\)", "", result.stdout) == (
        "==> first.mp3 <==\ntranscript of first.mp3\n\n"
        "==> odd name.flac <==\ntranscript of odd name.flac\n\n"
        "==> a.wav <==\ntranscript of a.wav\n"
    )


@pytest.mark.parametrize(
    ("args", "stdin"),
    [(["-", "--files-from", "-"], "a.wav\n"), (["--files-from", "-"], "a.wav\n-\n")],
    ids=["argument", "listed"],
)
def test_files_from_and_stdin_audio_conflict(api_env, args, stdin):
    result = run_cli("transcribe", *args, stdin=stdin)
    assert result.exit_code == 2
    assert "stdin cannot carry both" in result.stderr
    assert api_env.requests == []


def test_no_sources_at_all_is_a_usage_error(api_env):
    result = run_cli("transcribe", "-f", "text")
    assert result.exit_code == 2
    assert "no SOURCE" in result.stderr


def test_an_empty_file_list_is_nothing_to_do(api_env):
    result = run_cli("transcribe", "--files-from", "-", "-d", "out", stdin="")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert api_env.requests == []


# -- output naming -----------------------------------------------------------------------------


def test_same_name_in_different_folders_never_overwrite(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    api_env.set_transcription(_answer_with_name)
    _tone(tmp_path / "a" / "talk.wav", 1.0)
    _tone(tmp_path / "b" / "talk.wav", 2.0)
    _tone(tmp_path / "talk.wav", 3.0)

    result = run_cli(
        "transcribe", "a/talk.wav", "./b/talk.wav", str(tmp_path / "talk.wav"), "-d", "out"
    )

    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    assert _files(out) == ["a/talk.txt", "b/talk.txt", "talk.txt"]
    assert "(1.0 s)" in (out / "a" / "talk.txt").read_text()
    assert "(2.0 s)" in (out / "b" / "talk.txt").read_text()
    assert "(3.0 s)" in (out / "talk.txt").read_text()


def test_inputs_that_still_collide_are_refused_before_sending(api_env, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # Outside the cwd only the name is kept: both would be out/talk.txt.
    _tone(tmp_path / "x" / "talk.wav", 1.0)
    _tone(tmp_path / "y" / "talk.flac", 1.0)
    result = run_cli("transcribe", "../x/talk.wav", str(tmp_path / "y" / "talk.flac"), "-d", "out")
    # Each colliding input fails on its own (exit 1 like any failed input; others would run).
    assert result.exit_code == 1
    assert "../x/talk.wav" in result.stderr and "y/talk.flac" in result.stderr
    assert "would both be written" in result.stderr
    assert api_env.work_requests() == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a/talk.wav", "a/talk.srt"),
        ("./b/talk.wav", "b/talk.srt"),
        ("talk.wav", "talk.srt"),
        ("a/../c/talk.wav", "c/talk.srt"),
        ("CWD/d/talk.wav", "d/talk.srt"),
        ("../outside/talk.wav", "talk.srt"),
        ("/elsewhere/talk.wav", "talk.srt"),
        ("https://example.com/ep/talk.mp3?x=1", "talk.srt"),
        ("-", "stdin.srt"),
    ],
)
def test_output_naming_rules(tmp_path, given, expected):
    from voxcli.inputs import InputItem
    from voxcli.sources import parse_source
    from voxcli.targets import relative_output

    cwd = tmp_path / "cwd"
    source = parse_source(given.replace("CWD", str(cwd)))
    assert relative_output(InputItem(source), ".srt", cwd).as_posix() == expected


# -- concurrency and order ---------------------------------------------------------------------


def test_stdout_follows_input_order_when_answers_arrive_out_of_order(api_env, tmp_path):
    api_env.set_transcription(_answer_with_name)
    names = [f"f{i}.mp3" for i in range(6)]
    for name in names:
        _copy(DATA / "speech.mp3", tmp_path / name)
    # The first inputs answer last.
    api_env.delay_fn = lambda request: 0.1 * (6 - int(request.files["file"][0].filename[1]))

    result = run_cli("transcribe", "-j", "4", *(str(tmp_path / n) for n in names))

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("==> ")] == [
        f"==> {tmp_path / n} <==" for n in names
    ]
    assert [line.split(" (")[0] for line in lines if line.startswith("transcript")] == [
        f"transcript of {n}" for n in names
    ]
    requests = api_env.transcription_requests()
    finished = [r.files["file"][0].filename for r in sorted(requests, key=lambda r: r.finished_at)]
    assert finished != names  # the server really did answer out of order
    assert 2 <= api_env.max_in_flight <= 4


def test_jobs_bounds_requests_in_flight(api_env, tmp_path):
    for i in range(5):
        _copy(DATA / "speech.mp3", tmp_path / f"{i}.mp3")
    api_env.latency = 0.2
    result = run_cli("transcribe", "-j", "2", "-d", str(tmp_path / "out"), str(tmp_path))
    assert result.exit_code == 2  # a directory without -r
    result = run_cli("transcribe", "-j", "2", "-r", "-d", str(tmp_path / "out"), str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert api_env.max_in_flight == 2
    assert len(api_env.transcription_requests()) == 5


# -- failures ----------------------------------------------------------------------------------


def test_one_failing_input_among_five_gives_four_outputs_and_exit_1(api_env, tmp_path):
    for i in range(5):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    # Inputs are prepared ahead, so requests need not arrive in input order: pick 0.mp3's.
    api_env.fail_next(
        400,
        body={"message": "unsupported audio"},
        when=lambda request: request.files["file"][0].filename == "0.mp3",
    )

    result = run_cli(
        "transcribe", "-j", "1", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "out")
    )

    assert result.exit_code == 1
    assert _files(tmp_path / "out") == ["1.txt", "2.txt", "3.txt", "4.txt"]
    assert f"{tmp_path / 'in' / '0.mp3'}: " in result.stderr
    assert "unsupported audio" in result.stderr
    assert "1 of 5 inputs failed" in result.stderr
    assert len(api_env.transcription_requests()) == 5


def test_a_bad_file_among_five_with_concurrency(api_env, tmp_path):
    for i in range(4):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "2b.wav")
    result = run_cli("transcribe", "-j", "4", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert _files(tmp_path / "o") == ["0.txt", "1.txt", "2.txt", "3.txt"]
    assert "2b.wav" in result.stderr and "1 of 5 inputs failed" in result.stderr


def test_fail_fast_starts_nothing_after_the_first_failure(api_env, tmp_path):
    for i in range(4):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    api_env.fail_next(400)
    result = run_cli(
        "transcribe",
        "-j",
        "1",
        "--fail-fast",
        "-r",
        str(tmp_path / "in"),
        "-d",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 1
    assert len(api_env.transcription_requests()) == 1
    assert "1 of 4 inputs failed" in result.stderr and "3 not run" in result.stderr
    assert not (tmp_path / "o").exists() or _files(tmp_path / "o") == []


def test_a_rejected_key_stops_the_whole_run_with_exit_3(api_env, tmp_path):
    for i in range(6):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    api_env.reject_all_keys()
    result = run_cli("transcribe", "-j", "2", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"))
    assert result.exit_code == 3
    assert "rejected" in result.stderr
    # At most the inputs already started (2 jobs + 2 read ahead) reach the server.
    assert len(api_env.transcription_requests()) <= 4
    assert _files(tmp_path / "o") == []


# -- skip, lock, report ------------------------------------------------------------------------


def test_skip_existing_on_a_second_run_sends_nothing(api_env, tmp_path):
    for i in range(3):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    args = ("transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "out"))
    first = run_cli(*args, "--skip-existing")
    assert first.exit_code == 0, first.stderr
    assert len(api_env.transcription_requests()) == 3
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}

    api_env.reset()
    second = run_cli(*args, "--skip-existing", "--report", str(tmp_path / "r.jsonl"))

    assert second.exit_code == 0, second.stderr
    assert api_env.requests == []
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == before
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == ["skipped"] * 3


def test_an_unwritable_output_fails_that_input_only(api_env, tmp_path):
    _copy(DATA / "speech.mp3", tmp_path / "in" / "a.mp3")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "sub" / "b.mp3")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where a folder should be")
    result = run_cli("transcribe", "-r", str(tmp_path / "in"), "-d", str(out))
    assert result.exit_code == 1
    assert "b.mp3" in result.stderr and "1 of 2 inputs failed" in result.stderr
    assert (out / "a.txt").exists()


def test_skip_existing_needs_an_output(api_env):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--skip-existing")
    assert result.exit_code == 2
    assert "--skip-existing needs" in result.stderr


def test_report_lines_parse_and_match(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy(DATA / "speech.wav", tmp_path / "in" / "a.wav")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "b.mp3")
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "c.wav")
    _copy(DATA / "speech.flac", tmp_path / "in" / "d.flac")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "d.txt").write_text("done before\n")
    report = tmp_path / "logs" / "report.jsonl"
    report.parent.mkdir()

    result = run_cli(
        "transcribe", "-r", "in", "-d", "out", "--skip-existing", "--report", str(report)
    )

    assert result.exit_code == 1
    records = {r["source"]: r for r in map(json.loads, report.read_text().splitlines())}
    assert set(records) == {"in/a.wav", "in/b.mp3", "in/c.wav", "in/d.flac"}
    for record in records.values():
        assert set(record) == {
            "source",
            "output",
            "status",
            "error",
            "audio_seconds",
            "usage",
            "model",
            "estimated_cost_usd",
            "elapsed",
            "time",
            "run",
        }
        assert record["elapsed"] >= 0
        assert record["model"] == "voxtral-mini-transcribe-latest"
    done = records["in/a.wav"]
    assert done["status"] == "done" and done["error"] is None
    assert done["output"] == "out/a.txt"
    assert done["audio_seconds"] == pytest.approx(2.8, abs=0.1)
    assert done["usage"]["prompt_audio_seconds"] == 3
    assert done["usage"]["total_tokens"] > 0
    assert done["estimated_cost_usd"] == round(3 / 60 * 0.003, 6)
    assert failed_cost_is_null(records)
    assert records["in/b.mp3"]["status"] == "done"
    failed = records["in/c.wav"]
    assert failed["status"] == "failed" and "not an audio file" in failed["error"]
    assert failed["usage"] is None and failed["output"] == "out/c.txt"
    skipped = records["in/d.flac"]
    assert skipped["status"] == "skipped" and skipped["usage"] is None
    assert (tmp_path / "out" / "d.txt").read_text() == "done before\n"


def test_report_is_written_as_each_input_finishes(api_env, tmp_path):
    for i in range(3):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    report = tmp_path / "r.jsonl"
    lines_seen_during_run: list[int] = []

    def lines() -> int:
        return len(report.read_text().splitlines()) if report.exists() else 0

    def delay(request):
        # Request k is answered once k - 1 lines are there (or after 5 s): the lines come
        # while the run is still going, not at its end.
        wanted, deadline = len(lines_seen_during_run), time.monotonic() + 5
        while lines() < wanted and time.monotonic() < deadline:
            time.sleep(0.01)
        lines_seen_during_run.append(lines())
        return 0.0

    api_env.delay_fn = delay
    result = run_cli(
        "transcribe", "-j", "1", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"),
        "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert lines_seen_during_run == [0, 1, 2]


def test_an_input_locked_by_another_run_is_skipped(api_env, tmp_path):
    _copy(DATA / "speech.mp3", tmp_path / "in" / "a.mp3")
    _copy(DATA / "speech.mp3", tmp_path / "in" / "b.mp3")
    held = try_lock(tmp_path / "out" / "a.txt")
    assert held is not None
    try:
        result = run_cli(
            "transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "out"), "-v",
            "--report", str(tmp_path / "r.jsonl"),
        )  # fmt: skip
    finally:
        held.release()
    assert result.exit_code == 0, result.stderr
    assert "another voxcli run" in result.stderr
    assert _files(tmp_path / "out") == ["b.txt"]
    statuses = [json.loads(x)["status"] for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert sorted(statuses) == ["done", "locked"]
    [request] = api_env.transcription_requests()
    assert request.files["file"][0].filename == "b.mp3"


def test_an_overlapping_second_run_skips_what_the_first_holds(api_env, tmp_path):
    inputs = tmp_path / "in"
    for name in ("a", "b", "c"):
        _copy(DATA / "speech.mp3", inputs / f"{name}.mp3")
    out = tmp_path / "out"
    api_env.slow_next(4.0, times=2)
    first = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", "-j", "2", str(inputs / "a.mp3"),
         str(inputs / "b.mp3"), "-d", str(out)],
        env=subprocess_env(api_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        api_env.wait_for_requests(2, timeout=30)
        second = run_cli("transcribe", "-r", str(inputs), "-d", str(out), "--skip-existing", "-v")
        assert second.exit_code == 0, second.stderr
        assert second.stderr.count("another voxcli run is writing") == 2
        assert "1 done, 0 skipped, 2 locked by another run, 0 failed" in second.stderr
        assert len(api_env.transcription_requests()) == 3
        _, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert _files(out) == ["a.txt", "b.txt", "c.txt"]  # and no lock files left


def test_a_lock_file_left_by_a_killed_run_is_taken_over_and_removed(api_env, tmp_path):
    target = tmp_path / "out" / "speech.txt"
    target.parent.mkdir()
    lock_path(target).write_text("")  # what SIGKILL leaves: a file nobody holds
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert _files(tmp_path / "out") == ["speech.txt"]


def test_lock_is_exclusive_and_released():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "x.srt"
        first = try_lock(target)
        assert first is not None and first.path.name == f".x.srt{LOCK_SUFFIX}"
        assert try_lock(target) is None
        first.release()
        first.release()  # idempotent
        assert not first.path.exists()
        again = try_lock(target)
        assert again is not None
        again.release()


# -- signals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_signal_during_a_run_leaves_no_partial_or_temporary_files(
    api_env, tmp_path, sig, code, message
):
    inputs = tmp_path / "in"
    for i in range(6):
        # 44.1 kHz stereo WAV: voxcli re-encodes it to a temporary FLAC before sending.
        _tone(inputs / f"{i}.wav", 1.0, samplerate=44100, channels=2)
    out, tmpdir = tmp_path / "out", tmp_path / "tmp"
    tmpdir.mkdir()
    api_env.latency = 60.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", "-j", "3", "-r", str(inputs),
         "-d", str(out), "-f", "srt", "--report", str(tmp_path / "r.jsonl")],
        env=subprocess_env(api_env, TMPDIR=str(tmpdir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        api_env.wait_for_requests(3, timeout=30)
        assert any(tmpdir.rglob("*.flac"))  # temporary audio exists while requests are out
        started = time.monotonic()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert time.monotonic() - started < 15  # not waiting for the 60 s answers
    assert message in stderr.decode()
    assert stdout == b""
    assert _files(out) == [] if out.exists() else True  # no outputs, .part or lock files
    assert list(tmpdir.iterdir()) == []  # the run's temporary audio is gone
    assert len(api_env.transcription_requests()) == 3  # nothing new started


def test_a_second_signal_during_clean_up_exits_at_once(tmp_path):
    script = (
        "import time\n"
        "from voxcli import signals\n"
        "with signals.exit_on_next():\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert b"exiting at once" in stderr


# -- what people see ---------------------------------------------------------------------------


def test_no_ansi_codes_when_stdout_and_stderr_are_not_terminals(api_env, tmp_path):
    _copy(DATA / "speech.wav", tmp_path / "in" / "a.wav")
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "b.wav")
    for args in (
        ["-r", str(tmp_path / "in"), "-v", "--report", str(tmp_path / "r.jsonl")],
        ["-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"), "-v"],
        ["--stream", str(tmp_path / "in" / "a.wav")],
    ):
        env = subprocess_env(api_env)
        env.pop("NO_COLOR", None)
        env["TERM"] = "xterm-256color"
        result = subprocess.run(
            [sys.executable, "-m", "voxcli", "transcribe", *args],
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert result.stdout.strip() or b"wrote" in result.stderr, result.stderr
        assert b"\x1b" not in result.stdout
        assert b"\x1b" not in result.stderr
    assert (
        b"voxcli: error:"
        in subprocess.run(
            [sys.executable, "-m", "voxcli", "transcribe", str(tmp_path / "in" / "b.wav")],
            env=env,
            capture_output=True,
            timeout=60,
        ).stderr
    )


def test_unattended_runs_are_quiet_unless_something_fails(api_env, tmp_path):
    for i in range(2):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    args = ("transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o"))
    quiet = run_cli(*args)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    verbose = run_cli(*args, "-v")
    assert "2 done, 0 skipped, 0 failed; 0.1 audio minutes (about $0.0003) in" in verbose.stderr
    _copy(DATA / "not_audio.wav", tmp_path / "in" / "2.wav")
    failing = run_cli(*args, "-q")
    assert failing.exit_code == 1
    assert "2.wav" in failing.stderr and "1 of 3 inputs failed" in failing.stderr
    assert "done," not in failing.stderr


def _run_on_a_terminal(api_env, tmp_path, args: list[str]) -> tuple[int, str]:
    """Run voxcli with stderr on a pseudo-terminal; return the exit code and what it showed."""
    import pty

    leader, follower = pty.openpty()
    env = subprocess_env(api_env, TERM="xterm-256color", COLUMNS="120")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxcli", "transcribe", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, seen.decode(errors="replace")


def test_progress_display_on_a_terminal(api_env, tmp_path):
    for i in range(3):
        _copy(DATA / "speech.mp3", tmp_path / "in" / f"{i}.mp3")
    api_env.latency = 0.5
    code, text = _run_on_a_terminal(
        api_env, tmp_path, ["-j", "1", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "o")]
    )
    assert code == 0, text
    assert "/3 files" in text and "0.mp3" in text
    assert "3 done, 0 skipped, 0 failed" in text  # the summary on a terminal


def test_progress_shows_bytes_uploaded_for_large_files(api_env, tmp_path):
    big = _tone(tmp_path / "big.wav", 60.0, samplerate=44100, channels=2)  # 10.6 MB
    api_env.read_bandwidth = 5_000_000
    code, text = _run_on_a_terminal(
        api_env, tmp_path, ["--upload", "original", str(big), "-o", str(tmp_path / "big.txt")]
    )
    assert code == 0, text
    assert "uploading big.wav" in text
    assert re.search(r"\d+\.\d/10\.6 MB", text), text


# -- streaming ---------------------------------------------------------------------------------


def test_stream_prints_deltas_as_they_arrive(api_env):
    api_env.stream_interval = 0.01
    result = run_cli("transcribe", "--stream", str(DATA / "speech.wav"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Hello from the fake Mistral server. This transcript is generated, not heard.\n"
    )
    [request] = api_env.transcription_requests()
    assert request.fields["stream"] == ["true"]


def test_stream_error_mid_way_exits_1(api_env):
    api_env.drop_next(after_events=3)
    result = run_cli("transcribe", "--stream", str(DATA / "speech.wav"), "--retries", "0")
    assert result.exit_code == 1
    assert "voxcli: error:" in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["tests/data/speech.mp3"], "single source"),
        (["-f", "srt"], "prints text"),
        (["-o", "x.txt"], "-o or -d"),
        (["-d", "out"], "-o or -d"),
    ],
)
def test_stream_refuses_what_it_cannot_do(api_env, extra, message):
    result = run_cli("transcribe", "--stream", str(DATA / "speech.wav"), *extra)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api_env.requests == []


# -- upload byte counting ----------------------------------------------------------------------


def test_counted_uploads_send_the_exact_bytes(api_env, tmp_path):
    from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
    from voxcli.config import resolve_settings

    api = MistralApi(resolve_settings(retries=1, env=os.environ), max_in_flight=1)
    seen: list[tuple[int, int]] = []
    api_env.fail_next(503, headers={"Retry-After": "0"})
    try:
        api.transcribe(
            TranscriptionParams(model="voxtral-mini-latest"),
            AudioPayload("speech.wav", path=DATA / "speech.wav"),
            on_upload=lambda sent, total: seen.append((sent, total)),
        )
    finally:
        api.close()
    size = (DATA / "speech.wav").stat().st_size
    assert seen[-1] == (size, size)
    assert any(sent == 0 for sent, _ in seen[1:])  # counted again from 0 on the retry
    requests = api_env.transcription_requests()
    assert len(requests) == 2
    assert all(r.files["file"][0].data == (DATA / "speech.wav").read_bytes() for r in requests)


def failed_cost_is_null(records: dict[str, dict]) -> bool:
    """Inputs that were not done cost nothing known: their cost is null."""
    return all(r["estimated_cost_usd"] is None for r in records.values() if r["status"] != "done")
