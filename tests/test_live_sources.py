"""``voxcli live`` audio inputs: raw and container stdin on a real pipe, paced files,
URLs from a local HTTP server, and the microphone through a stand-in ``sounddevice``."""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf
from audio_factory import make_tone_wav

from voxcli.errors import InputError, UsageError, VoxcliError
from voxcli.live import mic
from voxcli.live.sources import (
    SILENCE_DBFS,
    TARGET_FORMAT,
    StreamFile,
    check_raw_format,
    chunk_bytes,
    level_dbfs,
    open_source,
    pcm_to_float,
)
from voxcli.live.types import PcmFormat

WRITER_GATE_SECONDS = 5.0


# --------------------------------------------------------------------------- helpers


@contextmanager
def pipe_feeding(
    data: bytes, *, piece: int = 4096, gate_at: int | None = None
) -> Iterator[tuple[Any, threading.Event, threading.Event]]:
    """A real pipe as stdin, written by a thread.

    With ``gate_at``, the writer stops after that many bytes until ``gate`` is set (by
    the test, once it has a chunk), or sets ``late`` after WRITER_GATE_SECONDS and goes
    on. Yields (the read end, gate, late).
    """
    read_fd, write_fd = os.pipe()
    gate = threading.Event()
    late = threading.Event()

    def feed() -> None:
        try:
            sent = 0
            while sent < len(data):
                if gate_at is not None and sent >= gate_at and not gate.is_set():
                    if not gate.wait(WRITER_GATE_SECONDS):
                        late.set()
                    gate.set()
                end = min(len(data), sent + piece)
                if gate_at is not None and sent < gate_at:
                    end = min(end, gate_at)
                os.write(write_fd, data[sent:end])
                sent = end
        except OSError:
            pass  # the reader went away
        finally:
            os.close(write_fd)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    with os.fdopen(read_fd, "rb") as stream:
        yield stream, gate, late
    thread.join(WRITER_GATE_SECONDS)


def tone(seconds: float, rate: int, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float64)


def encode(samples: np.ndarray, encoding: str) -> bytes:
    if encoding == "pcm_s16le":
        return np.rint(samples * 32767).astype("<i2").tobytes()
    if encoding == "pcm_s32le":
        return np.rint(samples * 2147483647).astype("<i4").tobytes()
    if encoding == "pcm_f32le":
        return samples.astype("<f4").tobytes()
    if encoding == "pcm_f16le":
        return samples.astype("<f2").tobytes()
    # G.711 mu-law, by the textbook formula (an independent encoder).
    ints = np.clip(np.rint(samples * 32767), -32635, 32635).astype(np.int32)
    sign = np.where(ints < 0, 0x80, 0)
    magnitude = np.abs(ints) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def s16_samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


class FakeClock:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def open_stdin(stream: Any, encoding: str = "pcm_s16le", rate: int = 16_000) -> Any:
    return open_source(
        "-", encoding=encoding, rate=rate, pace=1.0, device=None, stdin=stream, temp_dir=None
    )


# --------------------------------------------------------------------------- raw PCM


@pytest.mark.parametrize(
    ("encoding", "rate"),
    [("pcm_s16le", 16_000), ("pcm_f32le", 22_050), ("pcm_s32le", 44_100), ("pcm_mulaw", 8_000)],
)
def test_raw_pcm_passes_through_in_whole_frames(encoding: str, rate: int) -> None:
    fmt = PcmFormat(encoding, rate)  # type: ignore[arg-type]
    data = encode(tone(1.234, rate), encoding) + b"\x01"[: fmt.frame_bytes - 1]  # partial frame
    # Odd-sized writes split frames across reads; the source must carry them over.
    with pipe_feeding(data, piece=1001) as (stream, _, _):
        source = open_stdin(stream, encoding, rate)
        assert source.format == fmt
        chunks = list(source.chunks())
    whole = len(data) - len(data) % fmt.frame_bytes
    assert b"".join(chunks) == data[:whole]
    size = chunk_bytes(fmt)
    assert size == fmt.frame_bytes * round(rate / 10)
    assert all(len(c) == size for c in chunks[:-1])
    assert all(len(c) % fmt.frame_bytes == 0 and c for c in chunks)


