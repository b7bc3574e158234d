#!/usr/bin/env python
"""Upload benchmarks: voxcli against the plain SDK call, on the fake server.

Run from the repository root (takes a few minutes, needs ~2 GB of free disk in $TMPDIR)::

    .venv/bin/python tests/benchmarks/bench_upload.py

It prints a Markdown table (paste it into the README) and the machine it ran on.
The baseline is what Mistral's docs show: ``Mistral(...).audio.transcriptions.complete(
file={"file_name": ..., "content": open(path, "rb")})`` with the raw file. Both sides
run as fresh processes (interpreter start and SDK import included) against the same
fake server, which reads uploads at a fixed bandwidth and keeps no bodies.

The audio is real speech (tests/data/speech.wav, espeak-ng) looped, resampled to
44.1 kHz stereo, with -60 dBFS of independent white noise per channel as a room
noise floor, so FLAC cannot shrink digital silence to nothing.

Measurements:
1. a 10-minute 44.1 kHz stereo WAV over a 20 Mbit/s uplink: bytes sent and wall time;
2. a 2-hour 44.1 kHz stereo WAV: peak RSS of the process (os.wait4's ru_maxrss);
3. the 2-hour WAV, --split-minutes 10 --jobs 4 against a server that takes
   ``latency_per_audio_second`` per second of audio, vs one request. The uplink is
   unthrottled here: the fake throttles each connection on its own, which would let
   parallel parts cheat on a shared uplink, so this row isolates server-side time;
4. ``voxcli --help`` wall time as a ratio to ``python -c pass`` (median of 15 runs).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from fake_mistral import TEST_API_KEY, FakeMistral  # noqa: E402

UPLINK = 2_500_000  # bytes/s: 20 Mbit/s, a typical office uplink
LATENCY_PER_AUDIO_SECOND = 0.005
RATE, CHANNELS = 44100, 2
NOISE_DBFS = -60.0

SDK_BASELINE = """
import sys
from mistralai.client import Mistral
path, url = sys.argv[1], sys.argv[2]
client = Mistral(api_key={key!r}, server_url=url)
with open(path, "rb") as content:
    response = client.audio.transcriptions.complete(
        model="voxtral-mini-latest",
        file={{"file_name": path.rsplit("/", 1)[-1], "content": content}},
    )
