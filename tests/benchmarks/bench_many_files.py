"""Benchmark: many files at once (-j 8) against one at a time (-j 1) and a shell loop.

Run from the repository root (not collected by pytest)::

    .venv/bin/python tests/benchmarks/bench_many_files.py

It writes ``--files`` WAV files of ``--seconds`` each, starts the fake Mistral server
with ``--latency`` seconds per request, and times, as real subprocesses:

- ``voxcli transcribe -j 8 -r DIR -d OUT``
- ``voxcli transcribe -j 1 -r DIR -d OUT``
- a shell loop running one ``voxcli transcribe FILE -o OUT/NAME.txt`` per file,
  what people do with tools that take one file.

It prints a Markdown table and checks the issue's target: ``-j 8`` within 25% of the
ideal 8x speedup over ``-j 1`` (at least 6x).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

from audio_factory import make_tone_wav  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral  # noqa: E402


def _time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed:\n{result.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--no-loop", action="store_true", help="skip the (slow) shell loop")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-"))
    try:
        inputs = work / "in"
        inputs.mkdir()
        for i in range(args.files):
            make_tone_wav(inputs / f"talk{i:03d}.wav", args.seconds)
        with FakeMistral(latency=args.latency, keep_bodies=False) as fake:
            env = dict(os.environ, MISTRAL_API_KEY=TEST_API_KEY, MISTRAL_SERVER_URL=fake.url)
            env.pop("VOXCLI_CONFIG", None)
            voxcli = [sys.executable, "-m", "voxcli", "transcribe"]
            rows: list[tuple[str, float, int]] = []
            for jobs in (args.jobs, 1):
                out = work / f"out-j{jobs}"
                before = len(fake.transcription_requests())
                elapsed = _time([*voxcli, "-j", str(jobs), "-r", str(inputs), "-d", str(out)], env)
                sent = len(fake.transcription_requests()) - before
                rows.append((f"`voxcli transcribe -j {jobs} -r in/ -d out/`", elapsed, sent))
                assert len(list(out.iterdir())) == args.files
            out = work / "out-loop"
            out.mkdir()
            if args.no_loop:
                return _table(args, rows)
            loop = (
                'for f in "$1"/*.wav; do "$2" -m voxcli transcribe "$f" '
                '-o "$3/$(basename "$f" .wav).txt" || exit 1; done'
            )
            before = len(fake.transcription_requests())
            command = ["bash", "-c", loop, "loop", str(inputs), sys.executable, str(out)]
            elapsed = _time(command, env)
            sent = len(fake.transcription_requests()) - before
            rows.append(("shell loop, one `voxcli transcribe FILE -o ...` per file", elapsed, sent))
            assert len(list(out.iterdir())) == args.files
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _table(args, rows)


def _table(args: argparse.Namespace, rows: list[tuple[str, float, int]]) -> int:
    sequential = rows[1][1]
    print(
        f"{args.files} files of {args.seconds:g} s, fake server latency {args.latency:g} s "
        f"per request; {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {datetime.date.today().isoformat()}\n"
    )
    print("| run | wall time | requests | speedup over -j 1 |")
    print("| --- | ---: | ---: | ---: |")
    for name, elapsed, sent in rows:
        print(f"| {name} | {elapsed:.1f} s | {sent} | {sequential / elapsed:.2f}x |")
    speedup = sequential / rows[0][1]
    target = 0.75 * args.jobs
    verdict = "meets" if speedup >= target else "MISSES"
    print(
        f"\n-j {args.jobs} is {speedup:.2f}x faster than -j 1: {verdict} the target "
        f"(within 25% of the ideal {args.jobs}x, i.e. >= {target:.1f}x)."
    )
    return 0 if speedup >= target else 1


if __name__ == "__main__":
    sys.exit(main())