def test_raw_pcm_level_follows_the_last_chunk() -> None:
    loud = encode(tone(0.1, 16_000, amplitude=0.5), "pcm_s16le")
    quiet = bytes(3200)
    with pipe_feeding(loud + quiet) as (stream, _, _):
        source = open_stdin(stream)
        assert source.level_dbfs is None
        levels = []
        for _ in source.chunks():
            levels.append(source.level_dbfs)
    assert levels[0] == pytest.approx(-9.03, abs=0.1)  # a 0.5 sine: RMS 0.354
    assert levels[1] == SILENCE_DBFS


@pytest.mark.parametrize("encoding", ["pcm_s16le", "pcm_s32le", "pcm_f16le", "pcm_f32le"])
def test_level_of_a_half_scale_sine_in_each_linear_encoding(encoding: str) -> None:
    assert level_dbfs(encode(tone(0.1, 16_000), encoding), encoding) == pytest.approx(
        -9.03, abs=0.05
    )


def test_g711_decoding_matches_an_independent_encoder() -> None:
    samples = tone(0.05, 8_000, amplitude=0.8)
    decoded = pcm_to_float(encode(samples, "pcm_mulaw"), "pcm_mulaw")
    assert np.max(np.abs(decoded - samples)) < 0.03  # mu-law's coarse steps near full scale
    assert pcm_to_float(b"\xd5", "pcm_alaw")[0] == pytest.approx(8 / 32768)  # A-law "zero"


@pytest.mark.parametrize(("encoding", "rate"), [("pcm_u8", 16_000), ("pcm_s16le", 4_000)])
def test_raw_format_is_checked(encoding: str, rate: int) -> None:
    with pytest.raises(UsageError):
        check_raw_format(encoding, rate)


def test_empty_stdin_is_an_input_error() -> None:
    with pipe_feeding(b"") as (stream, _, _), pytest.raises(InputError, match="stdin is empty"):
        open_stdin(stream)


def test_mp3_on_stdin_is_refused_with_a_conversion_hint(mp3_file: Path) -> None:
    tagged = b"ID3\x04\x00\x00\x00\x00\x00\x00" + mp3_file.read_bytes()[:8192]
    with pipe_feeding(tagged) as (stream, _, _), pytest.raises(InputError) as info:
        open_stdin(stream)
    assert "ffmpeg" in (info.value.hint or "")


def test_close_from_another_thread_ends_a_waiting_stdin_promptly() -> None:
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(read_fd, "rb") as stream:
            os.write(write_fd, bytes(4000))  # one chunk and a bit; then the pipe stays open
            source = open_stdin(stream)
            got: list[bytes] = []
            finished = threading.Event()

            def consume() -> None:
                got.extend(source.chunks())
                finished.set()

            threading.Thread(target=consume, daemon=True).start()
            time.sleep(0.2)
            assert not finished.is_set()
            started = time.monotonic()
            source.close()
            assert finished.wait(2.0)
            assert time.monotonic() - started < 1.0
    finally:
        os.close(write_fd)
    # What was already read is still delivered, in whole frames.
    assert b"".join(got) == bytes(4000)


# --------------------------------------------------------------------------- containers


