"""Run a :class:`~voxcli.commands.live.request.LiveRequest`: one asyncio loop, three parts.

Capture runs on a thread (the microphone callback, or a stdin/file reader) and hands
chunks to the loop; :func:`voxcli.live.session.run_session` sends them and receives the
events; every event updates the :class:`~voxcli.live.transcript.LiveTranscript` and goes
to the sinks (terminal view or lines on stdout, and the checkpointed ``-o`` file).

Ctrl-C or SIGTERM (the loop's own handlers) stops capture; the session ends its audio,
waits briefly for the last segments, the outputs are written and the exit code is 0. A
second signal exits at once (130/143); the last checkpoint stays a complete file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import signal
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from voxcli.audio.references import load_reference
from voxcli.commands import common
from voxcli.commands.live.request import LiveRequest, settle_with_card
from voxcli.commands.modelcheck import check_model
from voxcli.config import Settings
from voxcli.env import Environment
from voxcli.errors import UsageError
from voxcli.live.types import ConnectionState, LiveEvent, LiveSettings, SessionSummary
from voxcli.output.sinks import write_stdout
from voxcli.signals import exit_at_once, exit_on_next

if TYPE_CHECKING:
    from voxcli.api import MistralApi
    from voxcli.live.sinks import LiveSink
    from voxcli.live.sources import AudioSource
    from voxcli.live.transcript import LiveTranscript

QUEUE_CHUNKS = 50
"""Chunks waiting for the session at most. A file or pipe then waits (back-pressure); a
microphone cannot, so its oldest chunks are dropped and counted."""
CHUNK_SECONDS = 0.1
"""The length of one captured chunk (the sources' unit)."""
TICK_SECONDS = 0.25
"""How often the status line and the checkpoint are refreshed without events."""


def print_devices(env: Environment) -> None:
    """``--list-devices``: index, name, channels and default rate of each microphone."""
    from voxcli.live.mic import default_input_device, list_input_devices

    devices = list_input_devices()
    default = default_input_device()
    lines = [
        f"{'*' if index == default else ' '} {index:>3}  {name}  ({channels} ch, {rate:g} Hz)"
        for index, name, channels, rate in devices
    ]
    write_stdout("\n".join(lines) + "\n" if lines else "", env.stdout)
    if not lines:
        env.console.warn("no input devices found")


def run_live(env: Environment, request: LiveRequest, settings: Settings) -> None:
    """Check the model, open the input, run the session, write the outputs."""
    from voxcli.live.sources import open_source
    from voxcli.live.transcript import LiveTranscript

    console = env.console
    if request.source == "-" and env.stdin_isatty:
        raise UsageError(
            "'-' reads audio from stdin, but stdin is a terminal",
            hint="pipe audio in, e.g. 'arecord -f S16_LE -r 16000 | voxcli live -'",
        )
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    references = tuple(
        (speaker.name, load_reference(speaker, env.temp_dir)) for speaker in request.speakers
    )
    with common.open_api(settings, jobs=2) as api:
        guard = check_model(env, api, settings, request.needs, quiet=request.quiet, say=say)
        request = settle_with_card(request, guard.card)
        source = open_source(
            request.source,
            encoding=request.raw_format.encoding,
            rate=request.raw_format.sample_rate,
            pace=request.pace,
            device=request.device,
            stdin=env.stdin_bytes,
            temp_dir=env.temp_dir,
            track=request.audio_track,
        )
        transcript = LiveTranscript(model=settings.model, source=request.source or "microphone")
        sinks = _sinks(env, request, source, transcript)
        live_settings = replace(
            request.settings, audio=source.format, speaker_references=references
        )
        say(
            f"live: {live_settings.model}, {source.format.encoding} at "
            f"{source.format.sample_rate} Hz"
            + (", turn detection on" if live_settings.turn_detection else "")
        )
        summary: SessionSummary | None = None
        try:
            summary = guard.call(
                asyncio.run,
                _session(api, live_settings, source, transcript, sinks, request, settings),
            )
        finally:
            source.close()
            with exit_on_next():
                _close_all(sinks)
    if summary is not None:
        say(
            f"live: {summary.audio_seconds:.1f} s of audio, {summary.reconnects} reconnect(s)"
            + (f", {summary.dropped_seconds:.1f} s dropped" if summary.dropped_seconds else "")
        )
        if summary.dropped_seconds and not request.quiet:
            console.warn(
                f"{summary.dropped_seconds:.1f} s of audio were dropped while the connection "
                "was down (the reconnect buffer was full)"
            )


def _sinks(
    env: Environment, request: LiveRequest, source: AudioSource, transcript: LiveTranscript
) -> list[LiveSink]:
    from voxcli.live.sinks import Checkpointer, LineSink, SubtitleSink, TerminalView

    sinks: list[LiveSink] = []
    shows_text = request.stdout_format in (None, "text")
    if env.stdout_isatty and shows_text and not request.quiet:
        sinks.append(
            TerminalView(
                env.stdout,
                color=not env.no_color,
                status=not env.no_color,
                level=lambda: source.level_dbfs,
            )
        )
    elif request.stdout_format in ("text", "jsonl"):
        sinks.append(LineSink(env.stdout, request.stdout_format))  # type: ignore[arg-type]
    elif request.stdout_format in ("srt", "vtt"):
        sinks.append(SubtitleSink(env.stdout, request.stdout_format))  # type: ignore[arg-type]
    if request.output is not None and request.output_format is not None:
        sinks.append(
            Checkpointer(
                request.output,
                request.output_format,
                transcript,
                say=env.console.warn
                if not request.quiet
                else common.say_for(env, verbose=False, quiet=True),
            )
        )
    return sinks


def _close_all(sinks: list[LiveSink]) -> None:
    """Close every sink (the checkpoint writes the final file); the first error is raised
    after the others are closed."""
    failure: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


async def _session(
    api: MistralApi,
    live_settings: LiveSettings,
    source: AudioSource,
    transcript: LiveTranscript,
    sinks: list[LiveSink],
    request: LiveRequest,
    settings: Settings,
) -> SessionSummary:
    from voxcli.api.realtime import open_link
    from voxcli.live.session import run_session

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
    stop = asyncio.Event()

    def on_event(event: LiveEvent) -> None:
        transcript.apply(event)
        for sink in sinks:
            sink.on_event(event)

    can_wait = request.source is not None  # files and pipes wait; a microphone cannot
    dropped = [0]

    def deliver(chunk: bytes | None) -> None:
        if queue.full():  # the loop stalled: drop the oldest, never block a microphone
            with contextlib.suppress(asyncio.QueueEmpty):
                if queue.get_nowait() is not None:
                    dropped[0] += 1
        queue.put_nowait(chunk)

    capture = _Capture(source, loop, deliver, request.duration, queue if can_wait else None)
    _install_stop_handlers(loop, stop, source)
    ticker = asyncio.create_task(_tick(sinks))
    capture.start()
    try:
        summary = await run_session(
            lambda s: open_link(api, s, timeout=settings.timeout),
            live_settings,
            queue,
            on_event,
            retries=settings.retries,
            stop=stop,
            wait_for_room=can_wait,
        )
    finally:
        capture.finished.set()
        source.close()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        on_event(ConnectionState("closed"))
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    if dropped[0]:
        summary = replace(
            summary, dropped_seconds=summary.dropped_seconds + dropped[0] * CHUNK_SECONDS
        )
    if capture.error is not None:  # what was captured is transcribed; then the error
        raise capture.error
    return summary


class _Capture(threading.Thread):
    """The capture thread: chunks to the loop until the input ends, ``--duration`` is
    reached or the session is over; then ``None`` (end of input). A failure of the input
    ends it the same way and is kept in :attr:`error` for the command to raise."""

    def __init__(
        self,
        source: AudioSource,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[bytes | None], None],
        duration: float | None,
        waits_on: asyncio.Queue[bytes | None] | None = None,
    ) -> None:
        super().__init__(name="voxcli-capture", daemon=True)
        self.source = source
        self.loop = loop
        self.deliver = deliver
        self.waits_on = waits_on  # a file or pipe: block while the queue is full
        fmt = source.format
        self.limit = None if duration is None else round(duration * fmt.bytes_per_second)
        self.finished = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        frame = self.source.format.frame_bytes
        taken = 0
        try:
            for chunk in self.source.chunks():
                if self.finished.is_set():
                    return
                if self.limit is not None and taken + len(chunk) >= self.limit:
                    keep = (self.limit - taken) // frame * frame
                    if keep:
                        self._send(chunk[:keep])
                    return
                taken += len(chunk)
                self._send(chunk)
        except Exception as exc:
            self.error = exc
        finally:
            self._send(None)

    def _send(self, chunk: bytes | None) -> None:
        if self.waits_on is not None:
            self._put_waiting(chunk)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the session is over
            self.loop.call_soon_threadsafe(self.deliver, chunk)

    def _put_waiting(self, chunk: bytes | None) -> None:
        """Hand ``chunk`` over, waiting for room (back-pressure), until the session ends."""
        assert self.waits_on is not None
        put = self.waits_on.put(chunk)
        try:
            future = asyncio.run_coroutine_threadsafe(put, self.loop)
        except RuntimeError:  # the loop is closed: the session is over
            put.close()
            return
        while True:
            try:
                future.result(timeout=0.5)
                return
            except concurrent.futures.TimeoutError:
                if self.finished.is_set():  # the session ended while we waited
                    future.cancel()
                    _discard_unstarted(put, self.loop)
                    return
            except (concurrent.futures.CancelledError, RuntimeError):
                _discard_unstarted(put, self.loop)
                return


def _discard_unstarted(
    coroutine: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop
) -> None:
    """Close a handed-over coroutine that a stopped loop will never run (no "never
    awaited" warning); one the loop has started is the loop's to finish."""
    if not loop.is_running() and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
        coroutine.close()


def _install_stop_handlers(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, source: AudioSource
) -> None:
    """First Ctrl-C/SIGTERM: stop capture and let the session finish; a second: exit now."""

    def first() -> None:
        stop.set()
        source.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, exit_at_once, sig, None)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, first)


async def _tick(sinks: list[LiveSink]) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        for sink in sinks:
            sink.tick()
