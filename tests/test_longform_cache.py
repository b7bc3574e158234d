"""The part cache under stress: Ctrl-C while answered parts wait to be collected, writes
cut off by a killed process, and answers from another server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli, subprocess_env
from fake_mistral import TEST_API_KEY

from voxcli.engine.cache import STALE_TEMP_SECONDS, PartCache, normalise_server_url
from voxcli.paths import cache_dir

SILENCES = [(13.5, 15.5), (29.0, 31.0), (44.6, 46.4)]
SPLIT = ("--split-minutes", "0.25")  # 61 s -> 4 parts, one cut in each pause

# Runs voxcli with the cut finder stalled before the third cut: parts 1 and 2 are sent,
# and the main thread then waits for the analysis (as it does on a long, slow file)
# instead of collecting their answers.
LAUNCHER = textwrap.dedent(
    """
    import time

    from voxcli import audio
    from voxcli.cli import main

    find_cuts = audio.iter_split_points


    def stalled(*args, **kwargs):
        for n, cut in enumerate(find_cuts(*args, **kwargs)):
            if n == 2:
                time.sleep(120)
            yield cut


    audio.iter_split_points = stalled
    main()
    """
)


@pytest.fixture
def long_wav(tmp_path: Path) -> Path:
    return make_tone_wav(tmp_path / "talk.wav", 61.0, silence_at=SILENCES)


def cache_files(pattern: str) -> list[Path]:
    root = cache_dir(os.environ) / "parts"
    return sorted(root.glob(f"*/{pattern}")) if root.exists() else []


def part_number(request) -> int:
    return int(request.file().filename.split(".part")[1][:3])


def test_a_part_answered_before_ctrl_c_is_cached_even_if_never_collected(
    fake_server, long_wav, tmp_path, monkeypatch
):
    """Part 1 is answered while the main thread waits for the cut finder; then SIGINT.

    Before parts were cached by the worker that received them, part 1's answer sat in
    a queue until the main thread came back for it, and was lost with the process.
    """
    fake_server.delay_fn = lambda request: 0.0 if part_number(request) == 1 else 60.0
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    tmp = tmp_path / "proc-tmp"
    tmp.mkdir()
    env = subprocess_env(fake_server, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, str(launcher), "transcribe", str(long_wav), *SPLIT, "-j", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        fake_server.wait_for_requests(2, timeout=60, path="/v1/audio/transcriptions")
        deadline = time.monotonic() + 20
        while not cache_files("*.json") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(cache_files("*.json")) == 1, "part 1 was answered but not cached"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert out == b""
    assert cache_files("*.tmp") == []
    assert cache_files(".*") == []  # temporary cache files start with a dot
    assert list(tmp.iterdir()) == []

    fake_server.delay_fn = None
    fake_server.reset()
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    result = run_cli("transcribe", str(long_wav), *SPLIT, "-j", "4", "-v")
    assert result.exit_code == 0, result.stderr
    assert sorted(part_number(r) for r in fake_server.transcription_requests()) == [2, 3, 4]
    assert "4 parts transcribed, 1 of them from the cache" in result.stderr


def test_temporary_files_of_a_killed_write_are_swept_on_the_next_use(api_env, long_wav):
    result = run_cli("transcribe", str(long_wav), *SPLIT)
    assert result.exit_code == 0, result.stderr
    shard = cache_files("*.json")[0].parent
    stale = shard / ".0123456789abcdef.x1y2z3.tmp"  # what a killed store() leaves
    fresh = shard / ".fedcba9876543210.a1b2c3.tmp"  # maybe another run writing right now
    stale.write_text('{"version": 1, "key": "012')
    fresh.write_text('{"version": 1, "key": "fed')
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))

    again = run_cli("transcribe", str(long_wav), *SPLIT)
    assert again.exit_code == 0, again.stderr
    assert not stale.exists()
    assert fresh.exists()
    assert len(cache_files("*.json")) == 4  # entries are kept


def test_prune_sweeps_only_stale_temporary_files(tmp_path):
    cache = PartCache(tmp_path)
    key = "ab" + "5" * 62
    cache.store(key, {"text": "kept"})
    stale = cache.path_for(key).parent / f".{key[:16]}.abc.tmp"
    stale.write_text("{")
    now = time.time()
    os.utime(stale, (now - 2 * STALE_TEMP_SECONDS, now - 2 * STALE_TEMP_SECONDS))
    assert cache.prune(now=now) == 1
    assert not stale.exists()
    assert cache.load(key) == {"text": "kept"}


def test_answers_from_another_server_are_not_reused(api_env, long_wav):
    """The same server spelled differently shares entries; another server does not."""
    first = run_cli("transcribe", str(long_wav), *SPLIT)
    assert first.exit_code == 0, first.stderr
    assert len(api_env.transcription_requests()) == 4
    port = api_env.url.rsplit(":", 1)[1]

    api_env.reset()
    same = run_cli("transcribe", str(long_wav), *SPLIT, "--server-url", f"http://127.0.0.1:{port}/")
    assert same.exit_code == 0, same.stderr
    assert api_env.transcription_requests() == []  # all four parts from the cache

    api_env.reset()  # e.g. a gateway in front of another deployment
    other = run_cli("transcribe", str(long_wav), *SPLIT, "--server-url", f"http://localhost:{port}")
    assert other.exit_code == 0, other.stderr
    assert len(api_env.transcription_requests()) == 4
    assert len(cache_files("*.json")) == 8


@pytest.mark.parametrize(
    ("spelling", "normal"),
    [
        (None, "https://api.mistral.ai"),
        ("https://api.mistral.ai", "https://api.mistral.ai"),
        ("HTTPS://API.Mistral.AI:443/", "https://api.mistral.ai"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://gateway.example/mistral/", "https://gateway.example/mistral"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_server_urls_are_normalised(spelling, normal):
    assert normalise_server_url(spelling) == normal


def test_mixing_cached_parts_of_another_model_is_warned_about(api_env, long_wav):
    """``voxtral-mini-latest`` moved to a new model between two runs (the key holds the alias)."""

    def answered_by(model):
        def answer(request, duration):
            return {**api_env.default_transcription(request, duration), "model": model}

        return answer

    api_env.set_transcription(answered_by("voxtral-mini-2507"))
    first = run_cli("transcribe", str(long_wav), *SPLIT)
    assert first.exit_code == 0, first.stderr
    assert first.stderr == ""
    cache_files("*.json")[0].unlink()

    api_env.reset()
    api_env.set_transcription(answered_by("voxtral-mini-2602"))
    again = run_cli("transcribe", str(long_wav), *SPLIT)
    assert again.exit_code == 0, again.stderr
    assert len(api_env.transcription_requests()) == 1
    assert (
        "parts from the cache were transcribed by another model "
        "(voxtral-mini-2507, voxtral-mini-2602); run with --no-cache" in again.stderr
    )
