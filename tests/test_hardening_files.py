"""Hostile filesystems and input (issue 15: items 4, 7, 8, 9, 10, 13, 18, 21, 24).

Endless or blocking inputs, full disks, outputs that can never be written, files still
being written, leftovers of killed runs, planted symlinks, directories without ``-r``,
report lines a shared log can use, and decoder chatter on stderr.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import make_env, run_cli, run_env, subprocess_env

from voxcli.env import Limits
from voxcli.output.report import ReportWriter

DATA = Path(__file__).parent / "data"
HOUR = 3600.0


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _age(path: Path, seconds: float) -> Path:
    """Set ``path``'s times ``seconds`` in the past."""
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def _records(report: Path) -> list[dict]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _voxcli(*args: str, env: dict[str, str], timeout: float = 30, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "voxcli", *args],
        env=env,
        capture_output=True,
        timeout=timeout,
        **kwargs,
    )


def _limit_memory() -> None:  # a run that reads /dev/zero must not take the machine with it
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


# -- 4. endless input ------------------------------------------------------------------------


def test_stdin_that_does_not_start_like_audio_is_refused_at_once(api_env, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = make_env(stdin=b"\0" * (4 << 20), temp_dir=tmp)
    assert run_env(env, "transcribe", "-") == 2
    stderr = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert (
        "audio on stdin is not an audio file voxcli can read (its first bytes are not audio)"
        in stderr
    )
    assert api_env.work_requests() == []
    assert list(tmp.iterdir()) == []
    assert env.stdin_bytes.tell() < 1 << 20  # refused after its first bytes, not spooled


def test_dev_zero_on_stdin_ends_quickly(api_env, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    started = time.monotonic()
    with open("/dev/zero", "rb") as zero:
        result = _voxcli(
            "transcribe",
            "-",
            env=subprocess_env(api_env, TMPDIR=str(tmp)),
            stdin=zero,
            preexec_fn=_limit_memory,
        )
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 20
    assert b"(its first bytes are not audio)" in result.stderr
    assert list(tmp.iterdir()) == []


def test_spooled_stdin_is_capped(api_env, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    wav = make_tone_wav(tmp_path / "long.wav", 10.0)  # 320 kB
    env = make_env(stdin=wav.read_bytes(), temp_dir=tmp, limits=Limits(max_stdin_bytes=100_000))
    assert run_env(env, "transcribe", "-") == 2
    stderr = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "stdin holds more than 100 KB" in stderr, stderr
    assert "save the audio to a file" in stderr
    assert api_env.work_requests() == []
    assert list(tmp.iterdir()) == []
    # under the cap: as before
    small = make_env(stdin=wav.read_bytes(), temp_dir=tmp, limits=Limits(max_stdin_bytes=400_000))
    assert run_env(small, "transcribe", "-") == 0


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("flag", ["--bias-file", "--files-from", "--api-key-file"])
@pytest.mark.parametrize("kind", ["/dev/zero", "/dev/urandom", "fifo"])
def test_flag_files_that_never_end_are_usage_errors(api_env, tmp_path, fifo, flag, kind):
    path = str(fifo) if kind == "fifo" else kind
    args = ["transcribe", flag, path]
    if flag != "--files-from":
        args.append(str(DATA / "speech.wav"))
    started = time.monotonic()
    try:
        result = _voxcli(*args, env=subprocess_env(api_env), timeout=20, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{flag} {kind} blocked")
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 20
    assert f"{flag}: {path} is not a regular file".encode() in result.stderr
    assert api_env.work_requests() == []


def test_flag_files_from_a_pipe_still_work(api_env, tmp_path):
    """Process substitution (``--files-from <(find ...)``) hands over a pipe: still fine."""
    wav = _copy(DATA / "speech.wav", tmp_path / "a.wav")
    read, write = os.pipe()
    os.write(write, f"{wav}\n".encode())
    os.close(write)
    try:
        result = _voxcli(
            "transcribe", "--files-from", f"/dev/fd/{read}",
            env=subprocess_env(api_env), pass_fds=(read,),
        )  # fmt: skip
    finally:
        os.close(read)
    assert result.returncode == 0, result.stderr
    assert len(api_env.transcription_requests()) == 1


def test_oversized_flag_files_are_refused(api_env, tmp_path):
    big = tmp_path / "terms.txt"
    with big.open("wb") as fh:
        fh.truncate(64 << 20)
    result = run_cli("transcribe", "--bias-file", str(big), str(DATA / "speech.wav"))
    assert result.exit_code == 2
    assert f"--bias-file: {big} is larger than" in result.stderr
    assert api_env.work_requests() == []


# -- 7. a report that cannot be written ------------------------------------------------------


def _inputs(root: Path, count: int) -> Path:
    for i in range(count):
        _copy(DATA / "speech.mp3", root / f"{i}.mp3")
    return root


def test_report_write_failure_is_one_warning_and_the_run_goes_on(api_env, tmp_path):
    inputs = _inputs(tmp_path / "in", 5)
    result = run_cli(
        "transcribe", "-j", "2", "-r", str(inputs), "-d", str(tmp_path / "out"),
        "--report", "/dev/full",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("voxcli: warning: cannot write --report /dev/full") == 1
    assert "No space left on device" in result.stderr
    assert _files(tmp_path / "out") == [f"{i}.txt" for i in range(5)]


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 kB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_report_on_a_full_tmpfs_does_not_stop_the_run(api_env, tmp_path, tiny_tmpfs):
    report = tiny_tmpfs / "report.jsonl"
    report.write_text("")
    with contextlib.suppress(OSError), (tiny_tmpfs / "filler").open("wb") as fh:
        while True:
            fh.write(b"x" * 4096)
            fh.flush()
    inputs = _inputs(tmp_path / "in", 3)
    result = run_cli(
        "transcribe", "-r", str(inputs), "-d", str(tmp_path / "out"), "--report", str(report)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("cannot write --report") == 1
    assert _files(tmp_path / "out") == ["0.txt", "1.txt", "2.txt"]


# -- 8. outputs that can never be written are refused before anything is sent ---------------


def test_an_output_path_that_is_a_directory_fails_before_sending(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy(DATA / "speech.wav", tmp_path / "hello.wav")
    _copy(DATA / "speech.wav", tmp_path / "other.wav")
    (tmp_path / "od" / "hello.txt").mkdir(parents=True)
    result = run_cli("transcribe", "hello.wav", "other.wav", "-d", "od")
    assert result.exit_code == 1, result.stderr
    assert "od/hello.txt is a directory" in result.stderr
    [request] = api_env.transcription_requests()
    assert request.files["file"][0].filename.startswith("other")
    assert (tmp_path / "od" / "other.txt").is_file()
    # alone: the same refusal, and nothing sent
    api_env.reset()
    alone = run_cli("transcribe", "hello.wav", "-d", "od", "--skip-existing")
    assert alone.exit_code == 2
    assert "od/hello.txt is a directory" in alone.stderr
    assert api_env.work_requests() == []


def _world_dir() -> Path:
    """A fresh directory every user can enter (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="voxcli-test-"))
    path.chmod(0o755)
    return path


def _sticky_folder_with_anothers_file(root: Path) -> Path:
    shared = root / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: anyone may create, only owners may replace
    theirs = shared / "speech.txt"
    theirs.write_text("their file\n")
    os.chown(theirs, 4242, 4242)
    os.chown(shared, 4242, 4242)
    return theirs


def test_an_output_the_user_cannot_replace_fails_before_sending(api_env, tmp_path, monkeypatch):
    """In-process, as a user who owns neither the file nor its sticky folder (the
    effective uid is the seam: root may replace anything)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make another user's file")
    theirs = _sticky_folder_with_anothers_file(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-o", str(theirs))
    monkeypatch.undo()
    assert result.exit_code == 2, result.stderr
    assert f"cannot replace {theirs}: another user's file in a shared folder" in result.stderr
    assert api_env.work_requests() == []
    assert theirs.read_text() == "their file\n"
    assert sorted(p.name for p in theirs.parent.iterdir()) == ["speech.txt"]


def _can_run_as_nobody() -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import voxcli"],
            user=65534, group=65534, extra_groups=[], capture_output=True, cwd="/",
        )  # fmt: skip
    except OSError:
        return False
    return done.returncode == 0


def test_an_output_the_user_cannot_replace_as_another_user(api_env):
    if os.geteuid() != 0:
        pytest.skip("needs root to run voxcli as another user")
    if not _can_run_as_nobody():
        pytest.skip("this Python cannot be run by another user")
    root = _world_dir()
    try:
        shared = root / "shared"
        shared.mkdir()
        shared.chmod(0o1777)  # like /tmp: anyone may create, only owners may replace
        theirs = shared / "speech.txt"
        theirs.write_text("root's file\n")
        home = root / "home"
        home.mkdir()
        os.chown(home, 65534, 65534)
        audio = _copy(DATA / "speech.wav", root / "speech.wav")
        audio.chmod(0o644)
        dirs = {f"XDG_{n.upper()}_HOME": str(home / n) for n in ("cache", "config", "state")}
        env = subprocess_env(api_env, HOME=str(home), TMPDIR=str(home), **dirs)
        result = _voxcli(
            "transcribe", str(audio), "-o", str(theirs),
            env=env, cwd=str(root), user=65534, group=65534, extra_groups=[],
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert f"cannot replace {theirs}".encode() in result.stderr
        assert api_env.work_requests() == []
        assert theirs.read_text() == "root's file\n"
        assert sorted(p.name for p in shared.iterdir()) == ["speech.txt"]
    finally:
        shutil.rmtree(root)


# -- 9. files still being written ------------------------------------------------------------


def test_recently_modified_inputs_are_skipped_as_unstable(api_env, tmp_path):
    inputs = tmp_path / "in"
    _age(_copy(DATA / "speech.mp3", inputs / "old.mp3"), 60)
    _copy(DATA / "speech.mp3", inputs / "new.mp3")
    report = tmp_path / "r.jsonl"
    args = ("transcribe", "-r", str(inputs), "-d", str(tmp_path / "out"), "--report", str(report))
    result = run_cli(*args, "-v", limits=Limits(min_age_seconds=10.0))  # the real default
    assert result.exit_code == 0, result.stderr
    assert _files(tmp_path / "out") == ["old.txt"]
    assert "new.mp3: not yet, modified 0 s ago (--min-age 10 s); retried next run" in result.stderr
    assert "1 unstable" in result.stderr
    [sent] = api_env.transcription_requests()
    assert sent.files["file"][0].filename == "old.mp3"
    assert {(Path(r["source"]).name, r["status"]) for r in _records(report)} == {
        ("old.mp3", "done"),
        ("new.mp3", "unstable"),
    }
    quiet = run_cli(*args, "--skip-existing", limits=Limits(min_age_seconds=10.0))
    assert quiet.exit_code == 0 and quiet.stderr == ""  # unstable is not an error
    _age(inputs / "new.mp3", 60)
    again = run_cli(*args, "--skip-existing", limits=Limits(min_age_seconds=10.0))
    assert again.exit_code == 0, again.stderr
    assert _files(tmp_path / "out") == ["new.txt", "old.txt"]


def test_files_from_inputs_wait_too_but_named_files_do_not(api_env, tmp_path):
    fresh = _copy(DATA / "speech.wav", tmp_path / "fresh.wav")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{fresh}\n")
    listed = run_cli(
        "transcribe", "--files-from", str(listing), limits=Limits(min_age_seconds=10.0)
    )
    assert listed.exit_code == 0 and listed.stdout == ""
    assert api_env.work_requests() == []
    named = run_cli("transcribe", str(fresh), limits=Limits(min_age_seconds=10.0))
    assert named.exit_code == 0 and named.stdout.strip()
    flagged = run_cli("transcribe", str(fresh), "--min-age", "30", "-v")
    assert flagged.exit_code == 0 and flagged.stdout == ""
    assert "(--min-age 30 s)" in flagged.stderr
    assert len(api_env.transcription_requests()) == 1


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_min_age_must_be_a_sane_number(api_env, value):
    result = run_cli("transcribe", str(DATA / "speech.wav"), "--min-age", value)
    assert result.exit_code == 2
    assert "--min-age must be a number of seconds, 0 or more" in result.stderr
    assert api_env.work_requests() == []


def test_an_input_that_changes_while_it_is_sent_is_unstable(api_env, tmp_path):
    wav = _age(_copy(DATA / "speech.wav", tmp_path / "in" / "grow.wav"), 60)
    report = tmp_path / "r.jsonl"

    def answer(request, duration):
        with wav.open("ab") as fh:  # the recorder is still writing
            fh.write(b"\0" * 3200)
        return api_env.default_transcription(request, duration)

    api_env.set_transcription(answer)
    result = run_cli(
        "transcribe", "-r", str(tmp_path / "in"), "-d", str(tmp_path / "out"),
        "--report", str(report), "-v", limits=Limits(min_age_seconds=10.0),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "grow.wav: not yet, it changed while it was transcribed; retried next run" in (
        result.stderr
    )
    assert not (tmp_path / "out" / "grow.txt").exists()
    assert [r["status"] for r in _records(report)] == ["unstable"]


def test_warns_when_the_audio_heard_is_much_shorter_than_the_header_says(
    api_env, tmp_path, chatty_mp3
):
    """A file still being written: its header claims 20 s, the API hears 10."""

    def answer(request, duration):
        data = api_env.default_transcription(request, duration)
        data["usage"]["prompt_audio_seconds"] = 10
        return data

    api_env.set_transcription(answer)
    result = run_cli("transcribe", str(chatty_mp3))
    assert result.exit_code == 0, result.stderr
    assert (
        f"voxcli: warning: {chatty_mp3}: the API heard 10 s of audio, but its header says "
        "20 s: the file may be truncated or still being written" in result.stderr
    )
    api_env.set_transcription(None)  # what the header says: no warning
    assert "warning" not in run_cli("transcribe", str(chatty_mp3)).stderr


def test_skip_existing_redoes_an_input_newer_than_its_output(api_env, tmp_path):
    wav = _copy(DATA / "speech.wav", tmp_path / "in" / "a.wav")
    out = tmp_path / "out" / "a.txt"
    out.parent.mkdir()
    out.write_text("old transcript\n")
    _age(out, 120)
    _age(wav, 60)  # changed after the transcript was written
    result = run_cli("transcribe", str(wav), "-o", str(out), "--skip-existing")
    assert result.exit_code == 0, result.stderr
    assert out.read_text() != "old transcript\n"
    assert len(api_env.transcription_requests()) == 1
    again = run_cli("transcribe", str(wav), "-o", str(out), "--skip-existing")  # now up to date
    assert again.exit_code == 0
    assert len(api_env.transcription_requests()) == 1


# -- 10. leftovers of killed runs are swept --------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_leftovers_are_swept_at_start_and_live_ones_kept(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead = _dead_pid()

    def run_dir(name: str, age: float, owner: int | None = None) -> Path:
        path = tmp / name
        path.mkdir()
        (path / "voxcli-x.flac").write_bytes(b"audio")
        _age(path / "voxcli-x.flac", age)
        if owner is not None:
            os.chown(path, owner, owner)
        return _age(path, age)

    stale = run_dir(f"voxcli-run-{dead}-abcd1234", 2 * HOUR)
    stale_old_style = run_dir("voxcli-run-k2j3h4g5", 2 * HOUR)
    young = run_dir(f"voxcli-run-{dead}-young000", 60)
    live_pid = run_dir("voxcli-run-1-init0000", 2 * HOUR)  # pid 1 lives
    held = run_dir(f"voxcli-run-{dead}-held0000", 2 * HOUR)
    fd = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a running voxcli holds its run dir
    others = (
        run_dir(f"voxcli-run-{dead}-other000", 2 * HOUR, owner=65534) if os.geteuid() == 0 else None
    )
    unrelated = run_dir("something-else", 2 * HOUR)

    _copy(DATA / "speech.wav", tmp_path / "hello.wav")
    out = tmp_path / "od"
    out.mkdir()
    stale_part = out / ".hello.txt.abcd_123.part"
    stale_part.write_text("half")
    _age(stale_part, 2 * HOUR)
    young_part = out / ".hello.txt.zyxw9876.part"
    young_part.write_text("being written")
    not_ours = out / ".notes.txt.abcd1234.part"
    not_ours.write_text("someone else's")
    _age(not_ours, 2 * HOUR)

    shard = Path(os.environ["XDG_CACHE_HOME"]) / "voxcli" / "parts" / "ab"
    shard.mkdir(parents=True)
    stale_tmp = shard / ".ab12cd34ef56ab78.q1w2e3r4.tmp"
    stale_tmp.write_text("{")
    _age(stale_tmp, 2 * HOUR)
    young_tmp = shard / ".ab12cd34ef56ab78.zzzzzzzz.tmp"
    young_tmp.write_text("{")

    env = make_env(temp_dir=tmp)
    try:
        assert run_env(env, "transcribe", "hello.wav", "-d", "od") == 0
    finally:
        os.close(fd)
    assert not stale.exists() and not stale_old_style.exists()
    assert young.exists() and live_pid.exists() and held.exists() and unrelated.exists()
    if others is not None:
        assert others.exists()
    assert not stale_part.exists()
    assert young_part.exists() and not_ours.exists()
    assert not stale_tmp.exists() and young_tmp.exists()
    assert (out / "hello.txt").is_file()


def test_a_run_directory_is_locked_while_its_run_lives(tmp_path):
    from voxcli.output.sweep import make_run_dir, sweep_run_dirs

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    run = make_run_dir(tmp)
    assert run.path.name.startswith(f"voxcli-run-{os.getpid()}-")
    _age(run.path, 2 * HOUR)
    assert sweep_run_dirs(tmp) == 0  # our own, and locked
    assert run.path.is_dir()
    run.remove()
    assert list(tmp.iterdir()) == []


# -- 13. planted symlinks ---------------------------------------------------------------------


def test_a_lock_file_symlink_is_not_followed(api_env, tmp_path):
    victim = tmp_path / "victim"
    out = tmp_path / "out"
    out.mkdir()
    (out / ".speech.txt.voxcli-lock").symlink_to(victim)
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-o", str(out / "speech.txt"))
    assert result.exit_code == 2
    assert "is a symbolic link" in result.stderr
    assert not victim.exists()
    assert api_env.work_requests() == []


def test_a_symlinked_folder_inside_the_output_dir_is_not_traversed(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _age(_copy(DATA / "speech.wav", tmp_path / "in" / "sub" / "a.wav"), 60)
    _age(_copy(DATA / "speech.wav", tmp_path / "in" / "b.wav"), 60)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").symlink_to(outside)
    result = run_cli("transcribe", "-r", "in", "-d", "out")
    assert result.exit_code == 1, result.stderr
    assert "out/sub is a symbolic link" in result.stderr
    assert list(outside.iterdir()) == []
    [sent] = api_env.transcription_requests()
    assert sent.files["file"][0].filename.startswith("b")
    assert (tmp_path / "out" / "b.txt").is_file()


def test_a_symlinked_output_dir_itself_is_the_users_choice(api_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    result = run_cli("transcribe", str(DATA / "speech.wav"), "-d", str(tmp_path / "link"))
    assert result.exit_code == 0, result.stderr
    assert (real / "speech.txt").is_file()


# -- 18. a directory without -r fails only itself ---------------------------------------------


def test_a_directory_without_recursive_fails_only_itself(api_env, tmp_path):
    (tmp_path / "folder").mkdir()
    wav = _copy(DATA / "speech.wav", tmp_path / "a.wav")
    result = run_cli("transcribe", str(wav), str(tmp_path / "folder"), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'folder'} is a directory" in result.stderr
    assert "1 of 2 inputs failed" in result.stderr
    assert (tmp_path / "o" / "a.txt").is_file()
    alone = run_cli("transcribe", str(tmp_path / "folder"))
    assert alone.exit_code == 2  # the only input: a usage error, as before
    assert len(api_env.transcription_requests()) == 1


# -- 21. report lines for a shared log --------------------------------------------------------


def test_report_lines_carry_a_timestamp_and_a_run_id(api_env, tmp_path):
    inputs = _inputs(tmp_path / "in", 2)
    report = tmp_path / "r.jsonl"
    for _ in range(2):
        args = ("transcribe", "-r", str(inputs), "-d", str(tmp_path / "o"), "--report", str(report))
        assert run_cli(*args).exit_code == 0
    records = _records(report)
    assert len(records) == 4
    for record in records:
        when = datetime.fromisoformat(record["time"])
        assert when.tzinfo is not None
        assert abs(time.time() - when.timestamp()) < 120
    runs = [record["run"] for record in records]
    assert runs[0] == runs[1] != runs[2] == runs[3]
    assert all(len(run) >= 8 for run in runs)


def test_non_utf8_names_are_recorded_recoverably(api_env, tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9.wav"
    shutil.copyfile(DATA / "speech.wav", raw)
    report = tmp_path / "r.jsonl"
    result = run_cli(
        "transcribe", os.fsdecode(raw), "-d", str(tmp_path / "o"), "--report", str(report)
    )
    assert result.exit_code == 0, result.stderr
    [record] = _records(report)  # valid JSON lines
    assert base64.b64decode(record["source_bytes"]) == raw
    assert base64.b64decode(record["output_bytes"]) == os.fsencode(tmp_path) + b"/o/caf\xe9.txt"
    writer = ReportWriter(tmp_path / "plain.jsonl")
    writer.write(source="caf\u00e9.wav", output=None, status="done")
    writer.close()
    [plain] = _records(tmp_path / "plain.jsonl")
    assert "source_bytes" not in plain and plain["source"] == "caf\u00e9.wav"


# -- 24. decoder chatter on stderr ------------------------------------------------------------


@pytest.fixture
def chatty_mp3(tmp_path) -> Path:
    """An MP3 whose Xing header no longer matches its size (libmpg123 complains)."""
    whole = make_tone_wav(tmp_path / "whole.mp3", 20.0)
    data = whole.read_bytes()
    path = tmp_path / "chatty.mp3"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("split", [False, True], ids=["probe", "decode"])
def test_decoder_chatter_is_captured(api_env, tmp_path, chatty_mp3, split):
    args = ["transcribe", str(chatty_mp3), "-d", str(tmp_path / "o")]
    if split:
        args += ["--split-minutes", "0.05"]
    env = subprocess_env(api_env)
    quiet = _voxcli(*args, env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == b""  # cron mails nothing
    verbose = _voxcli(*args, "-v", env=env)
    assert verbose.returncode == 0, verbose.stderr
    lines = verbose.stderr.decode().splitlines()
    assert "Xing" not in "".join(line for line in lines if not line.startswith("voxcli: "))
    chatter = [line for line in lines if "Xing stream size" in line]
    assert chatter and all(
        line.startswith("voxcli: warning: audio decoder: Xing stream size") for line in chatter
    )
    assert any(line.startswith("voxcli: ") and "wrote" in line for line in lines)


def test_chatter_capture_is_safe_with_threads(chatty_mp3):
    """Several threads decode while another prints voxcli's own lines on stderr: every own
    line arrives, no chatter does, and fd 2 is the original again afterwards."""
    script = textwrap.dedent(
        f"""
        import os, sys, threading, time
        from voxcli.audio.decode import open_reader
        before = os.fstat(2)
        def decode():
            for _ in range(10):
                with open_reader({str(chatty_mp3)!r}) as reader:
                    while len(reader.read(4000)):
                        pass
        threads = [threading.Thread(target=decode) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(300):
            sys.stderr.write(f"voxcli: own line {{i}}\\n")
            sys.stderr.flush()
            time.sleep(0.001)
        for t in threads:
            t.join()
        after = os.fstat(2)
        assert (before.st_ino, before.st_dev) == (after.st_ino, after.st_dev)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"ok\n"
    lines = result.stderr.decode().splitlines()
    assert lines == [f"voxcli: own line {i}" for i in range(300)]


def test_last_words_reach_stderr_while_a_decoder_is_abandoned():
    """A stopped run abandons a decoder thread mid-call: voxcli's last message still
    reaches the real stderr at exit."""
    script = textwrap.dedent(
        """
        import sys, threading, time
        from voxcli.audio.decode import decoder_stderr
        entered = threading.Event()
        def stuck():
            with decoder_stderr():
                entered.set()
                time.sleep(60)
        threading.Thread(target=stuck, daemon=True).start()
        entered.wait()
        sys.stderr.write("voxcli: error: interrupted\\n")
        sys.stderr.write("not ours: dropped\\n")
        sys.exit(130)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert result.returncode == 130
    assert result.stderr == b"voxcli: error: interrupted\n"


def test_a_lock_that_cannot_be_created_names_the_output_not_the_lock_file(tmp_path, mocker):
    from voxcli.engine import locks
    from voxcli.errors import InputError

    output = tmp_path / "out" / "talk.srt"
    real_open = os.open

    def refuse_locks(path, *args, **kwargs):
        if str(path).endswith("voxcli-lock"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    mocker.patch("voxcli.engine.locks.os.open", side_effect=refuse_locks)
    with pytest.raises(InputError) as raised:
        locks.try_lock(output)
    assert raised.value.message == f"cannot write {output} (Permission denied)"
    assert "voxcli-lock" not in raised.value.message + (raised.value.hint or "")
