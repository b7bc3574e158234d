"""Tests of the fake realtime transcription server, driven through the real SDK client.

``pytest-asyncio`` is not installed: every test runs its client code with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
from fake_mistral import SENTENCES, TEST_API_KEY, FakeMistral
from fake_realtime import MAX_CHUNK_BYTES, REALTIME_PATH, FakeRealtime, decode_pcm
from mistralai.client import Mistral
from mistralai.client.models import AudioFormat, TurnDetectionConfig
from mistralai.extra.exceptions import RealtimeTranscriptionException
from mistralai.extra.realtime import RealtimeConnection
from websockets.exceptions import ConnectionClosedError, InvalidStatus

MODEL = "voxtral-mini-transcribe-realtime-latest"
_WIDTH = {"pcm_s16le": 2, "pcm_s32le": 4, "pcm_f16le": 2, "pcm_f32le": 4, "pcm_mulaw": 1}


@pytest.fixture
def rt(fake_server: FakeMistral) -> Iterator[FakeRealtime]:
    with FakeRealtime(fake_server) as realtime:
        yield realtime
    assert realtime.errors == []


# -- helpers ---------------------------------------------------------------------------------


def pcm(
    seconds: float, rate: int = 16000, encoding: str = "pcm_s16le", silent: bool = False
) -> bytes:
    """A 440 Hz tone at half scale (or silence) in ``encoding``."""
    n = round(seconds * rate)
    x = np.zeros(n) if silent else 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)
    if encoding == "pcm_s16le":
        return (x * 32767).astype("<i2").tobytes()
    if encoding == "pcm_s32le":
        return (x * 2147483647).astype("<i4").tobytes()
    if encoding == "pcm_f16le":
        return x.astype("<f2").tobytes()
    if encoding == "pcm_f32le":
        return x.astype("<f4").tobytes()
    if encoding == "pcm_mulaw":  # 0xFF is mu-law zero; loudness does not matter here
        return (b"\xff" if silent else b"\x80") * n
    raise ValueError(encoding)


def sdk(fake: FakeMistral, api_key: str = TEST_API_KEY) -> Mistral:
    return Mistral(api_key=api_key, server_url=fake.url)


async def connect(fake: FakeMistral, **settings: Any) -> RealtimeConnection:
    return await sdk(fake).audio.realtime.connect(model=MODEL, **settings)


async def send(conn: RealtimeConnection, data: bytes, chunk: int) -> None:
    for i in range(0, len(data), chunk):
        await conn.send_audio(data[i : i + chunk])


class Events:
    """One event iterator per connection (a dropped SDK iterator closes the connection)."""

    def __init__(self, conn: RealtimeConnection) -> None:
        self.it = conn.events()
        self.seen: list[Any] = []

    async def until(self, *types: str, timeout: float = 5.0) -> list[Any]:
        """Events up to and including the first one of ``types``."""
        got: list[Any] = []

        async def pull() -> None:
            while True:
                event = await anext(self.it)
                got.append(event)
                if event.type in types:
                    return

        await asyncio.wait_for(pull(), timeout)
        self.seen += got
        return got

    async def rest(self, timeout: float = 5.0) -> list[Any]:
        """Every event until the server closes the connection normally."""

        async def pull() -> list[Any]:
            return [event async for event in self.it]

        got = await asyncio.wait_for(pull(), timeout)
        self.seen += got
        return got


def types_of(events: list[Any]) -> list[str]:
    return [e.type for e in events]


# -- handshake and settings -------------------------------------------------------------------


def test_connect_records_query_headers_and_settings(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    voice = base64.b64encode(pcm(0.1)).decode()

    async def main() -> tuple[Any, list[str]]:
        conn = await connect(
            fake_server,
            audio_format=AudioFormat(encoding="pcm_s16le", sample_rate=16000),
            target_streaming_delay_ms=240,
            diarize=True,
            context_bias=["Voxtral", "Mistral"],
            language="fr",
            speaker_references={"alice": voice, "bob": voice},
            turn_detection=TurnDetectionConfig(min_silence_ms=400, end_timeout_ms=5000),
        )
        async with conn:
            events = await Events(conn).until("session.updated")
            return conn.session, types_of(events)

    session, types = asyncio.run(main())
    assert types == ["session.created", "session.updated"]
    assert session.model == MODEL
    assert session.target_streaming_delay_ms == 240
    assert session.diarize is True
    assert session.language == "fr"
    assert session.context_bias == ["Voxtral", "Mistral"]
    assert session.speaker_references == ["alice", "bob"]  # names only, as the SDK types it
    assert session.turn_detection is not None
    assert session.turn_detection.min_silence_ms == 400
    assert session.turn_detection.end_timeout_ms == 5000

    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.status == 101 and rec.accepted
    assert rec.query == {"model": [MODEL]}
    assert rec.headers["Authorization"] == f"Bearer {TEST_API_KEY}"
    assert rec.redacted_headers["Authorization"] == "Bearer <redacted>"
    assert TEST_API_KEY not in repr(rec)
    assert rec.message_types == ["session.update"]
    assert rec.updates == [
        {
            "audio_format": {"encoding": "pcm_s16le", "sample_rate": 16000},
            "target_streaming_delay_ms": 240,
            "diarize": True,
            "context_bias": ["Voxtral", "Mistral"],
            "language": "fr",
            "speaker_references": {"alice": voice, "bob": voice},
            "turn_detection": {
                "start_threshold": 0.5,
                "eager_end_threshold": 0.5,
                "end_threshold": 0.33,
                "min_silence_ms": 400,
                "end_timeout_ms": 5000,
            },
        }
    ]
    assert rec.settings["speaker_references"] == {"alice": voice, "bob": voice}
    assert rec.event_types == ["session.created", "session.updated"]
    assert rec.events[0].data["session"]["request_id"] == rec.request_id
    assert rec.close_reason == "client" and rec.client_close_code == 1000
    http = fake_server.requests[0]
    assert (http.method, http.path, http.status) == ("GET", REALTIME_PATH, 101)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic, serializing "pcm_u8"
def test_invalid_and_late_updates_get_error_events(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    raw_update = {"type": "session.update", "session": {"audio_format": {"encoding": "pcm_u8"}}}

    async def main() -> list[Any]:
        conn = await connect(fake_server)
        async with conn:
            events = Events(conn)
            await events.until("session.created")
            await conn.update_session(target_streaming_delay_ms=1500)
            await events.until("error")
            # The SDK drops an audio_format whose encoding it does not know: {"session": {}}.
            await conn.update_session(AudioFormat(encoding="pcm_u8", sample_rate=16000))
            await events.until("session.updated")
            # ...so send that one raw, on the SDK's own socket.
            await conn._websocket.send(json.dumps(raw_update))
            await events.until("error")
            await conn._websocket.send("not json")
            await events.until("error")
            await conn.update_session(target_streaming_delay_ms=2400)
            await events.until("session.updated")
            await conn.send_audio(pcm(0.1))
            await conn.update_session(language="de")
            await events.until("error")
            return events.seen

    events = asyncio.run(main())
    errors = [e for e in events if e.type == "error"]
    assert [e.error.code for e in errors] == [422, 422, 400, 409]
    assert "80 and 1200, or 2400" in str(errors[0].error.message)
    assert "pcm_u8" in str(errors[1].error.message)
    assert "locked" in str(errors[3].error.message)
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.updates == [
        {"target_streaming_delay_ms": 1500},
        {},
        raw_update["session"],
        {"target_streaming_delay_ms": 2400},
        {"language": "de"},
    ]  # every update is recorded, refused or not
    assert rec.settings["target_streaming_delay_ms"] == 2400
    assert rec.settings["audio_format"] == {"encoding": "pcm_s16le", "sample_rate": 16000}
    assert rec.settings["language"] is None
    assert rec.message_types == ["session.update"] * 3 + [
        "<invalid>",
        "session.update",
        "input_audio.append",
        "session.update",
    ]


def test_handshake_401_and_injected_status(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    fake_server.require_key(TEST_API_KEY)

    async def refused(api_key: str) -> RealtimeTranscriptionException:
        with pytest.raises(RealtimeTranscriptionException) as info:
            await sdk(fake_server, api_key).audio.realtime.connect(model=MODEL)
        return info.value

    async def main() -> list[RealtimeTranscriptionException]:
        wrong = await refused("sk-wrong")
        rt.reject_next(503)
        unavailable = await refused(TEST_API_KEY)
        conn = await connect(fake_server)  # the fault was used up
        await conn.close()
        return [wrong, unavailable]

    wrong, unavailable = asyncio.run(main())
    for exc, status in ((wrong, 401), (unavailable, 503)):
        assert str(exc).startswith("Failed to connect")
        assert exc.code is None  # the status is only on the cause
        cause = exc.__cause__
        assert isinstance(cause, InvalidStatus)
        assert cause.response.status_code == status
    assert isinstance(wrong.__cause__, InvalidStatus)
    assert json.loads(wrong.__cause__.response.body)["message"] == "Unauthorized"
    sessions = rt.wait_for_sessions(3)
    assert [s.status for s in sessions] == [401, 503, 101]
    assert [s.close_reason for s in sessions[:2]] == ["rejected", "rejected"]
    assert sessions[0].events == [] and sessions[0].messages == []
    assert [r.status for r in fake_server.requests] == [401, 503, 101]


# -- audio and transcript ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "rate"), [("pcm_s16le", 16000), ("pcm_f32le", 24000), ("pcm_mulaw", 8000)]
)
def test_segments_follow_the_audio_received(
    fake_server: FakeMistral, rt: FakeRealtime, encoding: str, rate: int
) -> None:
    audio = pcm(5.0, rate, encoding)
    chunk = _WIDTH[encoding] * rate // 4  # 0.25 s

    async def main() -> list[Any]:
        conn = await connect(
            fake_server, audio_format=AudioFormat(encoding=encoding, sample_rate=rate)
        )
        async with conn:
            events = Events(conn)
            await send(conn, audio, chunk)
            await conn.end_audio()
            await events.until("transcription.done")
            await events.rest()  # the server closes after done
            return events.seen

    events = asyncio.run(main())
    segments = [(e.text, e.start, e.end) for e in events if e.type == "transcription.segment"]
    assert segments == [
        (SENTENCES[0], 0.0, 2.0),
        (SENTENCES[1], 2.0, 4.0),
        (SENTENCES[2], 4.0, 5.0),
    ]
    types = types_of(events)
    assert types.count("transcription.language") == 1
    assert types.index("transcription.language") < types.index("transcription.text.delta")
    done = events[-1]
    assert done.type == "transcription.done"
    deltas = "".join(e.text for e in events if e.type == "transcription.text.delta")
    assert deltas == done.text == " ".join(SENTENCES[:3])
    assert done.language == "en" and done.model == MODEL
    assert [(s.start, s.end) for s in done.segments or []] == [(0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]
    assert done.usage.prompt_audio_seconds == 5

    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.audio_bytes == len(audio) and rec.audio_seconds == pytest.approx(5.0)
    assert rec.chunk_sizes == [chunk] * 20
    assert bytes(rec.audio) == audio
    assert rec.close_reason == "done"
    # The first segment went out as soon as 2 s of audio were in, long before the end.
    first = rec.events_of("transcription.segment")[0]
    end_msg = rec.wait_for_messages(1, "input_audio.end")[0]
    assert first.sent_at < end_msg.received_at


def test_oversize_chunk_is_refused_and_not_counted(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    async def main() -> list[Any]:
        conn = await connect(fake_server)
        async with conn:
            events = Events(conn)
            await conn.send_audio(bytes(MAX_CHUNK_BYTES + 2))
            await events.until("error")
            await conn.send_audio(bytes(MAX_CHUNK_BYTES))
            await conn.end_audio()
            await events.until("transcription.done")
            return events.seen

    events = asyncio.run(main())
    error = next(e for e in events if e.type == "error")
    assert error.error.code == 413 and str(MAX_CHUNK_BYTES) in str(error.error.message)
    assert events[-1].usage.prompt_audio_seconds == math.ceil(MAX_CHUNK_BYTES / 32000)
    rec = rt.wait_for_sessions(1)[0]
    assert rec.rejected_chunks == [MAX_CHUNK_BYTES + 2]
    assert rec.chunk_sizes == [MAX_CHUNK_BYTES] and rec.audio_bytes == MAX_CHUNK_BYTES


def test_transcribe_stream_flush_end_done(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    async def audio() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield pcm(0.5)

    async def main() -> list[Any]:
        stream = sdk(fake_server).audio.realtime.transcribe_stream(audio(), model=MODEL)
        return [event async for event in stream]

    events = asyncio.run(main())
    assert events[0].type == "session.created"
    assert events[-1].type == "transcription.done"
    segments = [(e.start, e.end) for e in events if e.type == "transcription.segment"]
    assert segments == [(0.0, 2.0), (2.0, 2.5)]  # flush emits the partial segment
    assert events[-1].text == " ".join(SENTENCES[:2])
    rec = rt.wait_for_sessions(1)[0].wait_closed()
    assert rec.message_types == ["input_audio.append"] * 5 + [
        "input_audio.flush",
        "input_audio.end",
    ]
    assert rec.close_reason == "done"


def test_flush_cuts_the_current_segment(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    async def main() -> list[Any]:
        conn = await connect(fake_server, diarize=True)
        async with conn:
            events = Events(conn)
            await conn.send_audio(pcm(0.5))
            await conn.flush_audio()
            await events.until("transcription.segment")
            await conn.send_audio(pcm(2.0))
            await events.until("transcription.segment")
            return events.seen

    events = asyncio.run(main())
    segments = [(e.start, e.end, e.speaker_id) for e in events if e.type == "transcription.segment"]
    assert segments == [(0.0, 0.5, "speaker_1"), (0.5, 2.5, "speaker_2")]


# -- turns -------------------------------------------------------------------------------------


def turn_events(events: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (e.type, e.time_s) + ((e.end_reason,) if e.type == "turn.end" else ())
        for e in events
        if e.type.startswith("turn.")
    ]


def run_turns(fake: FakeMistral, audio: bytes, **settings: Any) -> list[Any]:
    async def main() -> list[Any]:
        conn = await connect(fake, **settings)
        async with conn:
            events = Events(conn)
            await send(conn, audio, 3200)  # 0.1 s
            await conn.end_audio()
            await events.until("transcription.done")
            return events.seen

    return asyncio.run(main())


def test_turn_events_follow_silence(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    audio = pcm(0.6) + pcm(0.6, silent=True) + pcm(0.6)
    events = run_turns(fake_server, audio, turn_detection={"min_silence_ms": 300})
    assert turn_events(events) == [
        ("turn.start", 0.0),
        ("turn.eager_end", 0.6),
        ("turn.end", 0.6, "threshold"),
        ("turn.start", 1.2),
        ("turn.end", 1.8, "threshold"),  # the audio ended inside the turn
    ]

    tone = pcm(1.2)
    events = run_turns(
        fake_server, tone, turn_detection={"min_silence_ms": 300, "end_timeout_ms": 500}
    )
    assert ("turn.end", 0.5, "timeout") in turn_events(events)

    events = run_turns(fake_server, audio)  # no turn_detection: no turn events
    assert turn_events(events) == []
    assert "transcription.done" in types_of(events)


def test_decode_pcm_scales_every_encoding() -> None:
    assert decode_pcm(b"\x00\x80\xff\x7f", "pcm_s16le").tolist() == [-1.0, 32767 / 32768]
    assert decode_pcm(b"\x00\x00\x00\x80", "pcm_s32le").tolist() == [-1.0]
    assert decode_pcm(np.array([0.25], "<f2").tobytes(), "pcm_f16le").tolist() == [0.25]
    assert decode_pcm(b"\xff\x7f", "pcm_mulaw").tolist() == [0.0, 0.0]  # mu-law zeros
    assert abs(decode_pcm(b"\xd5", "pcm_alaw")[0]) < 0.001  # A-law near-zero
    assert decode_pcm(b"\x00", "pcm_mulaw")[0] == pytest.approx(-32124 / 32768)


# -- faults -----------------------------------------------------------------------------------


def test_error_after_and_event_delay(fake_server: FakeMistral, rt: FakeRealtime) -> None:
    rt.event_delay = 0.1
    rt.error_after(1.0, "boom", 4321)

    async def main() -> list[Any]:
        conn = await connect(fake_server)
        async with conn:
            events = Events(conn)
            await send(conn, pcm(1.5), 16000)  # 0.5 s chunks
            await conn.end_audio()
            await events.until("transcription.done")
            return events.seen

    events = asyncio.run(main())
    error = next(e for e in events if e.type == "error")
    assert (error.error.message, error.error.code) == ("boom", 4321)
    assert events[-1].type == "transcription.done"  # an error event does not end the session
    rec = rt.wait_for_sessions(1)[0]
    assert all(e.latency >= 0.1 for e in rec.events)
    sent_error = rec.events_of("error")[0]
    appends = rec.wait_for_messages(3, "input_audio.append")
    assert appends[1].received_at <= sent_error.queued_at <= appends[2].received_at


@pytest.mark.parametrize("reset", [False, True])
def test_drop_surfaces_as_connection_closed_error(
    fake_server: FakeMistral, rt: FakeRealtime, reset: bool
) -> None:
    rt.drop_after(1.0, reset=reset)  # once: the second session is left alone

    async def dropped() -> tuple[list[Any], ConnectionClosedError]:
        conn = await connect(fake_server)
        seen: list[Any] = []
        async with conn:
            with contextlib.suppress(ConnectionClosedError):  # the drop may overtake sends
                await send(conn, pcm(2.0), 8000)
            with pytest.raises(ConnectionClosedError) as info:
                async for event in conn:
                    seen.append(event)
        return seen, info.value

    async def main() -> tuple[list[Any], ConnectionClosedError, list[Any]]:
        seen, exc = await dropped()
        conn = await connect(fake_server)
        async with conn:
            events = Events(conn)
            await send(conn, pcm(2.0), 8000)
            await conn.end_audio()
            await events.until("transcription.done")
        return seen, exc, events.seen

    seen, exc, second = asyncio.run(main())
    assert types_of(seen) == ["session.created"]
    assert exc.rcvd is None  # no close frame: an abnormal closure (1006)
    assert second[-1].type == "transcription.done"
    first, other = rt.wait_for_sessions(2)
    assert first.wait_closed().close_reason == "dropped"
    assert first.audio_seconds >= 1.0
    assert other.wait_closed().close_reason == "done"


def test_close_and_stop_end_open_sessions_quickly(
    fake_server: FakeMistral, rt: FakeRealtime
) -> None:
    async def closed_by_realtime() -> tuple[float, list[Any]]:
        conn = await connect(fake_server)
        async with conn:
            events = Events(conn)
            await events.until("session.created")
            start = time.monotonic()
            await asyncio.to_thread(rt.close)
            return time.monotonic() - start, await events.rest()

    took, rest = asyncio.run(closed_by_realtime())
    assert took < 1.0 and rest == []  # a 1001 close: the SDK's iteration just ends
    assert rt.sessions[0].wait_closed(1).close_reason == "closed"
    assert REALTIME_PATH not in fake_server.websocket_routes

    fake = FakeMistral().start()
    realtime = FakeRealtime(fake).install()

    async def stopped() -> float:
        conn = await connect(fake)
        async with conn:
            await Events(conn).until("session.created")
            start = time.monotonic()
            await asyncio.to_thread(fake.stop)
            took = time.monotonic() - start
            with pytest.raises(ConnectionClosedError):  # no close frame made it out
                await conn.send_audio(pcm(0.1))
                await Events(conn).rest()
            return took

    try:
        assert asyncio.run(stopped()) < 2.0
        assert realtime.sessions[0].wait_closed(2).close_reason == "stopped"
    finally:
        realtime.close(timeout=1)
        fake.stop()
