"""The live session driver and the realtime link, through the real SDK against FakeRealtime.

``pytest-asyncio`` is not installed: every test runs its client code with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fake_mistral import SENTENCES, TEST_API_KEY, FakeMistral
from fake_realtime import MAX_CHUNK_BYTES, FakeRealtime

from voxcli.api.client import ApiClient
from voxcli.api.realtime import LinkLost, SessionRefused, open_link
from voxcli.config import Settings
from voxcli.errors import ApiError, AuthError, ExitCode
from voxcli.live.session import run_session
from voxcli.live.types import (
    MAX_MESSAGE_BYTES,
    ConnectionState,
    LanguageDetected,
    LiveEvent,
    LiveSettings,
    PcmFormat,
    SegmentDone,
    SessionDone,
    SessionSummary,
    TextDelta,
    TurnEvent,
    TurnSettings,
)

MODEL = "voxtral-mini-transcribe-realtime-latest"
S16 = PcmFormat()  # pcm_s16le, 16 kHz: 32,000 bytes a second
CHUNK = 3200  # 0.1 s of S16


@pytest.fixture
def rt(fake_server: FakeMistral) -> Iterator[FakeRealtime]:
    with FakeRealtime(fake_server, segment_seconds=0.5) as realtime:
        yield realtime
    assert realtime.errors == []


def make_client(fake: FakeMistral, key: str = TEST_API_KEY) -> ApiClient:
    return ApiClient(Settings(api_key=key, key_origin="test", server_url=fake.url))


def noise(seconds: float, fmt: PcmFormat = S16, seed: int = 1) -> bytes:
    """Loud noise (every byte pattern distinct enough to recognise where a replay starts)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fmt.sample_rate)
    if fmt.encoding == "pcm_s32le":
        return rng.integers(-(2**30), 2**30, n).astype("<i4").tobytes()
    assert fmt.encoding == "pcm_s16le"
    return rng.integers(-20000, 20000, n).astype("<i2").tobytes()


def tone(seconds: float, silent: bool = False) -> bytes:
    n = round(seconds * 16000)
    x = np.zeros(n) if silent else 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)
    return (x * 32767).astype("<i2").tobytes()


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


class Run:
    """One :func:`run_session` call: what it emitted, what it returned or raised."""

    def __init__(self) -> None:
        self.events: list[LiveEvent] = []
        self.summary: SessionSummary | None = None
        self.error: BaseException | None = None
        self.took = 0.0

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def segments(self) -> list[SegmentDone]:
        return self.of(SegmentDone)

    @property
    def states(self) -> list[str]:
        return [e.state for e in self.of(ConnectionState)]


def drive(
    fake: FakeMistral,
    settings: LiveSettings,
    feed: list[bytes | None],
    *,
    key: str = TEST_API_KEY,
    retries: int = 2,
    on_event: Callable[[LiveEvent, asyncio.Queue[bytes | None], asyncio.Event], None] | None = None,
    producer: Callable[[asyncio.Queue[bytes | None]], Any] | None = None,
    **options: Any,
) -> Run:
    """Run a session over ``feed`` (queued up front), optionally with a ``producer``
    coroutine adding more; ``on_event`` sees each event with the queue and the stop event."""
    run = Run()
    client = make_client(fake, key)

    async def main() -> None:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        stop = asyncio.Event()
        for item in feed:
            queue.put_nowait(item)

        def record(event: LiveEvent) -> None:
            run.events.append(event)
            if on_event is not None:
                on_event(event, queue, stop)

        task = asyncio.ensure_future(producer(queue)) if producer else None
        start = time.monotonic()
        try:
            run.summary = await run_session(
                lambda s: open_link(client, s, timeout=5.0),
                settings,
                queue,
                record,
                retries=retries,
                stop=stop,
                backoff=lambda attempt: 0.05,
                **{"drain_timeout": 3.0, **options},
            )
        except Exception as exc:
            run.error = exc
        finally:
            run.took = time.monotonic() - start
            if task is not None:
                task.cancel()
                await asyncio.wait({task})

    try:
        asyncio.run(main())
    finally:
        client.close()
    return run


def assert_continuous(segments: list[SegmentDone], total: float) -> None:
    """Every stretch of audio transcribed exactly once: segments chain from 0 to ``total``."""
    assert segments, "no segments"
    assert segments[0].start == pytest.approx(0.0)
    for before, after in itertools.pairwise(segments):
        assert after.start == pytest.approx(before.end)
        assert after.end is not None and before.end is not None and after.end > before.end
    assert segments[-1].end == pytest.approx(total)


