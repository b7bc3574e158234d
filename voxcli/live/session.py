"""The live session driver: audio in, our events out, over a realtime link that may drop.

:func:`run_session` runs three tasks on one asyncio loop: *capture* moves PCM from the
caller's queue into a bounded replay buffer (it never waits on the network), *send* sends
what the current link has not had yet, and *receive* turns the link's events into
``on_event`` calls, in order.

Never losing speech. The buffer keeps the audio since the *confirmed point*: the end of the
last segment the server finished (positions are byte offsets into the input, always on sample
frame boundaries). When the link is lost (:class:`~voxcli.api.realtime.LinkLost`), the driver
emits ``ConnectionState("reconnecting", reason)``, waits ``backoff(n)`` and connects again, up
to ``retries`` consecutive failures (a connection resets the count once it confirms audio or
has carried audio for :data:`STABLE_SECONDS`), then re-sends the buffer from its first byte.

Timeline. Each connection starts at the input position ``base`` of the first byte it is sent;
the server's times are relative to that byte, so a segment ``[s, e]`` is reported as
``[base/rate + s, base/rate + e]`` and confirms the input up to ``base + e*rate``. Without
overflow ``base`` is the confirmed point, so every segment arrives exactly once and times keep
increasing. If the buffer overflowed, the oldest audio was dropped and ``base`` lies past the
confirmed point: the gap is lost (reported in ``ConnectionState.dropped_seconds`` and the
summary) and times still match the input. Unfinished text (``TextDelta``) of a lost link is
void: after ``reconnecting``, deltas belong to a new segment, whose audio is sent again.

Ending. ``None`` in the queue (end of input) or ``stop`` (Ctrl-C, SIGTERM, ``--duration``)
stops the capture; what was taken is sent, then ``input_audio.flush`` and ``input_audio.end``,
and the driver waits for ``transcription.done``: at most ``drain_timeout`` after ``stop`` was
seen, or, at the end of the input, until the server has been silent for ``drain_timeout``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, Literal

from voxcli.api.realtime import LinkLost, RealtimeLink
from voxcli.live.types import (
    MAX_MESSAGE_BYTES,
    ConnectionState,
    LanguageDetected,
    LinkEvent,
    LiveEvent,
    LiveSettings,
    SegmentDone,
    SessionDone,
    SessionSummary,
    TextDelta,
    TurnEvent,
)

__all__ = ["STABLE_SECONDS", "OpenLink", "default_backoff", "run_session"]

OpenLink = Callable[[LiveSettings], Awaitable[RealtimeLink]]

STABLE_SECONDS = 10.0
"""A connection that has carried audio this long counts as working (resets the failures)."""
RECEIVE_GRACE_SECONDS = 1.0
"""After sending failed, how long the receiver may go on reading what already arrived."""
REPORT_STEP_SECONDS = 1.0
"""While disconnected, dropped audio is reported again each time it grew by this much."""


ROOM_WAIT_SECONDS = 5.0
"""With back-pressure, how long capture waits at a time for the server to confirm audio."""


def default_backoff(attempt: int) -> float:
    """Seconds before reconnect attempt ``attempt`` (1, 2, …): 0.5 s doubling up to 15 s,
    plus up to 0.25 s of jitter."""
    return min(0.5 * 2 ** (attempt - 1), 15.0) + random.uniform(0.0, 0.25)


async def run_session(
    open_link: OpenLink,
    settings: LiveSettings,
    audio: asyncio.Queue[bytes | None],
    on_event: Callable[[LiveEvent], None],
    *,
    retries: int,
    stop: asyncio.Event,
    buffer_seconds: float = 120.0,
    drain_timeout: float = 10.0,
    backoff: Callable[[int], float] = default_backoff,
    wait_for_room: bool = False,
) -> SessionSummary:
    """Stream ``audio`` (PCM in ``settings.audio``; ``None`` ends it) through ``open_link``
    links until the input ends or ``stop`` is set, and the server has finished.

    Raises the last :class:`LinkLost` when ``retries`` reconnects in a row failed, and auth
    or usage errors at once.

    ``wait_for_room``: a file or a pipe that can wait (back-pressure): when the buffer is
    full, stop taking audio until the server confirms some, instead of dropping the
    oldest. A microphone cannot wait, so for it the buffer drops (the default)."""
    if buffer_seconds <= 0 or drain_timeout <= 0 or retries < 0:
        raise ValueError("buffer_seconds and drain_timeout must be positive, retries >= 0")
    driver = _Driver(
        open_link,
        settings,
        audio,
        on_event,
        retries=retries,
        stop=stop,
        buffer_seconds=buffer_seconds,
        drain_timeout=drain_timeout,
        backoff=backoff,
        wait_for_room=wait_for_room,
    )
    return await driver.run()


class _Tape:
    """The replay buffer: whole frames at absolute input positions. ``[start, sent_end)`` was
    sent on the current link, ``[sent_end, end)`` not yet; at most ``capacity`` bytes."""

    def __init__(self, frame: int, capacity: int) -> None:
        self.frame = frame
        self.capacity = max(capacity // frame * frame, frame)
        self.start = 0
        self.sent_end = 0
        self.end = 0
        self._sent: deque[bytes] = deque()
        self._pending: deque[bytes] = deque()
        self._partial = b""

    def append(self, chunk: bytes) -> tuple[int, int]:
        """Add captured audio (any length: a partial frame waits for the rest). Returns the
        bytes dropped from the front to stay within capacity, and how many of them were
        never sent on the current link."""
        data = self._partial + chunk if self._partial else chunk
        usable = len(data) - len(data) % self.frame
        self._partial = bytes(data[usable:])
        if usable:
            whole = usable == len(data) and isinstance(data, bytes)
            self._pending.append(data if whole else bytes(data[:usable]))
            self.end += usable
        overflow = self.end - self.start - self.capacity
        if overflow <= 0:
            return 0, 0
        dropped_sent = _pop_front(self._sent, overflow)
        dropped_unsent = _pop_front(self._pending, overflow - dropped_sent)
        self.start += dropped_sent + dropped_unsent
        if dropped_unsent:
            self.sent_end = self.start
        return overflow, dropped_unsent

    def take(self, limit: int) -> bytes:
        """Up to ``limit`` (a multiple of the frame) unsent bytes, now counted as sent."""
        pieces: list[bytes] = []
        size = 0
        while self._pending and size < limit:
            head = self._pending.popleft()
            room = limit - size
            if len(head) > room:
                self._pending.appendleft(head[room:])
                head = head[:room]
            pieces.append(head)
            size += len(head)
        if not pieces:
            return b""
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self._sent.append(data)
        self.sent_end += size
        return data

    def trim(self, position: int) -> None:
        """Forget the sent audio before ``position`` (it is transcribed)."""
        if position > self.start:
            self.start += _pop_front(self._sent, min(position, self.sent_end) - self.start)

    def rewind(self) -> None:
        """A new link: everything kept is unsent again."""
        self._sent.extend(self._pending)
        self._pending, self._sent = self._sent, deque()
        self.sent_end = self.start


def _pop_front(chunks: deque[bytes], count: int) -> int:
    """Remove up to ``count`` bytes from the front of ``chunks``; how many were removed."""
    removed = 0
    while chunks and removed < count:
        head = chunks.popleft()
        if len(head) > count - removed:
            chunks.appendleft(head[count - removed :])
            return count
        removed += len(head)
    return removed


class _OutOfTime(Exception):
    """The drain deadline passed."""


class _Driver:
    """State of one :func:`run_session` call (see the module docstring)."""

    def __init__(
        self,
        open_link: OpenLink,
        settings: LiveSettings,
        audio: asyncio.Queue[bytes | None],
        on_event: Callable[[LiveEvent], None],
        *,
        retries: int,
        stop: asyncio.Event,
        buffer_seconds: float,
        drain_timeout: float,
        backoff: Callable[[int], float],
        wait_for_room: bool = False,
    ) -> None:
        self.open_link = open_link
        self.wait_for_room = wait_for_room
        self.room = asyncio.Event()  # set when confirmed audio left the buffer
        self.settings = settings
        self.audio = audio
        self.on_event = on_event
        self.retries = retries
        self.stop = stop
        self.drain_timeout = drain_timeout
        self.backoff = backoff
        fmt = settings.audio
        self.rate = fmt.bytes_per_second
        self.frame = fmt.frame_bytes
        self.step = MAX_MESSAGE_BYTES // self.frame * self.frame
        self.tape = _Tape(self.frame, int(buffer_seconds * self.rate))
        self.input_over = asyncio.Event()
        self.audio_ready = asyncio.Event()
        # The timeline
        self.confirmed = 0  # input position up to which the transcript is final
        self.lost = 0  # bytes dropped from the buffer before anything transcribed them
        self.base = 0  # input position of the current link's first byte
        # The current link
        self.connected = False
        self.overrun = False
        self.progress = False
        self.end_sent = False
        self.first_audio_at: float | None = None
        # The session
        self.connections = 0
        self.sent_bytes = 0
        self.language: str | None = None
        self.done = False
        self.stop_at: float | None = None
        self.last_activity: float | None = None
        self.reported_dropped = 0.0
        self.outage_reported = False
        self.capture: asyncio.Future[None] | None = None
        self.stop_waiter: asyncio.Future[Any] | None = None

    # -- the whole session ------------------------------------------------------------------

    async def run(self) -> SessionSummary:
        self.stop_waiter = asyncio.ensure_future(self.stop.wait())
        self.capture = asyncio.ensure_future(self._capture())
        try:
            await self._connect_loop()
            self._check_capture()
        finally:
            for task in (self.capture, self.stop_waiter):
                task.cancel()
            await asyncio.wait({self.capture, self.stop_waiter})
            if not self.capture.cancelled():
                self.capture.exception()  # retrieved (raised above when it mattered)
        self._state("closed")
        return SessionSummary(
            audio_seconds=self.tape.end / self.rate,
            sent_seconds=self.sent_bytes / self.rate,
            reconnects=max(0, self.connections - 1),
            dropped_seconds=self.dropped_seconds,
            language=self.language,
            complete=self.done,
        )

    @property
    def dropped_seconds(self) -> float:
        """Audio dropped from the buffer that no server will transcribe."""
        gap = 0 if self.connected else self.tape.start - self.confirmed
        return (self.lost + gap) / self.rate

    async def _connect_loop(self) -> None:
        failures = 0
        self._state("connecting")
        while True:
            try:
                link = await self._open()
            except _OutOfTime:
                return
            except LinkLost as exc:
                failures += 1
                if not await self._retry(exc, failures):
                    return
                continue
            try:
                await self._use(link)
            except LinkLost as exc:
                failures = 0 if self._link_worked() else failures
                failures += 1
                if not await self._retry(exc, failures):
                    return
                continue
            return

    async def _retry(self, exc: LinkLost, failures: int) -> bool:
        """After a failure: raise when retries are spent, else announce and wait. False when
        the drain deadline passed meanwhile."""
        if failures > self.retries:
            if failures > 1:
                raise LinkLost(
                    f"{exc.message} (gave up after {failures} attempts)",
                    hint=exc.hint,
                    status=exc.status,
                    detail=exc.detail,
                ) from None
            raise exc
        self.outage_reported = self.dropped_seconds > 0
        self._state("reconnecting", exc.message)
        await self._pause(self.backoff(failures))
        return not self._deadline_passed()

    def _link_worked(self) -> bool:
        stable = (
            self.first_audio_at is not None
            and time.monotonic() - self.first_audio_at >= STABLE_SECONDS
        )
        return self.progress or stable

    async def _open(self) -> RealtimeLink:
        """A new link (``open_link`` bounds its own wait); :class:`_OutOfTime` if the drain
        deadline comes first."""
        opening = asyncio.ensure_future(self.open_link(self.settings))
        try:
            while not opening.done():
                self._check_capture()
                deadline = self._deadline()
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    raise _OutOfTime
                watched = {opening} | self._background()
                await asyncio.wait(watched, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            return opening.result()
        finally:
            if not opening.done():
                opening.cancel()
                await asyncio.wait({opening})

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` (less if the drain deadline comes first); capture goes on."""
        until = time.monotonic() + max(0.0, seconds)
        while True:
            self._check_capture()
            now = time.monotonic()
            deadline = self._deadline()
            left = until - now if deadline is None else min(until, deadline) - now
            if left <= 0:
                return
            watched = self._background()
            if watched:
                await asyncio.wait(watched, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(left)

    # -- one link ---------------------------------------------------------------------------

    async def _use(self, link: RealtimeLink) -> None:
        """Send and receive on ``link`` until ``transcription.done`` or the drain deadline;
        raises :class:`LinkLost` when it fails."""
        self._begin_link()
        sender = asyncio.ensure_future(self._send_loop(link))
        receiver = asyncio.ensure_future(self._receive_loop(link))
        try:
            while True:
                self._check_capture()
                if sender.done() and sender.exception() is not None:
                    # Events that arrived before the failure still count: let the receiver
                    # read them (it stops at the broken connection), then give up the link.
                    if not self.overrun:  # (after an overrun the link is fine: no waiting)
                        await asyncio.wait({receiver}, timeout=RECEIVE_GRACE_SECONDS)
                    if not receiver.done():
                        sender.result()
                if receiver.done():
                    receiver.result()
                    return  # transcription.done
                deadline = self._deadline()
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    return  # out of time: the caller learns it from complete=False
                watched = {receiver} | self._background()
                if not sender.done():
                    watched.add(sender)
                await asyncio.wait(watched, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.connected = False
            self.end_sent = False
            for task in (sender, receiver):
                task.cancel()
            await link.close()
            await asyncio.wait({sender, receiver})
            for task in (sender, receiver):
                if not task.cancelled():
                    task.exception()  # retrieved: the first failure was already handled

    def _begin_link(self) -> None:
        """A link is open: what was dropped while disconnected is lost for good; the link
        starts at the buffer's first byte."""
        self.connections += 1
        self.lost += self.tape.start - self.confirmed
        self.confirmed = self.tape.start
        self.tape.rewind()
        self.base = self.tape.start
        self.connected = True
        self.overrun = False
        self.progress = False
        self.end_sent = False
        self.first_audio_at = None
        self.last_activity = time.monotonic()
        self._state("connected")

    async def _send_loop(self, link: RealtimeLink) -> None:
        while True:
            if self.overrun:
                raise LinkLost(
                    "the connection fell too far behind the audio (the replay buffer overflowed)",
                    hint="check the network, or raise the buffer",
                )
            piece = self.tape.take(self.step)
            if piece:
                if self.first_audio_at is None:
                    self.first_audio_at = time.monotonic()
                await link.send(piece)
                self.sent_bytes += len(piece)
                continue
            if self.input_over.is_set():
                self.end_sent = True  # before the await: done may come back before it returns
                self.last_activity = time.monotonic()
                await link.flush()
                await link.end()
                return
            self.audio_ready.clear()
            await self.audio_ready.wait()  # set by capture: new audio, the end or an overrun

    async def _receive_loop(self, link: RealtimeLink) -> None:
        async with aclosing(link.events()) as events:
            async for event in events:
                self.last_activity = time.monotonic()
                if isinstance(event, SessionDone):
                    if not self.end_sent:
                        raise LinkLost("the server ended the session before the audio ended")
                    self._confirm(self.tape.sent_end)
                    self.done = True
                    if self.language is None and event.language:
                        self.language = event.language
                    return
                self._handle(event)

    def _handle(self, event: LinkEvent) -> None:
        offset = self.base / self.rate
        if isinstance(event, SegmentDone):
            self.on_event(
                SegmentDone(
                    event.text,
                    _shift(event.start, offset),
                    _shift(event.end, offset),
                    event.speaker,
                )
            )
            if event.end is not None:
                self._confirm(self.base + round(event.end * self.rate / self.frame) * self.frame)
        elif isinstance(event, TurnEvent):
            self.on_event(TurnEvent(event.kind, event.reason, _shift(event.time, offset)))
        elif isinstance(event, LanguageDetected):
            if event.language != self.language:  # each new link says it again
                self.language = event.language
                self.on_event(event)
        elif isinstance(event, TextDelta | ConnectionState):
            self.on_event(event)

    def _confirm(self, position: int) -> None:
        position = min(position, self.tape.sent_end)
        if position > self.confirmed:
            self.confirmed = position
            self.progress = True
            self.tape.trim(position)
            self.room.set()

    # -- capture ----------------------------------------------------------------------------

    async def _capture(self) -> None:
        try:
            while True:
                if self.wait_for_room:
                    await self._until_room()
                chunk = await self._next_chunk()
                if chunk is None:
                    return
                if chunk:
                    self._take(chunk)
        finally:
            self.input_over.set()
            self.audio_ready.set()

    async def _until_room(self) -> None:
        """Wait while the buffer is nine tenths full (back-pressure), until ``stop``, or at
        most :data:`ROOM_WAIT_SECONDS` at a time: a server that confirms nothing (long
        silence) must not stall the input for good."""
        tape = self.tape
        deadline = time.monotonic() + ROOM_WAIT_SECONDS
        while tape.end - tape.start >= tape.capacity * 0.9 and not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.room.clear()
            assert self.stop_waiter is not None
            waiter = asyncio.ensure_future(self.room.wait())
            await asyncio.wait(
                {waiter, self.stop_waiter}, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            if not waiter.done():
                waiter.cancel()
                await asyncio.wait({waiter})

    async def _next_chunk(self) -> bytes | None:
        """The next chunk from the queue; None at its end or once ``stop`` is set."""
        if self.stop.is_set():
            return None
        try:
            return self.audio.get_nowait()
        except asyncio.QueueEmpty:
            pass
        assert self.stop_waiter is not None
        getter = asyncio.ensure_future(self.audio.get())
        await asyncio.wait({getter, self.stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            await asyncio.wait({getter})
        return None if getter.cancelled() else getter.result()

    def _take(self, chunk: bytes) -> None:
        dropped, unsent = self.tape.append(chunk)
        if unsent and self.connected:
            self.overrun = True  # the link cannot keep its timeline: the sender reconnects
        self.audio_ready.set()
        if dropped and not self.connected:
            self._report_drop()

    def _report_drop(self) -> None:
        dropped = self.dropped_seconds
        if not self.outage_reported or dropped - self.reported_dropped >= REPORT_STEP_SECONDS:
            self.outage_reported = True
            self._state("reconnecting", "the buffer is full: dropping the oldest audio")

    # -- helpers ----------------------------------------------------------------------------

    def _state(
        self,
        state: Literal["connecting", "connected", "reconnecting", "closed"],
        detail: str | None = None,
    ) -> None:
        self.reported_dropped = self.dropped_seconds
        self.on_event(ConnectionState(state, detail, round(self.reported_dropped, 6)))

    def _background(self) -> set[asyncio.Future[Any]]:
        """The capture and stop tasks still running (a wait wakes when either changes)."""
        return {task for task in (self.capture, self.stop_waiter) if task and not task.done()}

    def _check_capture(self) -> None:
        """Raise what broke the capture task (an ``on_event`` failure)."""
        task = self.capture
        if task is not None and task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                raise error

    def _deadline(self) -> float | None:
        """When waiting for the end must stop: ``drain_timeout`` after ``stop``, or after the
        last sign of life once the end of the input was sent; None while neither applies."""
        deadlines: list[float] = []
        if self.stop.is_set():
            if self.stop_at is None:
                self.stop_at = time.monotonic()
            deadlines.append(self.stop_at + self.drain_timeout)
        if self.end_sent and self.last_activity is not None:
            deadlines.append(self.last_activity + self.drain_timeout)
        return min(deadlines, default=None)

    def _deadline_passed(self) -> bool:
        deadline = self._deadline()
        return deadline is not None and time.monotonic() >= deadline


def _shift(value: float | None, offset: float) -> float | None:
    return None if value is None else round(value + offset, 6)
