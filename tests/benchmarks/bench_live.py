#!/usr/bin/env python
"""Benchmark: ``voxcli live``'s added latency over a bare SDK loop, and its CPU per audio minute.

Run from anywhere (not collected by pytest; about 3 minutes with the defaults)::

    .venv/bin/python tests/benchmarks/bench_live.py [--runs 3] [--seconds 15]

The fake realtime server (``tests/fake_realtime.py`` on ``tests/fake_mistral.py``) runs
here, in this process, and finishes a segment every ``--segment-seconds`` of audio it
receives; its session record gives the ``time.monotonic()`` at which each
``transcription.segment`` frame was written to the socket. Every client is a fresh
subprocess whose standard output is read on a thread here, each line stamped with
``time.monotonic()`` as it arrives: same machine, same clock. The **latency** of a
segment is arrival of its line minus the server's send time. Variants, interleaved (see
``harness.py``):

- **SDK loop**: :data:`SDK_LOOP`, what Mistral's realtime quickstart has a user write:
  ``client.audio.realtime.transcribe_stream(...)`` (which calls ``connect(model=...,
  audio_format=AudioFormat("pcm_s16le", 16000))``) fed with 100 ms chunks of the WAV read
  by ``wave``, paced against the clock, printing each segment's text with ``flush=True``;
- ``voxcli live talk.wav -f jsonl --pace 1``: the same WAV decoded and paced by voxcli;
- ``voxcli live - -f jsonl`` with the same audio as raw ``pcm_s16le`` written to its
  stdin in 100 ms chunks at real-time pace (as ``arecord | voxcli live -`` would);
- the same three unpaced (SDK loop without its sleeps, ``--pace 0``, stdin written at
  :data:`STDIN_FAST` x real time), on ``talk.wav`` and on a longer file
  (``--fast-seconds``): CPU only.

Added latency = a voxcli variant's median (or p95) latency over every segment of every
run, minus the SDK loop's. **CPU** is user + system seconds of the client process, all
its threads: for the whole run (``os.wait4``: interpreter start, imports, connecting,
streaming, exit), up to the server receiving the first audio chunk (start-up) and, at
real-time pace, *while streaming*: from then until the client's last segment line
arrives (reading and sending the audio, handling every event). The last two come from
``/proc/PID/stat``, read every 5 ms here (it moves in 10 ms ticks). Unpaced, a client
may read ahead before its first chunk reaches the server, so its CPU per audio minute
is taken as (whole run on the long file - whole run on ``talk.wav``) / the extra audio,
which cancels start-up and exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import harness  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from fake_mistral import TEST_API_KEY, FakeMistral  # noqa: E402
from fake_realtime import FakeRealtime  # noqa: E402
from harness import Bench, Sample  # noqa: E402
from speech import speech, write_speech  # noqa: E402

RATE = 16_000
CHUNK_SECONDS = 0.1
CHUNK_BYTES = round(RATE * CHUNK_SECONDS) * 2  # 100 ms of 16 kHz mono pcm_s16le
TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_EVERY = 0.005
"""How often the client's CPU time is read from ``/proc`` (it moves in 10 ms ticks)."""
STDIN_FAST = 50.0
"""How fast raw PCM is written to ``voxcli live -`` in the unpaced variants (x real time).
Not all at once: voxcli reads stdin as fast as it comes, and its hand-over queue (60 s)
drops the oldest audio, silently, when the event loop falls behind (connecting, or just
busy); the server would then not get every byte, which :func:`run_client` checks."""

