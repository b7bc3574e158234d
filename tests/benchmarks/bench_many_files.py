#!/usr/bin/env python
"""Benchmark: many short files at ``-j 8`` against the ideal schedule (scheduling efficiency).

Run from anywhere (not collected by pytest; about a minute with the defaults)::

    .venv/bin/python tests/benchmarks/bench_many_files.py [--runs 5] [--sequential]

It writes ``--files`` speech WAV files of ``--seconds`` each (44.1 kHz stereo by
default, like a voice recorder's; espeak-ng, see ``speech.py``; each file starts at
its own place in the text) and starts the fake Mistral server answering every request
after ``--latency`` seconds: the server ``python tests/fake_mistral.py --latency 1``
runs, here in this process, so its request log gives when each request arrived and
was answered (``time.monotonic()``, the same clock as the measured processes').
Then it times, as real subprocesses, interleaved (see ``harness.py``):

- ``voxcli transcribe -j 8 -r in/ -d out/`` on all the files;
- ``voxcli transcribe one.wav -o out.txt`` (``-j 1``, one file): what one file costs
  around its one request (interpreter start, imports, SDK client, probe and encode,
  writing the result, exit);
- with ``--sequential``: ``-j 1`` on all the files, and a shell loop running one
  ``voxcli transcribe FILE -o OUT`` per file (slow: about a minute each per run).

Scheduling efficiency = ideal / actual, where

    ideal = ceil(files / jobs) x latency + overhead_1
    overhead_1 = median wall time of one file at -j 1 - latency

i.e. the rounds of requests a perfect scheduler needs, plus what one file pays once
around its request. The target is >= 0.9. The fake server's request log then splits
``-j 8``'s wall time into start-up (to the first request), the request chain (first
request to last response, against ``ceil(files / jobs) x latency``) and the tail
(last response to exit), each against the one-file run, and gives the hand-over time:
how long after the k-th answer the (k + jobs)-th request arrived (the one that took
its place).
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral, RecordedRequest  # noqa: E402
from harness import Bench, Sample  # noqa: E402
from speech import speech, write_speech  # noqa: E402

TARGET = 0.9
SLOW_FSYNC = """
import os, runpy, sys, time
_fsync, _delay = os.fsync, float(sys.argv.pop(1)) / 1000
def fsync(fd):
    time.sleep(_delay)
    _fsync(fd)