@pytest.mark.parametrize(
    ("suffix", "subtype", "channels", "seconds"),
    [
        (".wav", "PCM_16", 2, 4.0),
        (".flac", "PCM_16", 1, 4.0),
        (".ogg", "VORBIS", 1, 20.0),  # long enough for its headers to be a small part
        (".wav", "FLOAT", 1, 4.0),
    ],
)
def test_container_on_a_pipe_is_decoded_as_it_arrives(
    tmp_path: Path, suffix: str, subtype: str, channels: int, seconds: float
) -> None:
    path = make_tone_wav(
        tmp_path / f"in{suffix}", seconds, samplerate=44_100, channels=channels, subtype=subtype
    )
    data = path.read_bytes()
    # The writer sends 40 % of the file, then waits until the test has a chunk.
    with pipe_feeding(data, gate_at=len(data) * 2 // 5) as (stream, gate, late):
        source = open_stdin(stream, encoding="pcm_f32le", rate=8000)  # ignored for containers
        assert source.format == TARGET_FORMAT
        chunks = []
        for chunk in source.chunks():
            gate.set()
            chunks.append(chunk)
    assert not late.is_set(), "no chunk came before the whole input was written"
    assert all(len(c) == 3200 for c in chunks[:-1])
    samples = s16_samples(b"".join(chunks))
    assert len(samples) == pytest.approx(seconds * 16_000, abs=64)
    peak = peak_hz(samples[1600:17600], 16_000)
    if channels == 1:
        assert peak == pytest.approx(440, abs=2)
        assert source.level_dbfs == pytest.approx(-9.03, abs=0.3)
    else:  # channel 2 plays 880 Hz: the downmix holds both at half amplitude
        assert min(abs(peak - 440), abs(peak - 880)) < 2


def test_a_streamed_wav_header_without_sizes_plays_to_the_end(tmp_path: Path) -> None:
    # What ffmpeg writes to a pipe: RIFF and data sizes 0xFFFFFFFF.
    data = bytearray(make_tone_wav(tmp_path / "a.wav", 1.0, samplerate=16_000).read_bytes())
    data[4:8] = b"\xff\xff\xff\xff"
    data[40:44] = b"\xff\xff\xff\xff"
    with pipe_feeding(bytes(data)) as (stream, _, _):
        out = b"".join(open_stdin(stream).chunks())
    assert out == bytes(data[44:])  # 16 kHz mono 16-bit: decoding is the identity


def test_stream_file_serves_short_seeks_and_refuses_far_ones() -> None:
    pieces = iter([b"abcdef", b"ghij", b""])
    stream = StreamFile(lambda: next(pieces, b""), head=b"")
    assert stream.seek(0, os.SEEK_END) == 1 << 60  # a length that never ends
    assert stream.seek(0) == 0
    assert stream.read(4) == b"abcd"
    assert stream.seek(1) == 1 and stream.read(2) == b"bc"  # back within the window
    assert stream.seek(10**9, os.SEEK_CUR) == -1  # far ahead: refused, not read
    assert stream.read(3) == b""
    assert stream.seek(8) == 8 and stream.read(10) == b"ij"  # short skip: read through


# --------------------------------------------------------------------------- files


def test_file_at_pace_one_is_never_ahead_of_real_time(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "a.flac", 2.0, samplerate=48_000, channels=2)
    fake = FakeClock()
    source = open_source(
        str(path), pace=1.0, stdin=None, temp_dir=tmp_path, clock=fake.clock, sleep=fake.sleep
    )
    start = fake.now
    sent = 0.0
    for chunk in source.chunks():
        assert fake.now - start >= sent - 1e-9  # this chunk's audio starts no later than now
        sent += len(chunk) / TARGET_FORMAT.bytes_per_second
    assert sent == pytest.approx(2.0, abs=0.01)
    assert fake.now - start == pytest.approx(1.9, abs=0.01)  # the last chunk starts at 1.9 s
    assert fake.sleeps


def test_file_at_pace_two_takes_half_the_time(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "a.wav", 2.0)
    fake = FakeClock()
    source = open_source(str(path), pace=2.0, clock=fake.clock, sleep=fake.sleep)
    start = fake.now
    assert sum(len(c) for c in source.chunks()) == 64_000
    assert fake.now - start == pytest.approx(0.95, abs=0.01)


def test_file_at_pace_zero_never_sleeps(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "a.ogg", 1.0, samplerate=22_050, subtype="VORBIS")
    fake = FakeClock()
    source = open_source(str(path), pace=0, clock=fake.clock, sleep=fake.sleep)
    out = b"".join(source.chunks())
    assert fake.sleeps == []
    assert len(out) == pytest.approx(32_000, abs=128)
    assert peak_hz(s16_samples(out)[1600:14400], 16_000) == pytest.approx(440, abs=2)


def test_close_interrupts_a_paced_file(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "a.wav", 30.0)
    source = open_source(str(path), pace=1.0)
    timer = threading.Timer(0.3, source.close)
    timer.start()
    started = time.monotonic()
    count = sum(1 for _ in source.chunks())
    assert time.monotonic() - started < 1.5
    assert 1 <= count <= 10


@pytest.mark.parametrize(
    ("spec", "kwargs", "error"),
    [
        ("missing.wav", {}, InputError),
        ("-", {"stdin": None}, UsageError),
        ("a.wav", {"device": "1"}, UsageError),
        ("a.wav", {"pace": -1.0}, UsageError),
        ("a.wav", {"pace": float("nan")}, UsageError),
    ],
)
def test_unusable_sources_are_refused_before_any_audio(
    tmp_path: Path, spec: str, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    make_tone_wav(tmp_path / "a.wav", 0.5)
    args: dict[str, Any] = {"stdin": None, "pace": 1.0, **kwargs}
    with pytest.raises(error):
        open_source(str(tmp_path / spec) if spec != "-" else spec, **args)


def test_text_file_is_not_audio(not_audio_file: Path) -> None:
    with pytest.raises(InputError, match="not an audio file"):
        open_source(str(not_audio_file), pace=0)


# --------------------------------------------------------------------------- URLs


@contextmanager
def http_server(files: dict[str, bytes]) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_url_in_a_stream_format_is_decoded_while_downloading(tmp_path: Path) -> None:
    body = make_tone_wav(tmp_path / "a.flac", 1.5, samplerate=32_000).read_bytes()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with http_server({"/a.flac": body}) as base:
        source = open_source(f"{base}/a.flac", pace=0, temp_dir=scratch)
        out = b"".join(source.chunks())
    assert len(out) == pytest.approx(48_000, abs=128)
    assert list(scratch.iterdir()) == []  # nothing spooled


def test_url_in_another_format_is_downloaded_then_removed(tmp_path: Path, mp3_file: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with http_server({"/speech.mp3": mp3_file.read_bytes()}) as base:
        source = open_source(f"{base}/speech.mp3", pace=0, temp_dir=scratch)
        assert len(list(scratch.iterdir())) == 1
        out = b"".join(source.chunks())
    assert len(out) / TARGET_FORMAT.bytes_per_second == pytest.approx(2.8, abs=0.3)
    assert list(scratch.iterdir()) == []


def test_url_errors(tmp_path: Path, mp3_file: Path) -> None:
    from voxcli.live.sources import open_url

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with http_server({"/speech.mp3": mp3_file.read_bytes()}) as base:
        with pytest.raises(InputError, match="404"):
            open_source(f"{base}/nothing.wav", pace=0, temp_dir=scratch)
        with pytest.raises(InputError, match="larger than"):
            open_url(f"{base}/speech.mp3", pace=0, temp_dir=scratch, max_bytes=10_000)
    assert list(scratch.iterdir()) == []
    with pytest.raises(VoxcliError, match="cannot reach"):
        open_source("http://127.0.0.1:9/a.wav", pace=0, temp_dir=scratch)


# --------------------------------------------------------------------------- microphone


class FakePortAudioError(Exception):
    pass


class FakeRawInputStream:
    """Plays ``feed`` (int16 frames) through the callback, a block at a time, on a thread."""

    instances: ClassVar[list[FakeRawInputStream]] = []
    feed: ClassVar[np.ndarray] = np.zeros((0, 1), dtype=np.int16)

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.started = self.stopped = self.closed = False
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        FakeRawInputStream.instances.append(self)

    def start(self) -> None:
        self.started = True
        self._thread.start()

    def _run(self) -> None:
        block = self.kwargs["blocksize"]
        callback: Callable[..., None] = self.kwargs["callback"]
        for first in range(0, len(self.feed), block):
            if self._halt.is_set():
                return
            data = np.ascontiguousarray(self.feed[first : first + block])
            callback(memoryview(data.tobytes()), len(data), None, 0)
            time.sleep(0.001)

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self.stopped = True

    def close(self) -> None:
        self.closed = True


def fake_sounddevice(supported_rates: dict[int, set[int]]) -> Any:
    """A stand-in ``sounddevice`` module with an output, a 48 kHz USB mic and an array mic."""
    devices = [
        {"name": "Speakers", "index": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
        {"name": "USB Mic", "index": 1, "max_input_channels": 1, "default_samplerate": 48000.0},
        {"name": "Array Mic", "index": 2, "max_input_channels": 4, "default_samplerate": 16000.0},
    ]

    class Module:
        PortAudioError = FakePortAudioError
        RawInputStream = FakeRawInputStream

        class default:
            device = (2, 0)

        @staticmethod
        def query_devices() -> list[dict[str, Any]]:
            return devices

        @staticmethod
        def check_input_settings(**kwargs: Any) -> None:
            device = kwargs["device"] if kwargs["device"] is not None else 2
            if kwargs["samplerate"] not in supported_rates.get(device, set()):
                raise FakePortAudioError("Invalid sample rate")

    FakeRawInputStream.instances = []
    return Module


@pytest.fixture
def sounddevice(mocker: Any) -> Any:
    module = fake_sounddevice({1: {48_000}, 2: {16_000, 48_000}})
    mocker.patch.dict(sys.modules, {"sounddevice": module})
    return module


def collect_until_closed(source: Any, chunk_count: int) -> list[bytes]:
    got = []
    for chunk in source.chunks():
        got.append(chunk)
        if len(got) == chunk_count:
            source.close()
    return got


def test_list_input_devices(sounddevice: Any) -> None:
    assert mic.list_input_devices() == [(1, "USB Mic", 1, 48000.0), (2, "Array Mic", 4, 16000.0)]
    assert mic.default_input_device() == 2


@pytest.mark.parametrize(
    ("spec", "expected"), [(None, None), ("1", 1), ("usb", 1), ("ARRAY MIC", 2), (" 2 ", 2)]
)
def test_device_by_name_or_index(sounddevice: Any, spec: str | None, expected: int | None) -> None:
    assert mic.resolve_device(spec, mic.list_input_devices()) == expected


@pytest.mark.parametrize(
    ("spec", "message"), [("0", "not an input"), ("mic", "several"), ("x", "no input")]
)
def test_bad_device_is_a_usage_error(sounddevice: Any, spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        mic.resolve_device(spec, mic.list_input_devices())
    assert info.value.hint


def test_microphone_at_16k_passes_blocks_through(sounddevice: Any) -> None:
    samples = np.rint(tone(1.0, 16_000) * 32767).astype(np.int16).reshape(-1, 1)
    FakeRawInputStream.feed = samples
    source = open_source(None, device=None, pace=1.0, stdin=None)
    assert source.format == TARGET_FORMAT
    stream = FakeRawInputStream.instances[-1]
    assert stream.kwargs["samplerate"] == 16_000
    assert stream.kwargs["channels"] == 1
    assert stream.kwargs["dtype"] == "int16"
    assert stream.kwargs["device"] is None
    got = collect_until_closed(source, 10)
    assert b"".join(got) == samples.tobytes()
    assert all(len(c) == 3200 for c in got)
    assert stream.stopped and stream.closed
    assert source.level_dbfs == pytest.approx(-9.03, abs=0.1)


def test_microphone_that_cannot_do_16k_is_resampled(sounddevice: Any) -> None:
    FakeRawInputStream.feed = np.rint(tone(1.0, 48_000) * 32767).astype(np.int16).reshape(-1, 1)
    source = open_source(None, device="USB", pace=1.0, stdin=None)
    stream = FakeRawInputStream.instances[-1]
    assert (stream.kwargs["samplerate"], stream.kwargs["device"]) == (48_000, 1)
    got = collect_until_closed(source, 9)
    out = s16_samples(b"".join(got))
    assert len(out) == pytest.approx(16_000, abs=32)
    assert peak_hz(out[800:15200], 16_000) == pytest.approx(440, abs=2)


def test_microphone_drops_and_counts_audio_beyond_its_queue(sounddevice: Any) -> None:
    FakeRawInputStream.feed = np.zeros((16_000, 1), dtype=np.int16)
    source = mic.MicSource(queue_seconds=0.2)  # two blocks
    stream = FakeRawInputStream.instances[-1]
    stream._thread.join(5)  # all ten blocks offered while nobody reads
    assert source.dropped_seconds == pytest.approx(0.8)
    source.close()
    assert len(list(source.chunks())) == 2  # what was kept is still delivered


def test_microphone_error_when_opening(sounddevice: Any, mocker: Any) -> None:
    mocker.patch.object(FakeRawInputStream, "start", side_effect=FakePortAudioError("busy"))
    with pytest.raises(InputError, match="cannot open the microphone: busy"):
        mic.MicSource()


def test_missing_sounddevice_says_what_to_install(mocker: Any) -> None:
    mocker.patch.dict(sys.modules, {"sounddevice": None})
    with pytest.raises(UsageError) as info:
        open_source(None, pace=1.0)
    assert "voxcli[mic]" in (info.value.hint or "")
    assert info.value.exit_code == 2


def test_missing_portaudio_says_what_to_install(
    tmp_path: Path, mocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sounddevice itself raises OSError('PortAudio library not found') on import.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mocker.patch.dict(sys.modules)
    sys.modules.pop("sounddevice", None)
    with pytest.raises(UsageError, match="PortAudio") as info:
        mic.list_input_devices()
    assert "libportaudio2" in (info.value.hint or "")
    assert "portaudio" in (info.value.hint or "")


def test_wav_written_by_soundfile_matches_pass_through(tmp_path: Path) -> None:
    # Sanity of the helpers above: a 16 kHz mono PCM_16 WAV decodes to its own samples.
    path = make_tone_wav(tmp_path / "a.wav", 0.5)
    data, rate = sf.read(path, dtype="int16")
    out = b"".join(open_source(str(path), pace=0).chunks())
    assert rate == 16_000 and out == data.tobytes()