SDK_LOOP = """
import asyncio, os, sys, wave

from mistralai.client import Mistral
from mistralai.client.models import AudioFormat, TranscriptionStreamSegmentDelta


async def read_chunks(path, pace):
    loop = asyncio.get_running_loop()
    start = loop.time()
    with wave.open(path, "rb") as wav:
        sent = 0.0
        while chunk := wav.readframes(wav.getframerate() // 10):
            yield chunk
            sent += 0.1
            if pace:  # 100 ms of audio every 100 ms, like a live source
                await asyncio.sleep(start + sent / pace - loop.time())


async def main(path, pace):
    client = Mistral(
        api_key=os.environ["MISTRAL_API_KEY"], server_url=os.environ["MISTRAL_SERVER_URL"]
    )
    async for event in client.audio.realtime.transcribe_stream(
        read_chunks(path, pace),
        model="voxtral-mini-transcribe-realtime-latest",
        audio_format=AudioFormat(encoding="pcm_s16le", sample_rate=16000),
    ):
        if isinstance(event, TranscriptionStreamSegmentDelta):
            print(event.text, flush=True)


asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""
"""The bare SDK loop: Mistral's realtime quickstart, printing finished segments."""


@dataclass
class Line:
    """One line of the client's stdout, stamped on arrival (``time.monotonic()``)."""

    at: float
    text: bytes
    segment: bool


@dataclass
class Run:
    """One client run: its stdout lines and CPU, and what the server saw and sent."""

    wall: float
    cpu: float  # user + system seconds, whole process (os.wait4)
    cpu_before_audio: float  # ... until the server received the first audio chunk
    cpu_streaming: float  # ... from then until the client printed its last segment
    audio: float  # seconds of audio the server received
    lines: list[Line]
    segments_sent: list[float]  # server send times of transcription.segment, in order
    segment_texts: list[str]


def proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (all its threads), None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class CpuSampler(threading.Thread):
    """Reads a process's CPU time every :data:`SAMPLE_EVERY` seconds, stamped with
    ``time.monotonic()``, until :meth:`stop`; :meth:`at` answers "how much by then"."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            cpu = proc_cpu(self.pid)
            if cpu is not None:
                self.samples.append((time.monotonic(), cpu))
            self._halt.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def at(self, when: float, final: float) -> float:
        """CPU seconds used by ``when``: the first reading taken at or after it
        (``final``, the exit total, if none was)."""
        for stamp, cpu in self.samples:
            if stamp >= when:
                return cpu
        return final


def feed(pipe: IO[bytes], pcm: bytes, pace: float) -> None:
    """Write ``pcm`` to ``pipe`` in 100 ms chunks at ``pace`` x real time (0: at once),
    then close it."""
    try:
        if pace <= 0:
            pipe.write(pcm)
        else:
            start = time.monotonic()
            for k, first in enumerate(range(0, len(pcm), CHUNK_BYTES)):
                delay = start + k * CHUNK_SECONDS / pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pipe.write(pcm[first : first + CHUNK_BYTES])
                pipe.flush()
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            pipe.close()


def run_client(
    argv: Sequence[str],
    env: dict[str, str],
    rt: FakeRealtime,
    *,
    audio_bytes: int,
    stdin_pcm: bytes | None = None,
    stdin_pace: float = 0.0,
    is_segment: Callable[[bytes], bool],
) -> Run:
    """Run ``argv`` to completion, its stdout read here line by line and stamped; the
    server must have received ``audio_bytes`` of PCM, no more, no less."""
    rt.reset()
    lines: list[Line] = []
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE if stdin_pcm is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert proc.stdout is not None
        sampler = CpuSampler(proc.pid)
        sampler.start()

        def read(out: IO[bytes]) -> None:
            for text in iter(out.readline, b""):
                at = time.monotonic()
                lines.append(Line(at, text, is_segment(text)))

        reader = threading.Thread(target=read, args=(proc.stdout,), daemon=True)
        reader.start()
        writer = None
        if stdin_pcm is not None:
            assert proc.stdin is not None
            writer = threading.Thread(
                target=feed, args=(proc.stdin, stdin_pcm, stdin_pace), daemon=True
            )
            writer.start()
        # wait4, not Popen.wait: the child's own CPU times come with its exit status.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        reader.join()
        if writer is not None:
            writer.join()
        proc.stdout.close()
        err.seek(0)
        stderr_text = err.read().decode(errors="replace")
        if proc.returncode != 0:
            message = stderr_text[-3000:]
            raise SystemExit(f"{' '.join(argv[:6])} ... failed ({proc.returncode}):\n{message}")
    [session] = rt.wait_for_sessions(1)
    session.wait_closed()
    sent = session.events_of("transcription.segment")
    printed = [line.at for line in lines if line.segment]
    if session.first_audio_at is None or not printed or not sent:
        raise SystemExit(f"{' '.join(argv[:6])} ...: no audio sent or no segment printed")
    if session.audio_bytes != audio_bytes:
        said = stderr_text.strip().splitlines()
        raise SystemExit(
            f"{' '.join(argv[:6])} ...: the server received {session.audio_bytes:,} bytes of "
            f"audio ({session.audio_seconds:.1f} s), not {audio_bytes:,}; the client's "
            f"stderr: {said[-1] if said else '(nothing)'}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    first = sampler.at(session.first_audio_at, cpu)
    return Run(
        wall=wall,
        cpu=cpu,
        cpu_before_audio=first,
        cpu_streaming=sampler.at(printed[-1], cpu) - first,
        audio=session.audio_seconds,
        lines=lines,
        segments_sent=[event.sent_at for event in sent],
        segment_texts=[event.data["text"] for event in sent],
    )


def measure(
    run: Run, texts: Callable[[list[Line]], list[str]], *, paced: bool
) -> tuple[Sample, list[float]]:
    """Check the client printed every segment the server sent, in order; the run's
    figures and the latency of each segment. CPU while streaming only when ``paced``:
    unpaced, the client can read ahead before its first chunk reaches the server."""
    segment_lines = [line for line in run.lines if line.segment]
    printed = texts(segment_lines)
    if printed != run.segment_texts:
        raise SystemExit(
            f"the client printed {len(printed)} segments, the server sent "
            f"{len(run.segment_texts)}:\n{printed[:3]}\n{run.segment_texts[:3]}"
        )
    latencies = [
        line.at - sent for line, sent in zip(segment_lines, run.segments_sent, strict=True)
    ]
    extra = {
        "segments": float(len(latencies)),
        "cpu": run.cpu,
        "cpu_before_audio": run.cpu_before_audio,
    }
    if paced:
        extra["cpu_streaming_per_min"] = run.cpu_streaming / run.audio * 60
    return Sample(run.wall, extra), latencies


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, linear between closest ranks."""
    return float(np.quantile(np.asarray(values, dtype=float), q))