# -- settings and chunks -------------------------------------------------------------------


def test_every_setting_in_the_first_update_and_chunks_on_frame_boundaries(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    fmt = PcmFormat("pcm_s32le", 24000)  # 4-byte frames, 96,000 bytes a second
    voice = base64.b64encode(noise(0.1)).decode()
    settings = LiveSettings(
        model=MODEL,
        audio=fmt,
        language="fr",
        diarize=True,
        context_bias=("Voxtral", "Le Chat"),
        speaker_references=(("Alice", voice),),
        target_streaming_delay_ms=240,
        turn_detection=TurnSettings(min_silence_ms=300),
    )
    audio = noise(3.0, fmt)  # 288,000 bytes: more than one message
    # Pieces that cut frames in two: the driver must put frames back together.
    feed: list[bytes | None] = [audio[:100_001], audio[100_001:250_003], audio[250_003:], None]
    run = drive(fake_server, settings, feed)

    assert run.error is None
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.query["model"] == [MODEL]
    assert rec.message_types[0] == "session.update"
    assert rec.message_types.count("session.update") == 1
    (update,) = rec.updates
    assert update["audio_format"] == {"encoding": "pcm_s32le", "sample_rate": 24000}
    assert update["language"] == "fr"
    assert update["diarize"] is True
    assert update["context_bias"] == ["Voxtral", "Le Chat"]
    assert update["speaker_references"] == {"Alice": voice}
    assert update["target_streaming_delay_ms"] == 240
    assert update["turn_detection"]["min_silence_ms"] == 300
    assert rec.settings["turn_detection"]["min_silence_ms"] == 300
    assert rec.events_of("error") == []

    assert all(0 < size <= MAX_CHUNK_BYTES and size % 4 == 0 for size in rec.chunk_sizes)
    assert len(rec.chunk_sizes) >= 2
    assert bytes(rec.audio) == audio
    assert run.summary is not None and run.summary.audio_seconds == pytest.approx(3.0)
    assert {s.speaker for s in run.segments} == {"Alice"}
    assert run.of(LanguageDetected) == [LanguageDetected("fr")]


def test_link_send_splits_into_whole_frames(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    client = make_client(fake_server)
    fmt = PcmFormat("pcm_f32le", 16000)

    async def main() -> list[Any]:
        link = await open_link(client, LiveSettings(model=MODEL, audio=fmt), timeout=5.0)
        try:
            with pytest.raises(ValueError, match="not whole pcm_f32le frames"):
                await link.send(bytes(6))
            await link.send(bytes(600_000))
            await link.end()
            return [event async for event in link.events()]
        finally:
            await link.close()

    try:
        events = asyncio.run(main())
    finally:
        client.close()
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.chunk_sizes == [
        MAX_MESSAGE_BYTES,
        MAX_MESSAGE_BYTES,
        600_000 - 2 * MAX_MESSAGE_BYTES,
    ]
    assert isinstance(events[-1], SessionDone)  # the link stops there
    segments = [e for e in events if isinstance(e, SegmentDone)]
    assert segments[-1].end == pytest.approx(600_000 / fmt.bytes_per_second)
    assert rec.updates[0]["audio_format"] == {"encoding": "pcm_f32le", "sample_rate": 16000}


# -- events ----------------------------------------------------------------------------------


def test_server_events_become_ours(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    audio = tone(0.6) + tone(0.6, silent=True) + tone(0.6)
    settings = LiveSettings(model=MODEL, turn_detection=TurnSettings(min_silence_ms=300))
    run = drive(fake_server, settings, [*chunks(audio), None])

    assert run.error is None
    assert run.states == ["connecting", "connected", "closed"]
    assert [(s.start, s.end) for s in run.segments] == [
        (0.0, 0.5),
        (0.5, 1.0),
        (1.0, 1.5),
        (1.5, 1.8),  # the partial segment the end flushed out
    ]
    assert [s.text for s in run.segments] == list(SENTENCES[:4])
    assert all(s.speaker is None for s in run.segments)
    # The deltas before each segment spell it out.
    text = ""
    for event in run.events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, SegmentDone):
            assert text.strip() == event.text
            text = ""
    first_delta = next(i for i, e in enumerate(run.events) if isinstance(e, TextDelta))
    language = run.events.index(LanguageDetected("en"))
    assert language < first_delta
    assert run.of(TurnEvent) == [
        TurnEvent("start", None, 0.0),
        TurnEvent("eager_end", None, 0.6),
        TurnEvent("end", "threshold", 0.6),
        TurnEvent("start", None, 1.2),
        TurnEvent("end", "threshold", 1.8),
    ]
    assert run.summary == SessionSummary(
        audio_seconds=1.8,
        sent_seconds=1.8,
        reconnects=0,
        dropped_seconds=0.0,
        language="en",
        complete=True,
    )


def test_end_of_input_ends_the_audio_and_waits_for_done(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    run = drive(fake_server, LiveSettings(model=MODEL), [*chunks(noise(1.2)), None])
    assert run.error is None
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    types = rec.message_types
    assert types[-2:] == ["input_audio.flush", "input_audio.end"]
    assert set(types[1:-2]) == {"input_audio.append"}
    assert rec.close_reason == "done"
    assert rec.event_types[-1] == "transcription.done"
    assert_continuous(run.segments, 1.2)
    assert run.summary is not None and run.summary.complete

    empty = drive(fake_server, LiveSettings(model=MODEL), [None])  # no audio at all
    assert empty.error is None and empty.segments == []
    assert empty.summary is not None and empty.summary.complete
    assert empty.summary.audio_seconds == 0.0
    assert rt.wait_for_sessions(2)[1].wait_closed().message_types[-1] == "input_audio.end"


# -- stopping --------------------------------------------------------------------------------


def paced_noise(total_chunks: int, pushed: list[int]) -> Callable[[asyncio.Queue[Any]], Any]:
    """A producer of 0.1 s chunks of noise, one every 10 ms (``pushed`` counts them)."""
    audio = noise(total_chunks * 0.1)

    async def produce(queue: asyncio.Queue[bytes | None]) -> None:
        for piece in chunks(audio):
            queue.put_nowait(piece)
            pushed[0] += 1
            await asyncio.sleep(0.01)

    return produce


def test_stop_mid_stream_sends_what_was_taken_and_drains(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    pushed = [0]

    def stop_at_first_segment(event: LiveEvent, queue: Any, stop: asyncio.Event) -> None:
        if isinstance(event, SegmentDone):
            stop.set()

    run = drive(
        fake_server,
        LiveSettings(model=MODEL),
        [],
        on_event=stop_at_first_segment,
        producer=paced_noise(200, pushed),
    )
    assert run.error is None
    summary = run.summary
    assert summary is not None and summary.complete
    assert run.took < 2.0
    assert summary.audio_seconds < pushed[0] * 0.1 + 1e-9 < 20.0  # it stopped taking audio
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.audio_seconds == pytest.approx(summary.audio_seconds)  # all taken was sent
    assert rec.message_types[-1] == "input_audio.end"
    assert_continuous(run.segments, summary.audio_seconds)
    assert run.states[-1] == "closed"


def test_stop_gives_up_waiting_after_the_drain_timeout(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    pushed = [0]

    def stop_and_slow_down(event: LiveEvent, queue: Any, stop: asyncio.Event) -> None:
        if isinstance(event, SegmentDone) and not stop.is_set():
            rt.event_delay = 5.0  # the server goes quiet
            stop.set()

    run = drive(
        fake_server,
        LiveSettings(model=MODEL),
        [],
        on_event=stop_and_slow_down,
        producer=paced_noise(200, pushed),
        drain_timeout=0.3,
    )
    assert run.error is None
    assert run.summary is not None and not run.summary.complete
    assert 0.3 <= run.took < 2.0
    assert run.states[-1] == "closed"
    rt.event_delay = 0.0


# -- reconnecting ------------------------------------------------------------------------------


def test_dropped_connection_reconnects_and_resends_the_unconfirmed_audio(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    # Segment ends (multiples of 0.37 s) never meet the 0.1 s chunk ends before 3.7 s, so the
    # drop (at 1.2 s) always leaves audio the server heard but did not finish.
    rt.segment_seconds = 0.37
    rt.drop_after(1.2)  # the first session only
    audio = noise(4.0)
    pushed = [0]

    async def produce(queue: asyncio.Queue[bytes | None]) -> None:
        await paced_noise(40, pushed)(queue)
        queue.put_nowait(None)

    run = drive(fake_server, LiveSettings(model=MODEL), [], producer=produce)

    assert run.error is None
    first, second = rt.wait_for_sessions(2)
    assert first.wait_closed().close_reason == "dropped"
    assert second.wait_closed().close_reason == "done"
    # The second session got exactly the audio after the last confirmed segment end.
    replayed = bytes(second.audio)
    confirmed = len(audio) - len(replayed)
    assert audio[confirmed:] == replayed
    assert confirmed % round(0.37 * S16.bytes_per_second) == 0  # a segment end
    assert 0 < confirmed < first.audio_bytes
    # Every segment exactly once, times continuous and increasing across the reconnect.
    assert_continuous(run.segments, 4.0)
    assert run.states == ["connecting", "connected", "reconnecting", "connected", "closed"]
    summary = run.summary
    assert summary is not None
    assert (summary.reconnects, summary.dropped_seconds, summary.complete) == (1, 0.0, True)
    assert summary.audio_seconds == pytest.approx(4.0)
    assert summary.sent_seconds > summary.audio_seconds  # the replay


def test_server_error_event_reconnects(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    rt.error_after(0.5, "overloaded", 503)
    audio = noise(2.0)
    pushed = [0]

    async def produce(queue: asyncio.Queue[bytes | None]) -> None:
        await paced_noise(20, pushed)(queue)
        queue.put_nowait(None)

    run = drive(fake_server, LiveSettings(model=MODEL), [], producer=produce)
    assert run.error is None
    reconnecting = [e for e in run.of(ConnectionState) if e.state == "reconnecting"]
    assert len(reconnecting) == 1 and "overloaded" in (reconnecting[0].detail or "")
    assert_continuous(run.segments, 2.0)
    second = rt.wait_for_sessions(2)[1].wait_closed()
    assert audio.endswith(bytes(second.audio))


def test_buffer_overflow_drops_the_oldest_audio_and_says_how_much(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    rt.segment_seconds = 100.0  # no segment confirms anything until the end
    rt.drop_after(0.5)
    audio = noise(2.6)
    before, during = audio[: 6 * CHUNK], audio[6 * CHUNK :]

    fed: list[bool] = []

    def feed_while_disconnected(event: LiveEvent, queue: Any, stop: asyncio.Event) -> None:
        if isinstance(event, ConnectionState) and event.state == "reconnecting" and not fed:
            fed.append(True)
            for piece in chunks(during):
                queue.put_nowait(piece)
            queue.put_nowait(None)

    run = drive(
        fake_server,
        LiveSettings(model=MODEL),
        chunks(before),
        on_event=feed_while_disconnected,
        buffer_seconds=1.0,
    )
    assert run.error is None
    first, second = rt.wait_for_sessions(2)
    assert first.wait_closed().close_reason == "dropped"
    # 2.6 s taken, 1 s kept: the oldest 1.6 s were dropped, the rest sent again.
    assert bytes(second.wait_closed().audio) == audio[-S16.bytes_per_second :]
    assert [(s.start, s.end) for s in run.segments] == [(1.6, 2.6)]  # times match the input
    reports = [e for e in run.of(ConnectionState) if e.dropped_seconds > 0]
    assert reports and reports[0].state == "reconnecting"
    assert [e.dropped_seconds for e in reports] == sorted(e.dropped_seconds for e in reports)
    assert run.of(ConnectionState)[-1] == ConnectionState("closed", None, pytest.approx(1.6))
    summary = run.summary
    assert summary is not None
    assert summary.dropped_seconds == pytest.approx(1.6)
    assert summary.audio_seconds == pytest.approx(2.6)
    assert summary.complete and summary.reconnects == 1


# -- errors ----------------------------------------------------------------------------------


def test_401_at_the_handshake_is_an_auth_error_never_retried(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    fake_server.require_key()
    run = drive(fake_server, LiveSettings(model=MODEL), [None], key="sk-wrong", retries=3)
    assert isinstance(run.error, AuthError)
    assert run.error.exit_code == ExitCode.AUTH
    assert "401" in run.error.message
    assert [s.status for s in rt.sessions] == [401]
    assert run.states == ["connecting"]


@pytest.mark.parametrize(
    ("fault", "settings", "expected"),
    [
        (
            None,
            LiveSettings(model=MODEL, target_streaming_delay_ms=50),
            "target_streaming_delay_ms must be between 80 and 1200, or 2400; got 50",
        ),
        ((0.3, "bad \x1b[31mvalue\x07 here", 400), LiveSettings(model=MODEL), "bad [31mvalue here"),
    ],
)
def test_error_event_is_a_usage_error_with_the_servers_message(
    fake_server: FakeMistral,
    rt: FakeRealtime,
    fault: tuple[float, str, int] | None,
    settings: LiveSettings,
    expected: str,
) -> None:
    if fault is not None:
        rt.error_after(*fault)
    run = drive(fake_server, settings, [*chunks(noise(1.0)), None], retries=3)
    assert isinstance(run.error, SessionRefused)
    assert run.error.exit_code == ExitCode.USAGE
    assert expected in run.error.message
    assert not any(ch in run.error.message for ch in "\x1b\x07")
    assert len(rt.sessions) == 1  # not retried


def test_rejected_handshake_statuses(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    rt.reject_next(404, message="Model not found")
    run = drive(fake_server, LiveSettings(model=MODEL), [None], retries=3)
    assert isinstance(run.error, SessionRefused) and run.error.exit_code == ExitCode.USAGE
    assert "HTTP 404" in run.error.message and "Model not found" in run.error.message

    rt.reject_next(503, times=1)  # retried, then fine
    run = drive(fake_server, LiveSettings(model=MODEL), [*chunks(noise(0.5)), None])
    assert run.error is None and run.summary is not None and run.summary.complete
    assert run.states == ["connecting", "reconnecting", "connected", "closed"]
    assert [s.status for s in rt.sessions] == [404, 503, 101]


@pytest.mark.parametrize("fault", ["reject", "drop"])
def test_retries_exhausted_raise_an_api_error(
    fake_server: FakeMistral, rt: FakeRealtime, fault: str
) -> None:
    if fault == "reject":
        rt.reject_next(503, times=None)
    else:
        rt.segment_seconds = 100.0  # a link that never confirms anything is no progress
        rt.drop_after(0.2, times=None)
    run = drive(fake_server, LiveSettings(model=MODEL), [*chunks(noise(0.5)), None], retries=2)
    assert isinstance(run.error, LinkLost) and isinstance(run.error, ApiError)
    assert run.error.exit_code == ExitCode.FAILURE
    assert "gave up after 3 attempts" in run.error.message
    assert len(rt.sessions) == 3
    if fault == "reject":
        assert run.error.status == 503
    assert run.states.count("reconnecting") == 2


class StalledThenFineLink:
    """A stand-in link (the one narrow seam here): the first one's first send stalls while
    1 s of audio arrives; later ones take everything and finish it as one segment."""

    def __init__(self, queue: asyncio.Queue[bytes | None] | None, later: bytes) -> None:
        self.queue = queue  # set on the stalling link only
        self.later = later
        self.sent: list[bytes] = []
        self.ended = asyncio.Event()

    async def send(self, pcm: bytes) -> None:
        self.sent.append(pcm)
        if self.queue is not None and len(self.sent) == 1:
            for piece in chunks(self.later):
                self.queue.put_nowait(piece)
            self.queue.put_nowait(None)
            await asyncio.sleep(0.2)  # the network hangs while capture goes on

    async def flush(self) -> None:
        return None

    async def end(self) -> None:
        self.ended.set()

    async def close(self) -> None:
        return None

    async def events(self) -> Any:
        await self.ended.wait()
        seconds = sum(map(len, self.sent)) / S16.bytes_per_second
        yield SegmentDone("all of it", 0.0, seconds)
        yield SessionDone("en")


def test_overflow_of_unsent_audio_while_connected_reconnects_on_a_new_timeline() -> None:
    audio = noise(1.1)
    first_chunk, later = audio[:CHUNK], audio[CHUNK:]
    links: list[StalledThenFineLink] = []
    events: list[LiveEvent] = []

    async def main() -> SessionSummary:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        queue.put_nowait(first_chunk)

        async def open_stub(settings: LiveSettings) -> Any:
            links.append(StalledThenFineLink(None if links else queue, later))
            return links[-1]

        return await run_session(
            open_stub,
            LiveSettings(model=MODEL),
            queue,
            events.append,
            retries=1,
            stop=asyncio.Event(),
            buffer_seconds=0.5,
            backoff=lambda attempt: 0.0,
        )

    summary = asyncio.run(main())
    first, second = links
    assert first.sent == [first_chunk] and not first.ended.is_set()
    assert b"".join(second.sent) == audio[-S16.bytes_per_second // 2 :]  # the newest 0.5 s
    reconnecting = [
        e for e in events if isinstance(e, ConnectionState) and e.state == "reconnecting"
    ]
    assert "fell too far behind" in (reconnecting[0].detail or "")
    assert reconnecting[0].dropped_seconds == pytest.approx(0.6)
    assert [(e.start, e.end) for e in events if isinstance(e, SegmentDone)] == [(0.6, 1.1)]
    assert summary.dropped_seconds == pytest.approx(0.6)
    assert (summary.reconnects, summary.complete) == (1, True)