os.fsync = fsync
runpy.run_module("voxcli", run_name="__main__", alter_sys=True)
"""
"""``--fsync-delay``: voxcli run with a slow ``os.fsync`` (a laptop's or a network disk's)."""
LOOP = "shell loop, one `voxcli transcribe FILE -o ...` per file"


@dataclass(frozen=True)
class Timeline:
    """One run's phases from the fake server's log (seconds)."""

    start: float  # process start -> first request received
    chain: float  # first request received -> last response finished
    tail: float  # last response finished -> process exit
    hand_over: float  # median: a response finished -> the request taking its place arrives
    requests: int

    def extra(self) -> dict[str, float]:
        return {
            "start": self.start,
            "chain": self.chain,
            "tail": self.tail,
            "hand_over": self.hand_over,
            "requests": float(self.requests),
        }


def timeline(requests: list[RecordedRequest], started: float, ended: float, jobs: int) -> Timeline:
    received = sorted(r.received_at for r in requests)
    finished = sorted(r.finished_at or ended for r in requests)
    # The k-th request after the first ``jobs`` takes the slot the k-th response freed.
    gaps = [received[k + jobs] - finished[k] for k in range(len(received) - jobs)]
    return Timeline(
        start=received[0] - started,
        chain=finished[-1] - received[0],
        tail=ended - finished[-1],
        hand_over=statistics.median(gaps) if gaps else 0.0,
        requests=len(requests),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each file")
    parser.add_argument("--rate", type=int, default=44100, help="sample rate of the files")
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--latency", type=float, default=1.0, help="server seconds per request")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="write the transcripts under this directory (default: the temporary one); "
        "fsync costs differ a lot between disks",
    )
    parser.add_argument(
        "--fsync-delay",
        type=float,
        default=0.0,
        metavar="MS",
        help="simulate a slow disk: every os.fsync in voxcli sleeps MS milliseconds first "
        "(voxcli then runs as python -c ... runpy, not as its console script)",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="also time -j 1 on every file and a shell loop (about 2 more minutes per run)",
    )
    harness.add_arguments(parser, runs=5)
    args = parser.parse_args()

    harness.compile_sources()
    voxcli = harness.voxcli_command()
    if args.fsync_delay:
        voxcli = [sys.executable, "-c", SLOW_FSYNC, str(args.fsync_delay)]
    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-"))
    out_root = Path(tempfile.mkdtemp(prefix="voxcli-bench-out-", dir=args.output_dir))
    out = out_root / "out"
    try:
        inputs = work / "in"
        inputs.mkdir()
        origin = speech(args.rate).origin
        for i in range(args.files):
            write_speech(
                inputs / f"talk{i:03d}.wav",
                args.seconds,
                rate=args.rate,
                channels=args.channels,
                offset=i * 7.3,
                seed=i,
            )
        harness.recorded_long_ago(inputs)
        one = sorted(inputs.iterdir())[0]
        with FakeMistral(latency=args.latency, keep_bodies=False) as fake:
            env = harness.python_env(
                {
                    "MISTRAL_API_KEY": TEST_API_KEY,
                    "MISTRAL_SERVER_URL": fake.url,
                    "TMPDIR": str(work),
                    "XDG_CACHE_HOME": str(work / "cache"),
                }
            )

            def timed(argv: list[str], jobs: int, expected: int) -> Sample:
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                fake.reset()
                done = harness.run_command(argv, env)
                written = sum(1 for _ in out.iterdir())
                if written != expected:
                    raise SystemExit(
                        f"{' '.join(argv[:6])} ...: wrote {written} files, not {expected}:\n"
                        + done.stderr.decode(errors="replace")[-2000:]
                    )
                line = timeline(fake.transcription_requests(), done.started, done.ended, jobs)
                return Sample(done.wall, line.extra())

            transcribe = [*voxcli, "transcribe"]
            many = f"`voxcli transcribe -j {args.jobs} -r in/ -d out/` ({args.files} files)"
            single = "`voxcli transcribe one.wav -o out.txt` (-j 1, one file)"
            bench = Bench("many files", runs=args.runs, warmup=args.warmup)
            bench.add(
                many,
                lambda: timed(
                    [*transcribe, "-j", str(args.jobs), "-r", str(inputs), "-d", str(out)],
                    args.jobs,
                    args.files,
                ),
            )
            bench.add(
                single, lambda: timed([*transcribe, str(one), "-o", str(out / "o.txt")], 1, 1)
            )
            if args.sequential:
                bench.add(
                    f"`voxcli transcribe -j 1 -r in/ -d out/` ({args.files} files)",
                    lambda: timed(
                        [*transcribe, "-j", "1", "-r", str(inputs), "-d", str(out)], 1, args.files
                    ),
                )
                loop = (
                    'for f in "$1"/*.wav; do "${@:3}" transcribe "$f" '
                    '-o "$2/$(basename "$f" .wav).txt" || exit 1; done'
                )
                bench.add(
                    LOOP,
                    lambda: timed(
                        ["bash", "-c", loop, "loop", str(inputs), str(out), *voxcli], 1, args.files
                    ),
                )
            results = bench.run()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out_root, ignore_errors=True)

    rounds = math.ceil(args.files / args.jobs)
    single_wall = results[single].wall().median
    overhead_1 = single_wall - args.latency
    ideal = rounds * args.latency + overhead_1
    actual = results[many].wall()
    efficiency = ideal / actual.median

    print(
        harness.header(
            f"Many files: {args.files} x {args.seconds:g} s at -j {args.jobs}",
            args.runs,
            [
                f"Input: {args.files} WAV files, {args.rate} Hz, {args.channels} channel(s), "
                f"{args.seconds:g} s each; {origin}.",
                f"Fake server (in this process) answering each request after {args.latency:g} s.",
                f"Transcripts written to {out_root}"
                + (f", every fsync delayed {args.fsync_delay:g} ms" if args.fsync_delay else "")
                + ".",
            ],
            warmup=args.warmup,
        )
    )
    print()
    print(
        results.table(
            baseline=single,
            ratio_label="wall / one file's (medians)",
            extras=[
                ("requests", "requests", lambda v: f"{v:.0f}"),
                ("start", "start to 1st request", lambda v: f"{v:.2f} s"),
                ("tail", "last answer to exit", lambda v: f"{v:.2f} s"),
            ],
        )
    )
    print()
    print(
        "Scheduling efficiency = ideal / actual, where ideal = ceil(files / jobs) x latency "
        "+ overhead_1 and overhead_1 = (median wall of one file at -j 1) - latency."
    )
    print(
        f"overhead_1 = {single_wall:.2f} - {args.latency:g} = {overhead_1:.2f} s; "
        f"ideal = ceil({args.files} / {args.jobs}) x {args.latency:g} + {overhead_1:.2f} "
        f"= {ideal:.2f} s; actual (median) = {actual.median:.2f} s."
    )
    verdict = "meets" if efficiency >= TARGET else "MISSES"
    print(
        f"**Efficiency {efficiency:.2f}** (runs: {ideal / actual.high:.2f} worst, "
        f"{ideal / actual.low:.2f} best): {verdict} the target >= {TARGET}."
    )

    one, lot = results[single], results[many]
    chain_ideal = rounds * args.latency
    rows = [
        ("start: process start to first request", "start", "start"),
        ("tail: last answer to process exit", "tail", "tail"),
    ]
    print()
    print(f"Where -j {args.jobs} spends its time beyond the ideal (medians, fake server's log):")
    print()
    print(f"| phase | -j {args.jobs}, {args.files} files | one file | excess |")
    print("| --- | ---: | ---: | ---: |")
    for label, key_many, key_one in rows:
        a, b = lot.extra(key_many).median, one.extra(key_one).median
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {a - b:+.2f} s |")
    chain = lot.extra("chain").median
    print(
        f"| request chain: first request to last answer ({rounds} rounds) "
        f"| {chain:.2f} s | {chain_ideal:.2f} s (ideal) | {chain - chain_ideal:+.2f} s |"
    )
    hand_over = lot.extra("hand_over").median
    print(
        f"\nHand-over: a request waits {hand_over * 1000:.0f} ms (median) after the answer "
        f"that freed its slot; over {rounds - 1} hand-overs on the critical path that is "
        f"about {(rounds - 1) * hand_over:.2f} s."
    )
    if args.sequential:
        sequential = f"`voxcli transcribe -j 1 -r in/ -d out/` ({args.files} files)"
        speedup = results.ratio(sequential, many)
        print(
            f"\n-j {args.jobs} is {speedup:.2f}x faster than -j 1 on the same files (at most "
            f"{args.files / rounds:.2f}x with {rounds} rounds of {args.jobs}), and "
            f"{results.ratio(LOOP, many):.2f}x faster than the shell loop."
        )
    return 0 if efficiency >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
