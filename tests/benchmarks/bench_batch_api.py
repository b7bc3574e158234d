#!/usr/bin/env python
"""Benchmark: the Batch API (``batch submit`` + ``batch collect``) against ``transcribe -j 8``.

Run from anywhere (not collected by pytest; about two minutes with the defaults)::

    .venv/bin/python tests/benchmarks/bench_batch_api.py [--runs 3] [--files 500]

It writes ``--files`` short speech WAV files (espeak-ng, see ``speech.py``; each starts
at its own place in the text), starts the fake Mistral server in this process and times,
as real subprocesses, interleaved (see ``harness.py``):

- ``voxcli transcribe -j 8 -r in/ -d out/``: every file is one transcription request,
  which the server answers after ``--latency`` seconds (the model's work, paid by the
  caller's wall clock);
- ``voxcli batch submit -j 8 -r in/ -d out/`` then, once the job is done,
  ``voxcli batch collect``: voxcli's own work around a batch job (preparing and
  uploading the audio, creating the job; downloading, rendering and writing the results,
  deleting the uploads). The job itself runs on Mistral's side within its timeout (the
  fake finishes it at once), so its duration is not voxcli's and is not counted.

Every request but transcriptions is answered after ``--rtt`` seconds (a network round
trip). Besides wall time: requests made (model lookups excluded), MB uploaded (request
bodies) and, for the batch, the submit and collect walls apart.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral, RecordedRequest  # noqa: E402
from harness import Bench, Sample, fmt_mb  # noqa: E402
from speech import speech, write_speech  # noqa: E402


def _work(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if not r.path.startswith("/v1/models")]


def _uploaded(requests: list[RecordedRequest]) -> float:
    return float(sum(r.body_size for r in requests if r.method == "POST"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each file")
    parser.add_argument("--rate", type=int, default=44100, help="sample rate of the files")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument(
        "--latency", type=float, default=0.3, help="server seconds per transcription request"
    )
    parser.add_argument("--rtt", type=float, default=0.02, help="server seconds per other request")
    parser.add_argument("--jobs", type=int, default=8)
    harness.add_arguments(parser, runs=3)
    args = parser.parse_args()

    harness.compile_sources()
    voxcli = harness.voxcli_command()
    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-batch-"))
    try:
        inputs = work / "in"
        inputs.mkdir()
        origin = speech(args.rate).origin
        for i in range(args.files):
            write_speech(
                inputs / f"clip{i:04d}.wav",
                args.seconds,
                rate=args.rate,
                channels=args.channels,
                offset=i * 3.1,
                seed=i,
            )
        harness.recorded_long_ago(inputs)
        out, state = work / "out", work / "state"

        def delay(request: RecordedRequest) -> float:
            if request.path.rstrip("/") == "/v1/audio/transcriptions":
                return args.latency
            return args.rtt

        with FakeMistral(delay_fn=delay, batch_step_seconds=0) as fake:
            env = harness.python_env(
                {
                    "MISTRAL_API_KEY": TEST_API_KEY,
                    "MISTRAL_SERVER_URL": fake.url,
                    "TMPDIR": str(work),
                    "XDG_CACHE_HOME": str(work / "cache"),
                    "XDG_STATE_HOME": str(state),
                }
            )

            def fresh() -> None:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(state, ignore_errors=True)
                fake.reset()

            def check(expected: int) -> None:
                written = sum(1 for p in out.rglob("*.txt"))
                if written != expected:
                    raise SystemExit(f"wrote {written} outputs, not {expected}")

            def transcribe() -> Sample:
                fresh()
                argv = [*voxcli, "transcribe", "-j", str(args.jobs), "-r", str(inputs)]
                done = harness.run_command([*argv, "-d", str(out)], env)
                check(args.files)
                requests = _work(fake.requests)
                return Sample(
                    done.wall,
                    {"requests": float(len(requests)), "uploaded": _uploaded(requests)},
                )

            def batch() -> Sample:
                fresh()
                argv = [*voxcli, "batch", "submit", "-j", str(args.jobs), "-r", str(inputs)]
                submit = harness.run_command([*argv, "-d", str(out)], env)
                sent = _work(fake.requests)
                if len(fake.batch_jobs) != 1:
                    raise SystemExit(f"submit made {len(fake.batch_jobs)} jobs, not 1")
                collect = harness.run_command([*voxcli, "batch", "collect", "-j", "8"], env)
                check(args.files)
                requests = _work(fake.requests)
                return Sample(
                    submit.wall + collect.wall,
                    {
                        "requests": float(len(requests)),
                        "uploaded": _uploaded(sent),
                        "submit": submit.wall,
                        "collect": collect.wall,
                    },
                )

            direct = f"`voxcli transcribe -j {args.jobs}` ({args.files} files)"
            batched = f"`voxcli batch submit -j {args.jobs}` + `batch collect`"
            bench = Bench("batch API", runs=args.runs, warmup=args.warmup)
            bench.add(direct, transcribe)
            bench.add(batched, batch)
            results = bench.run()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        harness.header(
            f"Batch API: {args.files} x {args.seconds:g} s, submit + collect vs transcribe "
            f"-j {args.jobs}",
            args.runs,
            [
                f"Input: {args.files} WAV files, {args.rate} Hz, {args.channels} channel(s), "
                f"{args.seconds:g} s each; {origin}.",
                f"Fake server (in this process): transcriptions answered after "
                f"{args.latency:g} s, every other request after {args.rtt:g} s; the batch "
                "job finishes at once (its time on Mistral's side is not voxcli's).",
            ],
            warmup=args.warmup,
        )
    )
    print()
    print(
        results.table(
            baseline=direct,
            ratio_label="wall / transcribe's (medians)",
            extras=[
                ("submit", "submit", lambda v: f"{v:.2f} s"),
                ("collect", "collect", lambda v: f"{v:.2f} s"),
                ("requests", "requests", lambda v: f"{v:.0f}"),
                ("uploaded", "uploaded", fmt_mb),
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
