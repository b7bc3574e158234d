#!/usr/bin/env python
"""Upload benchmarks: voxcli against the plain SDK call, on the fake server.

Run from anywhere (not collected by pytest; about 9 minutes with the defaults, and
~2 GB of free disk in $TMPDIR)::

    .venv/bin/python tests/benchmarks/bench_upload.py [--runs 2] [--long-minutes 120]
    .venv/bin/python tests/benchmarks/bench_upload.py --only opus   # ~4 minutes

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
3. Opus: the same ``--short-minutes`` WAV sent three ways by voxcli, ``--upload
   original`` (the raw file), ``--upload auto`` (16 kHz mono FLAC) and ``--upload opus``
   (16 kHz mono Opus in OGG), each over a 20 Mbit/s and a 2 Mbit/s uplink (the fake's
   ``read_bandwidth`` is set before each run, so all six variants run interleaved):
   bytes sent, wall time, and Opus's bytes and time over FLAC's and the raw file's.
   The raw file at 2 Mbit/s takes 7 minutes a run, so by default it is not run but
   estimated (its median at 20 Mbit/s plus the extra transfer time of its bytes at
   2 Mbit/s; marked as such in the report); ``--slow-raw`` measures it.

``--only uplink|long|opus`` runs one section.

Start-up time (``voxcli --help`` and friends) is ``bench_startup.py``'s job.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import astuple
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral  # noqa: E402
from harness import Bench, Results, Sample, Stats, fmt_mb  # noqa: E402
from speech import speech, write_speech  # noqa: E402

UPLINK = 2_500_000  # bytes/s: 20 Mbit/s, a typical office uplink
SLOW_UPLINK = 250_000  # bytes/s: 2 Mbit/s, a poor mobile or hotel link
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
UPLOADS = {  # the opus section's variants: label -> --upload value
    "raw file (`--upload original`)": "original",
    "16 kHz mono FLAC (`--upload auto`)": "auto",
    "16 kHz mono Opus (`--upload opus`)": "opus",
}
RAW, FLAC, OPUS = UPLOADS
RATES = {"20 Mbit/s": UPLINK, "2 Mbit/s": SLOW_UPLINK}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-minutes", type=float, default=10.0)
    parser.add_argument("--long-minutes", type=float, default=120.0)
    parser.add_argument(
        "--skip-long", action="store_true", help="leave out the long-recording section"
    )
    parser.add_argument("--only", choices=("uplink", "long", "opus"), help="run only this section")
    parser.add_argument(
        "--slow-raw",
        action="store_true",
        help="measure the raw file at 2 Mbit/s too (7 minutes a run) instead of estimating it",
    )
    # No warm-up round by default: a round takes minutes, the files are in the page cache
    # and the imports are primed below.
    harness.add_arguments(parser, runs=2, warmup=0)
    opts = parser.parse_args()
    sections = (
        {opts.only} if opts.only else {"uplink", "opus"} | (set() if opts.skip_long else {"long"})
    )

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

        def at_rate(server: FakeMistral, rate: int, run: Callable[[], Sample]) -> Sample:
            server.read_bandwidth = rate
            return run()

        if sections & {"uplink", "opus"}:
            short = write_speech(
                work / "talk-short.wav", opts.short_minutes * 60, rate=RATE, channels=CHANNELS
            )
        if "uplink" in sections:
            with FakeMistral(keep_bodies=False, read_bandwidth=UPLINK) as server:
                env["MISTRAL_SERVER_URL"] = server.url
                bench = Bench("uplink", runs=opts.runs, warmup=opts.warmup)
                bench.add(SDK, sdk(short, server))
                bench.add(VOXCLI, ours([str(short)], server))
                uplink = bench.run()
            section = uplink_section(opts, uplink)
            print("\n".join(section), file=sys.stderr, flush=True)  # the report comes last
            report += section

        if "opus" in sections:
            with FakeMistral(keep_bodies=False) as server:
                env["MISTRAL_SERVER_URL"] = server.url
                bench = Bench("opus", runs=opts.runs, warmup=opts.warmup)
                for speed, rate in RATES.items():
                    for label, upload in UPLOADS.items():
                        if label == RAW and rate == SLOW_UPLINK and not opts.slow_raw:
                            continue
                        run = ours([str(short), "--upload", upload], server)
                        bench.add(f"{label} @ {speed}", partial(at_rate, server, rate, run))
                results = bench.run()
            section = opus_section(opts, results)
            print("\n".join(section), file=sys.stderr, flush=True)
            report += section
        if sections & {"uplink", "opus"}:
            short.unlink()

        if "long" in sections:
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

    title = "Uploads: voxcli against the SDK call"
    if opts.only == "opus":
        title = "Uploads: the raw file, FLAC and Opus"
    print(
        harness.header(
            title,
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


def opus_section(opts: argparse.Namespace, results: Results) -> list[str]:
    """One table, a row per upload, bytes sent and wall time at each link rate side by
    side; then Opus's bytes and times over FLAC's and the raw file's."""
    estimated: set[tuple[str, str]] = set()

    def variant(label: str, speed: str) -> harness.Variant | None:
        try:
            return results[f"{label} @ {speed}"]
        except KeyError:
            return None

    def sent(label: str) -> float:
        found = variant(label, "20 Mbit/s") or variant(label, "2 Mbit/s")
        assert found is not None
        return found.extra("sent").median

    def wall(label: str, speed: str) -> Stats:
        found = variant(label, speed)
        if found is not None:
            return found.wall()
        # Not run (the raw file at 2 Mbit/s): its 20 Mbit/s times plus the extra time its
        # bytes take over the slower link; the upload is all of its wall time but ~1 s.
        estimated.add((label, speed))
        fast = variant(label, "20 Mbit/s")
        assert fast is not None
        extra = sent(label) / RATES[speed] - sent(label) / UPLINK
        low, median, high = (value + extra for value in astuple(fast.wall()))
        return Stats(low, median, high)

    def cell(label: str, speed: str) -> str:
        stats = wall(label, speed)
        text = " / ".join(f"{value:.2f}" for value in astuple(stats))
        return f"~{stats.median:.0f} (estimated)" if (label, speed) in estimated else text

    speeds = list(RATES)
    head = [
        "upload",
        "runs",
        "bytes sent",
        *(f"{speed}: min / median / max (s)" for speed in speeds),
    ]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for label in UPLOADS:
        runs = len(next(v for s in speeds if (v := variant(label, s)) is not None).samples)
        cells = [label, str(runs), fmt_mb(sent(label)), *(cell(label, s) for s in speeds)]
        lines.append("| " + " | ".join(cells) + " |")

    def versus(other: str) -> str:
        bytes_ratio = sent(OPUS) / sent(other)
        times = []
        for speed in speeds:
            ratio = wall(OPUS, speed).median / wall(other, speed).median
            mark = " (estimated)" if (other, speed) in estimated else ""
            how = f"{1 / ratio:.1f}x faster" if ratio < 1 else f"{ratio:.1f}x slower"
            times.append(f"{ratio:.2f}x at {speed} ({how}){mark}")
        return (
            f"{bytes_ratio:.3f}x the bytes ({1 / bytes_ratio:.1f}x fewer); wall time "
            + ", ".join(times)
        )

    notes = [
        f"- Opus / FLAC: {versus(FLAC)}",
        f"- Opus / raw file: {versus(RAW)}",
    ]
    if estimated:
        slow_raw = sent(RAW) / SLOW_UPLINK
        notes.append(
            f"- estimated: the raw file at 2 Mbit/s was not run ({slow_raw / 60:.0f} "
            "minutes a run; `--slow-raw` runs it): its median at 20 Mbit/s plus the extra "
            "time its bytes take at 2 Mbit/s"
        )
    return [
        "",
        f"### {opts.short_minutes:g}-min 44.1 kHz stereo WAV sent three ways by voxcli, "
        + " and ".join(speeds)
        + " uplinks (medians of bytes; ratios on medians)",
        "",
        *lines,
        "",
        *notes,
    ]


def _mb(value: float) -> str:
    return f"{value:.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
