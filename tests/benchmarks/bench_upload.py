#!/usr/bin/env python
"""Upload benchmarks: voxcli against the plain SDK call, on the fake server.

Run from anywhere (not collected by pytest; about 5 minutes with the defaults, and
~2 GB of free disk in $TMPDIR)::

    .venv/bin/python tests/benchmarks/bench_upload.py [--runs 2] [--long-minutes 120]

The baseline is what Mistral's docs show: ``Mistral(...).audio.transcriptions.complete(
file={"file_name": ..., "content": open(path, "rb")})`` with the raw file. Both sides
run as fresh processes (interpreter start and SDK import included) against the same
fake server, in this process, which keeps no bodies. Variants of a section run
interleaved, ``--runs`` times each (see ``harness.py``); peak RSS is each process's own
``ru_maxrss``, taken by a small spawner process (``harness.SPAWNER``: a direct child
of this process would inherit its high-water mark, 100 MB or more).

The audio is speech (espeak-ng reading a few paragraphs, see ``speech.py``) looped at
44.1 kHz stereo with a -60 dBFS noise floor per channel, so FLAC cannot shrink digital
silence to nothing.

1. Uplink: a ``--short-minutes`` (10) WAV over a 20 Mbit/s uplink (the fake reads each
   upload at that rate): bytes sent and wall time.
2. Long recording: a ``--long-minutes`` (120) WAV, unthrottled uplink, a server that
   takes ``LATENCY_PER_AUDIO_SECOND`` per second of audio: one request from the SDK,
   plain ``voxcli transcribe FILE`` (which may split a recording too long for one
   request on its own; the ``requests`` column says) and ``voxcli --split-minutes 10
   --jobs 4``; wall time and peak RSS.
   The uplink is unthrottled here: the fake throttles each connection on its own, which
   would let parallel parts cheat on a shared uplink, so this isolates server-side time.

Start-up time (``voxcli --help`` and friends) is ``bench_startup.py``'s job.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral  # noqa: E402
from harness import Bench, Results, Sample, fmt_mb  # noqa: E402
from speech import speech, write_speech  # noqa: E402

UPLINK = 2_500_000  # bytes/s: 20 Mbit/s, a typical office uplink
LATENCY_PER_AUDIO_SECOND = 0.005
RATE, CHANNELS = 44100, 2

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

SDK = "SDK call, raw file"
VOXCLI = "`voxcli transcribe FILE`"
SPLIT = "`voxcli transcribe FILE --split-minutes 10 --jobs 4`"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-minutes", type=float, default=10.0)
    parser.add_argument("--long-minutes", type=float, default=120.0)
    parser.add_argument("--skip-long", action="store_true", help="only the uplink section")
    # No warm-up round by default: a round takes minutes, the files are in the page cache
    # and the imports are primed below.
    harness.add_arguments(parser, runs=2, warmup=0)
    opts = parser.parse_args()

    harness.compile_sources()
    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-"))
    env = harness.python_env(
        {
            "MISTRAL_API_KEY": TEST_API_KEY,
            "TMPDIR": str(work),
            "XDG_CACHE_HOME": str(work / "cache"),
        }
    )
    voxcli = [*harness.voxcli_command(), "transcribe"]
    report: list[str] = []
    try:
        # Import what both sides import once, so the first counted run finds it cached.
        harness.run_command([sys.executable, "-c", "import mistralai.client, voxcli.cli"], env)

        def measured(argv: list[str], server: FakeMistral) -> Sample:
            server.reset()
            done = harness.run_command(argv, env)
            requests = server.transcription_requests()
            return Sample(
                done.wall,
                {
                    "sent": float(sum(r.body_size for r in requests)),
                    "rss": done.rss_mb,
                    "requests": float(len(requests)),
                },
            )

        def sdk(path: Path, server: FakeMistral) -> Callable[[], Sample]:
            code = SDK_BASELINE.format(key=TEST_API_KEY)
            return lambda: measured([sys.executable, "-c", code, str(path), server.url], server)

        def ours(args: list[str], server: FakeMistral) -> Callable[[], Sample]:
            return lambda: measured([*voxcli, *args, "--no-cache", "-f", "json"], server)

        short = write_speech(
            work / "talk-short.wav", opts.short_minutes * 60, rate=RATE, channels=CHANNELS
        )
        with FakeMistral(keep_bodies=False, read_bandwidth=UPLINK) as server:
            env["MISTRAL_SERVER_URL"] = server.url
            bench = Bench("uplink", runs=opts.runs, warmup=opts.warmup)
            bench.add(SDK, sdk(short, server))
            bench.add(VOXCLI, ours([str(short)], server))
            uplink = bench.run()
        report += uplink_section(opts, uplink)
        short.unlink()
        print("\n".join(report), file=sys.stderr, flush=True)  # the full report comes last

        if not opts.skip_long:
            long = write_speech(
                work / "talk-long.wav", opts.long_minutes * 60, rate=RATE, channels=CHANNELS
            )
            size = long.stat().st_size
            with FakeMistral(
                keep_bodies=False, latency_per_audio_second=LATENCY_PER_AUDIO_SECOND
            ) as server:
                env["MISTRAL_SERVER_URL"] = server.url
                bench = Bench("long recording", runs=opts.runs, warmup=opts.warmup)
                bench.add(SDK, sdk(long, server))
                bench.add(VOXCLI, ours([str(long)], server))
                bench.add(SPLIT, ours([str(long), "--split-minutes", "10", "--jobs", "4"], server))
                results = bench.run()
            long.unlink()
            section = long_section(opts, size, results)
            print("\n".join(section), file=sys.stderr, flush=True)
            report += section
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        harness.header(
            "Uploads: voxcli against the SDK call",
            opts.runs,
            [f"Audio: {speech(RATE).origin}."],
            warmup=opts.warmup,
        )
    )
    print("\n".join(report))
    return 0


def uplink_section(opts: argparse.Namespace, results: Results) -> list[str]:
    base, ours = results[SDK], results[VOXCLI]
    sent_base, sent_ours = base.extra("sent").median, ours.extra("sent").median
    speedup = base.wall().median / ours.wall().median
    return [
        "",
        f"### {opts.short_minutes:g}-min 44.1 kHz stereo WAV, 20 Mbit/s uplink",
        "",
        results.table(
            baseline=VOXCLI,
            ratio_label="wall / voxcli's (medians)",
            extras=[("sent", "bytes sent", fmt_mb), ("rss", "peak RSS", _mb)],
        ),
        "",
        f"- bytes sent: **{sent_base / sent_ours:.1f}x fewer** with voxcli (target >= 8x)",
        f"- wall time: **{speedup:.1f}x faster** with voxcli (medians; target >= 4x)",
    ]


def long_section(opts: argparse.Namespace, size: int, results: Results) -> list[str]:
    base, ours, split = results[SDK], results[VOXCLI], results[SPLIT]
    worst_rss = max(max(s.extra["rss"] for s in v.samples) for v in (ours, split))
    own_parts, parts = ours.extra("requests").median, split.extra("requests").median
    split_wall = split.wall().median
    over_ours, over_sdk = ours.wall().median / split_wall, base.wall().median / split_wall
    label = f"{opts.long_minutes / 60:g}-hour"
    default = (
        "one request" if own_parts == 1 else f"{own_parts:.0f} requests (it splits on its own)"
    )
    return [
        "",
        f"### {label} 44.1 kHz stereo WAV ({fmt_mb(size)}), unthrottled uplink, server "
        f"{LATENCY_PER_AUDIO_SECOND} s per audio second",
        "",
        results.table(
            baseline=VOXCLI,
            ratio_label="wall / plain voxcli's (medians)",
            extras=[("requests", "requests", lambda v: f"{v:.0f}"), ("rss", "peak RSS", _mb)],
        ),
        "",
        f"- `--split-minutes 10 --jobs 4` ({parts:.0f} parts): **{over_sdk:.1f}x faster** "
        f"than the SDK's one request (target >= 3x), {over_ours:.1f}x faster than plain "
        f"`voxcli transcribe FILE`, which sent {default} (medians)",
        f"- voxcli's peak RSS, worst run: {worst_rss:.0f} MB (target < 200 MB); the SDK's: "
        f"{base.extra('rss').high:.0f} MB (it streams the file from disk)",
    ]


def _mb(value: float) -> str:
    return f"{value:.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