@dataclass(frozen=True)
class Client:
    """A way to stream a WAV's audio: ``run(wav, pace)`` measures one run."""

    label: str
    run: Callable[[Path, float], tuple[Sample, list[float]]]
    name: Callable[[Path, float, float], str]  # (wav, pace, seconds) -> table row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="audio streamed at real-time pace"
    )
    parser.add_argument(
        "--fast-seconds",
        type=float,
        default=100.0,
        help="the longer file of the unpaced CPU variants",
    )
    parser.add_argument(
        "--segment-seconds",
        type=float,
        default=1.0,
        help="the fake server finishes a segment every this many seconds of audio",
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=2.0,
        help="audio of the warm-up round(s), which are not counted",
    )
    harness.add_arguments(parser, runs=3)
    args = parser.parse_args()
    if args.fast_seconds <= args.seconds:
        parser.error("--fast-seconds must be longer than --seconds")

    harness.compile_sources()
    voxcli = [*harness.voxcli_command(), "live"]
    work = Path(tempfile.mkdtemp(prefix="voxcli-bench-live-"))
    latencies: dict[str, list[float]] = {}
    try:
        paced_wav = write_speech(work / "talk.wav", args.seconds)
        fast_wav = write_speech(work / "long.wav", args.fast_seconds, offset=11.0)
        warm_wav = write_speech(work / "warm.wav", args.warmup_seconds, offset=23.0)
        pcm = {
            path: sf.read(path, dtype="int16")[0].tobytes()
            for path in (paced_wav, fast_wav, warm_wav)
        }
        seconds = {path: len(data) / 2 / RATE for path, data in pcm.items()}
        origin = speech(RATE).origin
        with (
            FakeMistral(keep_bodies=False) as fake,
            FakeRealtime(fake, segment_seconds=args.segment_seconds, keep_audio=False) as rt,
        ):
            env = harness.python_env(
                {
                    "MISTRAL_API_KEY": TEST_API_KEY,
                    "MISTRAL_SERVER_URL": fake.url,
                    "TMPDIR": str(work),
                    **{
                        f"XDG_{kind}_HOME": str(work / kind.lower())
                        for kind in ("CONFIG", "CACHE", "DATA", "STATE")
                    },
                }
            )
            for name in [name for name in env if name.startswith("VOXCLI_")]:
                del env[name]

            def sdk_texts(lines: list[Line]) -> list[str]:
                return [line.text.decode().rstrip("\n") for line in lines]

            def jsonl_texts(lines: list[Line]) -> list[str]:
                return [json.loads(line.text)["text"] for line in lines]

            def is_jsonl_segment(text: bytes) -> bool:
                return text.startswith(b'{"type":"segment"')

            def sdk_run(wav: Path, pace: float) -> tuple[Sample, list[float]]:
                argv = [sys.executable, "-c", SDK_LOOP, str(wav), str(pace)]
                run = run_client(
                    argv, env, rt, audio_bytes=len(pcm[wav]), is_segment=lambda _: True
                )
                return measure(run, sdk_texts, paced=pace > 0)

            def file_run(wav: Path, pace: float) -> tuple[Sample, list[float]]:
                argv = [*voxcli, str(wav), "-f", "jsonl", "--pace", f"{pace:g}"]
                run = run_client(
                    argv, env, rt, audio_bytes=len(pcm[wav]), is_segment=is_jsonl_segment
                )
                return measure(run, jsonl_texts, paced=pace > 0)

            def stdin_run(wav: Path, pace: float) -> tuple[Sample, list[float]]:
                argv = [*voxcli, "-", "-f", "jsonl"]
                run = run_client(
                    argv,
                    env,
                    rt,
                    audio_bytes=len(pcm[wav]),
                    stdin_pcm=pcm[wav],
                    stdin_pace=pace or STDIN_FAST,
                    is_segment=is_jsonl_segment,
                )
                return measure(run, jsonl_texts, paced=pace > 0)

            def paced_text(pace: float, fast: str) -> str:
                return "real-time pace" if pace else fast

            clients = [
                Client(
                    "SDK loop (quickstart), WAV",
                    sdk_run,
                    lambda wav, pace, secs: (
                        f"SDK loop (quickstart), {wav.name}, "
                        f"{paced_text(pace, 'unpaced')} ({secs:g} s)"
                    ),
                ),
                Client(
                    "voxcli, WAV file decoded",
                    file_run,
                    lambda wav, pace, secs: (
                        f"`voxcli live {wav.name} -f jsonl --pace {pace:g}` ({secs:g} s)"
                    ),
                ),
                Client(
                    "voxcli, raw PCM on stdin",
                    stdin_run,
                    lambda wav, pace, secs: (
                        f"`voxcli live - -f jsonl` < raw PCM, "
                        f"{paced_text(pace, f'{STDIN_FAST:g}x real time')} ({secs:g} s)"
                    ),
                ),
            ]
            plan = [(paced_wav, 1.0), (paced_wav, 0.0), (fast_wav, 0.0)]
            names = {
                (client.label, wav, pace): client.name(wav, pace, seconds[wav])
                for wav, pace in plan
                for client in clients
            }
            for round_ in range(args.warmup):
                for client in clients:
                    for pace in (1.0, 0.0):
                        sample, _ = client.run(warm_wav, pace)
                        print(
                            f"  live: warm-up {round_ + 1}/{args.warmup}: "
                            f"{client.name(warm_wav, pace, seconds[warm_wav])}: "
                            f"{sample.wall:.3f} s",
                            file=sys.stderr,
                            flush=True,
                        )

            def variant(client: Client, wav: Path, pace: float) -> Callable[[], Sample]:
                def go() -> Sample:
                    sample, segment_latencies = client.run(wav, pace)
                    latencies.setdefault(names[client.label, wav, pace], []).extend(
                        segment_latencies
                    )
                    return sample

                return go

            bench = Bench("live", runs=args.runs, warmup=0)
            for wav, pace in plan:
                for client in clients:
                    bench.add(names[client.label, wav, pace], variant(client, wav, pace))
            results = bench.run()
            if rt.errors:
                raise SystemExit(f"the fake realtime server failed: {rt.errors[0]!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        harness.header(
            f"Live: {args.seconds:g} s of speech at real-time pace; "
            f"{args.seconds:g} s and {args.fast_seconds:g} s unpaced",
            args.runs,
            [
                f"Input: 16 kHz mono 16-bit WAV (the same samples as raw pcm_s16le on "
                f"stdin); {origin}.",
                f"Fake realtime server (in this process) finishing a segment every "
                f"{args.segment_seconds:g} s of audio received; voxcli turns on the "
                f"server's turn detection (the model card has it), the SDK loop does not. "
                f"Warm-up rounds on a {args.warmup_seconds:g} s clip.",
                "Latency: the server writing a transcription.segment frame -> the client's "
                "line for it read from its stdout here (time.monotonic(), one clock).",
            ],
            warmup=args.warmup,
        )
    )
    print()
    print(
        results.table(
            extras=[
                ("segments", "segments / run", lambda v: f"{v:.0f}"),
                ("cpu", "CPU, whole run", lambda v: f"{v:.2f} s"),
                ("cpu_before_audio", "CPU to 1st chunk", lambda v: f"{v:.2f} s"),
                ("cpu_streaming_per_min", "CPU / audio min, streaming", lambda v: f"{v:.2f} s"),
            ]
        )
    )

    print()
    print(
        f"Latency per segment at real-time pace ({args.seconds:g} s, every segment of every "
        "run pooled); added = the voxcli variant's figure minus the SDK loop's:"
    )
    print()
    print("| variant | segments | median | p95 | max | added (median) | added (p95) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = latencies[names[clients[0].label, paced_wav, 1.0]]
    base_median, base_p95 = statistics.median(base), percentile(base, 0.95)
    for client in clients:
        name = names[client.label, paced_wav, 1.0]
        values = latencies[name]
        median, p95 = statistics.median(values), percentile(values, 0.95)
        added = ["", ""]
        if client is not clients[0]:
            added = [
                f"{(median - base_median) * 1000:+.1f} ms",
                f"{(p95 - base_p95) * 1000:+.1f} ms",
            ]
        print(
            f"| {name} | {len(values)} | {median * 1000:.1f} ms | {p95 * 1000:.1f} ms "
            f"| {max(values) * 1000:.1f} ms | {added[0]} | {added[1]} |"
        )

    print()
    print(
        "CPU (user + system) per minute of audio, medians. Real-time pace: while streaming "
        "(first chunk received -> last segment line). Unpaced: (whole run on "
        f"{args.fast_seconds:g} s - whole run on {args.seconds:g} s) / "
        f"{args.fast_seconds - args.seconds:g} s, which cancels start-up and exit:"
    )
    print()
    print(
        "| client, input | CPU to 1st chunk (start-up) | CPU / audio min, real-time pace "
        "| CPU / audio min, unpaced |"
    )
    print("| --- | ---: | ---: | ---: |")
    extra_audio = seconds[fast_wav] - seconds[paced_wav]
    for client in clients:
        live = results[names[client.label, paced_wav, 1.0]]
        short = results[names[client.label, paced_wav, 0.0]].extra("cpu").median
        long = results[names[client.label, fast_wav, 0.0]].extra("cpu").median
        print(
            f"| {client.label} | {live.extra('cpu_before_audio').median:.2f} s "
            f"| {live.extra('cpu_streaming_per_min').median:.2f} s "
            f"| {round((long - short) / extra_audio * 60, 2) + 0.0:.2f} s |"  # no "-0.00"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