print(response.text[:40])
"""


@dataclass(frozen=True)
class Run:
    wall: float
    rss_mb: float
    sent: int
    requests: int


def make_speech_wav(path: Path, seconds: float) -> Path:
    """Loop the speech sample at 44.1 kHz stereo plus a noise floor, written block by block."""
    speech, rate = sf.read(TESTS / "data" / "speech.wav", dtype="float32")
    loop = soxr.resample(speech, rate, RATE, quality="HQ").astype(np.float32)
    loop = np.concatenate([loop, np.zeros(RATE // 2, np.float32)])  # a pause between phrases
    rng = np.random.default_rng(1)
    noise = 10 ** (NOISE_DBFS / 20)
    total = round(seconds * RATE)
    block = 10 * RATE
    with sf.SoundFile(path, "w", RATE, CHANNELS, subtype="PCM_16") as out:
        for first in range(0, total, block):
            n = min(block, total - first)
            idx = (first + np.arange(n)) % len(loop)
            mono = loop[idx]
            data = np.stack([mono, 0.8 * mono], axis=1)
            data += noise * rng.standard_normal((n, CHANNELS)).astype(np.float32)
            out.write(data)
    return path


def run_process(argv: list[str], env: dict[str, str], server: FakeMistral) -> Run:
    """Run ``argv`` to completion; wall time, its own peak RSS, bytes the server read."""
    server.reset()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    requests = server.transcription_requests()
    return Run(wall, usage.ru_maxrss / 1024, sum(r.body_size for r in requests), len(requests))


def voxcli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "voxcli", "transcribe", *args, "--no-cache", "-f", "json"]


def sdk_baseline(path: Path, server: FakeMistral) -> list[str]:
    code = SDK_BASELINE.format(key=TEST_API_KEY)
    return [sys.executable, "-c", code, str(path), server.url]


def median_wall(argv: list[str], times: int = 15) -> float:
    walls = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram} RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-minutes", type=float, default=10.0)
    parser.add_argument("--long-minutes", type=float, default=120.0)
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-"))
    env = {
        **os.environ,
        "MISTRAL_API_KEY": TEST_API_KEY,
        "TMPDIR": str(work),
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    env.pop("MISTRAL_DEBUG", None)
    rows: list[str] = []
    try:
        short = make_speech_wav(work / "talk-10min.wav", opts.short_minutes * 60)
        with FakeMistral(keep_bodies=False, read_bandwidth=UPLINK) as server:
            env["MISTRAL_SERVER_URL"] = server.url
            base = run_process(sdk_baseline(short, server), env, server)
            ours = run_process(voxcli([str(short)]), env, server)
        rows += [
            f"| {opts.short_minutes:g}-min 44.1 kHz stereo WAV, 20 Mbit/s uplink: bytes sent "
            f"| {mb(base.sent)} | {mb(ours.sent)} | **{base.sent / ours.sent:.1f}x fewer** "
            "| >= 8x |",
            f"| same: wall time | {base.wall:.1f} s | {ours.wall:.1f} s "
            f"| **{base.wall / ours.wall:.1f}x faster** | >= 4x |",
        ]
        short.unlink()
        print(*rows, sep="\n", flush=True)

        long = make_speech_wav(work / "talk-2h.wav", opts.long_minutes * 60)
        label = f"{opts.long_minutes / 60:g}-hour"
        with FakeMistral(keep_bodies=False) as server:
            env["MISTRAL_SERVER_URL"] = server.url
            base_mem = run_process(sdk_baseline(long, server), env, server)
            one_mem = run_process(voxcli([str(long)]), env, server)
            rows.append(
                f"| {label} 44.1 kHz stereo WAV ({mb(long.stat().st_size)}): peak RSS "
                f"| {base_mem.rss_mb:.0f} MB | {one_mem.rss_mb:.0f} MB "
                f"| {base_mem.rss_mb / one_mem.rss_mb:.1f}x less | < 200 MB |"
            )
            print(rows[-1], flush=True)
            server.latency_per_audio_second = LATENCY_PER_AUDIO_SECOND
            sdk_one = run_process(sdk_baseline(long, server), env, server)
            one = run_process(voxcli([str(long)]), env, server)
            split = run_process(
                voxcli([str(long), "--split-minutes", "10", "--jobs", "4"]), env, server
            )
        rows += [
            f"| {label} WAV, server {LATENCY_PER_AUDIO_SECOND} s per audio second: "
            f"wall time, one request | {sdk_one.wall:.1f} s | {one.wall:.1f} s "
            f"| {sdk_one.wall / one.wall:.1f}x faster | |",
            f"| same, `--split-minutes 10 --jobs 4` ({split.requests} parts, peak RSS "
            f"{split.rss_mb:.0f} MB); baseline: voxcli, one request "
            f"| {one.wall:.1f} s | {split.wall:.1f} s "
            f"| **{one.wall / split.wall:.1f}x faster** | >= 3x |",
        ]
        print(*rows[-2:], sep="\n", flush=True)
        long.unlink()

        python = median_wall([sys.executable, "-c", "pass"])
        helped = median_wall([sys.executable, "-m", "voxcli", "--help"])
        rows.append(
            f"| `voxcli --help` wall time; baseline: `python -c pass` | {python * 1000:.0f} ms "
            f"| {helped * 1000:.0f} ms | {helped / python:.1f}x python's start | |"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"Machine: {machine()}")
    print(f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print()
    print(
        "| measurement (baseline: SDK call with the raw file, unless said) | baseline "
        "| voxcli | ratio | target |"
    )
    print("| --- | ---: | ---: | ---: | --- |")
    print(*rows, sep="\n")


if __name__ == "__main__":
    main()
