"""Audio inputs of ``voxcli live``: the microphone, stdin, a file or a URL.

Each is an :class:`AudioSource`: it tells the session its PCM format up front, then
yields ~100 ms chunks of mono PCM cut on frame boundaries until its input ends, and
can be stopped from another thread. :func:`open_source` picks one from the command's
SOURCE argument:

- ``None``: the microphone (:mod:`voxcli.live.mic`), 16 kHz ``pcm_s16le``;
- ``"-"``: stdin. A WAV, FLAC or Ogg stream (recognised by its first bytes) is decoded
  as it arrives to 16 kHz ``pcm_s16le``; anything else is raw PCM passed through as
  declared by ``--encoding`` and ``--rate``;
- a path or an http(s) URL: decoded to 16 kHz ``pcm_s16le`` and played at ``pace``
  times real time (0: as fast as it is read).

``track`` (``--audio-track``) picks the audio stream of a file, a URL or a container on
stdin (WAV, FLAC and Ogg streams hold one); the microphone and raw PCM have none to pick.

Nothing here holds a whole input in memory: stdin and URLs are read on a thread into a
bounded queue, and libsndfile decodes from a window over that stream (see
:class:`StreamFile`). numpy, soundfile and soxr are imported when first needed.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import select
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from voxcli.errors import InputError, UsageError, VoxcliError
from voxcli.live.types import BYTES_PER_SAMPLE, ENCODINGS, PcmFormat

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf

CHUNK_SECONDS = 0.1
"""The length of the chunks a source yields."""
MIN_RATE = 8_000
MAX_RATE = 96_000
TARGET_FORMAT = PcmFormat("pcm_s16le", 16_000)
"""What decoded inputs and the microphone are converted to."""
SILENCE_DBFS = -100.0
"""The level reported for digital silence (and anything quieter)."""
PIECE_BYTES = 64 * 1024
"""The most one read of stdin or of a URL takes at a time."""
QUEUE_PIECES = 16
"""Pieces read ahead of the decoder at most (1 MiB)."""
POLL_SECONDS = 0.1
"""How often a waiting reader looks at the stop flag."""
URL_TIMEOUT = 30.0
"""Seconds a URL may take to connect or to send the next bytes."""
MAX_DOWNLOAD_BYTES = 512 * 1000 * 1000
"""The largest URL download (for formats that cannot be decoded as a stream)."""
CONTAINERS = {b"RIFF": "WAV", b"RF64": "WAV", b"fLaC": "FLAC", b"OggS": "OGG"}
"""First four bytes of the containers decoded from a stream."""

Clock = Callable[[], float]
Sleep = Callable[[float], object]


class AudioSource(Protocol):
    """Mono PCM from somewhere, in ~100 ms chunks."""

    @property
    def format(self) -> PcmFormat:
        """What the session is told the chunks are."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """Yield chunks (whole frames) as they become available; return at end of input."""
        ...

    def close(self) -> None:
        """Stop capturing or reading (from any thread); :meth:`chunks` then ends promptly."""
        ...

    @property
    def level_dbfs(self) -> float | None:
        """RMS level of the last chunk in dBFS, None before the first."""
        ...


# --------------------------------------------------------------------------- levels


@cache
def _g711_tables() -> dict[str, np.ndarray]:
    """Byte -> linear sample (16-bit scale) for mu-law and A-law (ITU-T G.711)."""
    import numpy as np

    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    mulaw = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    a = codes ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    linear = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    alaw = np.where(a & 0x80, linear, -linear)
    return {"pcm_mulaw": mulaw.astype(np.float64), "pcm_alaw": alaw.astype(np.float64)}


def pcm_to_float(data: bytes, encoding: str) -> np.ndarray:
    """Samples of mono PCM ``data`` as float64 in [-1, 1] (a partial last frame ignored)."""
    import numpy as np

    width = BYTES_PER_SAMPLE[encoding]
    data = data[: len(data) - len(data) % width]
    if encoding in ("pcm_mulaw", "pcm_alaw"):
        return _g711_tables()[encoding][np.frombuffer(data, dtype=np.uint8)] / 32768.0
    if encoding == "pcm_s16le":
        return np.frombuffer(data, dtype="<i2") / 32768.0
    if encoding == "pcm_s32le":
        return np.frombuffer(data, dtype="<i4") / 2147483648.0
    dtype = "<f2" if encoding == "pcm_f16le" else "<f4"
    samples = np.frombuffer(data, dtype=dtype).astype(np.float64)
    return np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)


def level_dbfs(data: bytes, encoding: str) -> float:
    """RMS level of mono PCM ``data`` in dBFS (a full-scale square wave is 0)."""
    import numpy as np

    samples = pcm_to_float(data, encoding)
    if not len(samples):
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(samples * samples)))
    if rms <= 10 ** (SILENCE_DBFS / 20):
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20 * math.log10(rms))


def float_to_s16(block: np.ndarray) -> bytes:
    """Float samples in [-1, 1) as ``pcm_s16le`` bytes (clipped; the inverse of libsndfile's
    16-bit to float, so 16-bit audio comes back unchanged)."""
    import numpy as np

    return np.clip(np.rint(block * 32768.0), -32768, 32767).astype("<i2").tobytes()


def chunk_bytes(fmt: PcmFormat) -> int:
    """Bytes in one chunk of ``fmt``: whole frames, about :data:`CHUNK_SECONDS` long."""
    return fmt.frame_bytes * max(1, round(fmt.sample_rate * CHUNK_SECONDS))


def check_raw_format(encoding: str, rate: int) -> PcmFormat:
    """The format ``--encoding``/``--rate`` declare; UsageError if the API cannot take it."""
    if encoding not in ENCODINGS:
        raise UsageError(
            f"--encoding {encoding!r} is not a PCM encoding the API accepts",
            hint=f"choose one of: {', '.join(ENCODINGS)}",
        )
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise UsageError(
            f"--rate must be a sample rate from {MIN_RATE} to {MAX_RATE} Hz (got {rate!r})"
        )
    return PcmFormat(encoding, rate)


# --------------------------------------------------------------------------- base


class _Source:
    """Shared by the sources here: the stop flag, the last chunk's level, cleanup."""

    def __init__(self, fmt: PcmFormat, name: str) -> None:
        self._format = fmt
        self.name = name
        self._stop = threading.Event()
        self._last = b""
        self._level: tuple[bytes, float] | None = None
        self._lock = threading.Lock()
        self._released = False
        self._iterating = False
        self._cleanups: list[Callable[[], None]] = []

    @property
    def format(self) -> PcmFormat:
        return self._format

    @property
    def level_dbfs(self) -> float | None:
        last = self._last
        if not last:
            return None
        cached = self._level
        if cached is not None and cached[0] is last:
            return cached[1]
        value = level_dbfs(last, self._format.encoding)
        self._level = (last, value)
        return value

    def _emit(self, chunk: bytes) -> bytes:
        self._last = chunk
        return chunk

    def close(self) -> None:
        """Stop; resources are released now, or by :meth:`chunks` if it is running."""
        self._stop.set()
        with self._lock:
            busy = self._iterating
        if not busy:
            self._release()

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
            cleanups, self._cleanups = self._cleanups, []
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        with self._lock:
            if self._iterating:
                raise RuntimeError(f"{self.name}: chunks() is already being iterated")
            self._iterating = True
        try:
            yield
        finally:
            with self._lock:
                self._iterating = False
            self._release()


# --------------------------------------------------------------------------- byte streams


class _Pump:
    """Reads a binary stream on a daemon thread into a bounded queue.

    The reader waits in :data:`POLL_SECONDS` slices and so notices ``stop`` at once;
    after a stop it still gets what was already read, then the end. A read error is
    raised to the reader as a VoxcliError.

    With ``wait_readable`` (stdin), the thread reads only once ``select`` says data is
    there, so it is never blocked inside the stream when the run ends: a thread blocked
    in ``sys.stdin.buffer`` holds its lock, and Python aborts if it needs that lock
    while shutting down. (Where ``select`` cannot watch the stream, reads just block.)
    """

    def __init__(
        self, stream: BinaryIO, stop: threading.Event, name: str, *, wait_readable: bool = False
    ) -> None:
        self._stream = stream
        self._stop = stop
        self._name = name
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=QUEUE_PIECES)
        self._done = False
        self._read: Callable[[int], bytes] = getattr(stream, "read1", None) or stream.read
        self._fd = _fileno(stream) if wait_readable else None
        self._thread = threading.Thread(target=self._run, name=f"voxcli-read-{name}", daemon=True)
        self._thread.start()

    def _readable(self) -> bool:
        """Wait up to :data:`POLL_SECONDS` for data; True when a read will not block long."""
        if self._fd is None:
            return True
        try:
            ready, _, _ = select.select([self._fd], [], [], POLL_SECONDS)
        except (OSError, ValueError):
            self._fd = None
            return True
        return bool(ready)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._readable():
                    continue
                piece = self._read(PIECE_BYTES)
                if not piece:
                    break
                self._put(bytes(piece))
        except Exception as exc:  # handed to the reader, which raises it as ours
            self._put(exc)
            return
        self._put(None)

    def _put(self, item: bytes | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def get(self) -> bytes:
        """The next piece; b"" at the end of the stream or once stopped and drained."""
        while not self._done:
            try:
                item = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._stop.is_set():
                    self._done = True
                continue
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                raise _read_error(self._name, item)
            else:
                return item
        return b""

    def head(self, size: int) -> bytes:
        """At least ``size`` bytes from the start (fewer only at the end of the stream)."""
        head = b""
        while len(head) < size:
            piece = self.get()
            if not piece:
                break
            head += piece
        return head


def _fileno(stream: object) -> int | None:
    try:
        return int(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def _read_error(name: str, exc: BaseException) -> VoxcliError:
    if isinstance(exc, TimeoutError):
        return VoxcliError(f"{name} stopped sending audio (no data for {URL_TIMEOUT:g} s)")
    if isinstance(exc, OSError):
        return VoxcliError(f"cannot read {name}: {exc.strerror or exc}")
    return VoxcliError(f"cannot read {name}: {exc}")


_FAKE_LENGTH = 1 << 60
"""The length a stream claims: "very long", so libsndfile never thinks it has ended."""
_KEEP_BEHIND = 1 << 20
"""Bytes kept behind the read position for libsndfile's backward seeks (FLAC's ~8 KiB)."""
_SKIP_AHEAD = 1 << 16
"""The farthest forward seek that is served by reading; farther ones fail (see below)."""


class StreamFile:
    """A read-only "file" over a stream, for soundfile's virtual I/O.

    libsndfile asks a file for its length, seeks back a little after reading ahead,
    and (for WAV and Ogg) tries to seek far forward to look at what follows the audio.
    This serves the first two from a window of the stream and makes the third fail
    cleanly, so decoding goes on from where the audio starts and never waits for the
    end of the stream:

    - the length is :data:`_FAKE_LENGTH` (libsndfile then reads until a read returns
      nothing; a FLAC stream of unknown length is handled the same way);
    - seeks land anywhere in the bytes kept (:data:`_KEEP_BEHIND` behind the position)
      or up to :data:`_SKIP_AHEAD` beyond what was read (by reading); any other seek
      returns -1, which libsndfile treats as "cannot seek there", and reads there
      return nothing until it seeks back.

    ``more()`` returns the stream's next bytes (b"" at its end).
    """

    def __init__(self, more: Callable[[], bytes], head: bytes = b"") -> None:
        self._more = more
        self._buf = bytearray(head)
        self._base = 0
        self._pos = 0
        self._eof = False

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        end = self._base + len(self._buf)
        if whence == os.SEEK_END:
            self._pos = _FAKE_LENGTH if offset == 0 else -1
            return self._pos
        if whence == os.SEEK_CUR:
            target = self._pos + offset if self._base <= self._pos <= end else -1
        else:
            target = offset
        if end < target <= end + _SKIP_AHEAD:
            self._fill(target - end)
            end = self._base + len(self._buf)
        self._pos = target if self._base <= target <= end else -1
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, fewer only at the end of the stream (like a file)."""
        end = self._base + len(self._buf)
        if not self._base <= self._pos <= end:
            return b""
        if size < 0:
            while not self._eof:
                self._fill(PIECE_BYTES)
            size = self._base + len(self._buf) - self._pos
        elif self._pos + size > end:
            self._fill(self._pos + size - end)
        start = self._pos - self._base
        data = bytes(self._buf[start : start + size])
        self._pos += len(data)
        # Drop what is far behind, in large steps so that trimming stays cheap.
        if self._pos - self._base > 2 * _KEEP_BEHIND:
            drop = self._pos - self._base - _KEEP_BEHIND
            del self._buf[:drop]
            self._base += drop
        return data

    def _fill(self, size: int) -> None:
        while size > 0 and not self._eof:
            piece = self._more()
            if not piece:
                self._eof = True
                break
            self._buf += piece
            size -= len(piece)


@cache
def _stream_reader_class() -> type[sf.SoundFile]:
    """A SoundFile that never seeks after a read (the stream cannot go back far)."""
    import soundfile as sf

    class StreamReader(sf.SoundFile):
        def seekable(self) -> bool:
            return False

    return StreamReader


def open_stream_reader(stream: StreamFile, name: str, container: str) -> sf.SoundFile:
    """Open a WAV, FLAC or Ogg stream for decoding; InputError if libsndfile cannot."""
    import soundfile as sf

    try:
        return _stream_reader_class()(stream)
    except (sf.SoundFileError, RuntimeError) as exc:
        detail = str(exc).split(": ", 1)[-1]
        raise InputError(
            f"{name}: the {container} stream cannot be decoded ({detail})",
            hint="send WAV, FLAC or Ogg (Vorbis/Opus), or raw PCM with --encoding and --rate",
        ) from None


# --------------------------------------------------------------------------- sources


class RawPcmSource(_Source):
    """Raw PCM from a stream, passed through unchanged in whole frames."""

    def __init__(self, pump: _Pump, fmt: PcmFormat, head: bytes, stop: threading.Event) -> None:
        super().__init__(fmt, "stdin")
        self._stop = stop
        self._pump = pump
        self._head = head

    def chunks(self) -> Iterator[bytes]:
        with self._running():
            size = chunk_bytes(self._format)
            frame = self._format.frame_bytes
            buf = bytearray(self._head)
            self._head = b""
            while True:
                while len(buf) >= size:
                    chunk = bytes(buf[:size])
                    del buf[:size]
                    yield self._emit(chunk)
                piece = self._pump.get()
                if not piece:
                    break
                buf += piece
            whole = len(buf) - len(buf) % frame  # a partial frame at the very end is dropped
            if whole:
                yield self._emit(bytes(buf[:whole]))


class _Pacer:
    """Holds chunks back so that audio goes out no faster than ``pace`` times real time."""

    def __init__(self, pace: float, clock: Clock, sleep: Sleep) -> None:
        self._pace = pace
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None

    def wait_for(self, audio_seconds: float) -> None:
        """Return once the chunk starting ``audio_seconds`` into the audio is due."""
        if self._pace <= 0:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        delay = self._start + audio_seconds / self._pace - now
        if delay > 0:
            self._sleep(delay)


class DecodedSource(_Source):
    """Audio decoded by soundfile, downmixed and resampled to 16 kHz ``pcm_s16le``.

    ``pace`` > 0 plays it at that many times real time (a file or URL), 0 as fast as
    it can be read (stdin, which runs at its own pace).
    """

    def __init__(
        self,
        reader: sf.SoundFile,
        name: str,
        *,
        pace: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        stop: threading.Event | None = None,
        cleanups: tuple[Callable[[], None], ...] = (),
    ) -> None:
        super().__init__(TARGET_FORMAT, name)
        if stop is not None:
            self._stop = stop
        self._reader = reader
        self._cleanups = [*cleanups, reader.close]
        self._pacer = _Pacer(pace, clock, sleep if sleep is not None else self._stop.wait)

    def chunks(self) -> Iterator[bytes]:
        import numpy as np
        import soundfile as sf

        from voxcli.audio.decode import mono_blocks, resampler

        with self._running():
            if self._stop.is_set():  # closed before it started: the reader is closed too
                return
            reader = self._reader
            rate = int(reader.samplerate)
            buf = np.empty((max(1, rate // 10), reader.channels), dtype=np.float32)
            resample = resampler(rate)
            size = chunk_bytes(TARGET_FORMAT)
            out = bytearray()
            sent = 0
            try:
                for mono in mono_blocks(reader, buf, None):
                    out += float_to_s16(resample(mono, False))
                    while len(out) >= size and not self._stop.is_set():
                        yield from self._paced(out, size, sent)
                        sent += size
                    if self._stop.is_set():
                        return
                out += float_to_s16(resample(np.zeros(0, np.float32), True))
                while out and not self._stop.is_set():
                    step = min(size, len(out))
                    yield from self._paced(out, step, sent)
                    sent += step
            except (sf.SoundFileError, RuntimeError) as exc:
                raise InputError(f"{self.name} could not be decoded ({exc})") from None

    def _paced(self, out: bytearray, size: int, sent: int) -> Iterator[bytes]:
        self._pacer.wait_for(sent / TARGET_FORMAT.bytes_per_second)
        if self._stop.is_set():
            return
        chunk = bytes(out[:size])
        del out[:size]
        yield self._emit(chunk)


# --------------------------------------------------------------------------- opening


def open_source(
    spec: str | None,
    *,
    encoding: str = "pcm_s16le",
    rate: int = 16_000,
    pace: float = 1.0,
    device: str | None = None,
    stdin: BinaryIO | None = None,
    temp_dir: Path | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    track: int | None = None,
) -> AudioSource:
    """The source SOURCE names: None the microphone, ``-`` stdin, else a path or URL.

    ``encoding``/``rate`` describe raw PCM on stdin (checked); ``pace`` applies to files
    and URLs; ``device`` to the microphone; ``track`` to a file, URL or stdin container.
    ``clock``/``sleep`` are the pacing seam (``sleep`` defaults to an interruptible
    wait). Raises UsageError or InputError (exit 2) for what cannot be used, before any
    audio is sent.
    """
    if not (isinstance(pace, int | float) and math.isfinite(pace) and pace >= 0):
        raise UsageError(f"--pace must be 0 (no pacing) or a positive number (got {pace!r})")
    if spec is None:
        if track is not None:
            raise UsageError(
                "--audio-track picks an audio stream of a file, URL or stdin; the "
                "microphone has no streams to pick from"
            )
        from voxcli.live.mic import MicSource

        return MicSource(device)
    if device is not None:
        raise UsageError("--device picks a microphone: it cannot be used with a SOURCE")
    if spec == "-":
        if stdin is None:
            raise UsageError("no standard input to read audio from")
        return open_stdin(stdin, encoding=encoding, rate=rate, track=track)
    if spec.lower().startswith(("http://", "https://")):
        return open_url(spec, pace=pace, temp_dir=temp_dir, clock=clock, sleep=sleep, track=track)
    return open_file(Path(spec), pace=pace, clock=clock, sleep=sleep, track=track)


def open_stdin(
    stream: BinaryIO, *, encoding: str, rate: int, track: int | None = None
) -> AudioSource:
    """Raw PCM as declared, or a WAV/FLAC/Ogg stream recognised by its first bytes (one
    audio stream: ``track`` may only be 0; raw PCM takes no ``track``)."""
    from voxcli.audio.formats import sniff_suffix
    from voxcli.audio.media import no_such_track

    fmt = check_raw_format(encoding, rate)
    stop = threading.Event()
    pump = _Pump(stream, stop, "stdin", wait_readable=True)
    try:
        head = pump.head(12)
        if not head:
            raise InputError(
                "stdin is empty", hint="pipe audio into voxcli, e.g. arecord -f S16_LE -r 16000 |"
            )
        container = CONTAINERS.get(head[:4])
        if container is not None:
            if track:
                raise no_such_track("stdin", 1, track)
            reader = open_stream_reader(StreamFile(pump.get, head), "stdin", container)
            return DecodedSource(reader, "stdin", stop=stop)
        kind = sniff_suffix(head)
        if head[:3] == b"ID3" or kind in (".m4a", ".webm"):
            what = "MP3" if head[:3] == b"ID3" else kind.lstrip(".").upper() if kind else "?"
            raise InputError(
                f"stdin looks like {what}, which voxcli cannot decode as a stream",
                hint="convert it on the way in: "
                "ffmpeg -i - -f s16le -ar 16000 -ac 1 - | voxcli live -",
            )
        if track is not None:
            raise UsageError(
                "--audio-track picks an audio stream of a container; raw PCM on stdin "
                "has no streams to pick from",
                hint="drop --audio-track, or pipe in the container itself (WAV, FLAC, Ogg)",
            )
    except BaseException:
        stop.set()
        raise
    return RawPcmSource(pump, fmt, head, stop)


def open_file(
    path: Path,
    *,
    pace: float,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    track: int | None = None,
) -> AudioSource:
    """A local audio file (its audio stream ``track``; None: the first), decoded and
    played at ``pace``."""
    from voxcli.audio.decode import open_reader
    from voxcli.audio.probe import probe

    info = probe(path, track)
    if not info.decodable:
        raise InputError(
            f"{path} is {info.format}, which voxcli cannot decode for live streaming",
            hint=f"convert it first: ffmpeg -i {path} -ar 16000 -ac 1 out.wav",
        )
    reader = open_reader(path, info.track)
    return DecodedSource(reader, str(path), pace=pace, clock=clock, sleep=sleep)


def open_url(
    url: str,
    *,
    pace: float,
    temp_dir: Path | None,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    track: int | None = None,
) -> AudioSource:
    """Audio at an http(s) URL: WAV, FLAC and Ogg are decoded as they download (so an
    endless stream works); other formats are downloaded to ``temp_dir`` first (at most
    ``max_bytes``) and the file is removed when the source is closed. ``track``: its
    audio stream (None: the first)."""
    from voxcli.audio.formats import sniff_suffix
    from voxcli.audio.media import NoSuchTrack, no_such_track

    response = _http_get(url)
    stop = threading.Event()

    def abandon() -> None:
        stop.set()
        response.close()

    try:
        pump = _Pump(response, stop, url)
        head = pump.head(64)
        if not head:
            raise InputError(f"{url} sent no data")
        container = CONTAINERS.get(head[:4])
        if container is not None:
            if track:
                raise no_such_track(url, 1, track)
            reader = open_stream_reader(StreamFile(pump.get, head), url, container)
            return DecodedSource(
                reader, url, pace=pace, clock=clock, sleep=sleep, stop=stop, cleanups=(abandon,)
            )
        path = _download(pump, head, url, sniff_suffix(head) or ".bin", temp_dir, max_bytes)
    except BaseException:
        abandon()
        raise
    abandon()
    try:
        source = open_file(path, pace=pace, clock=clock, sleep=sleep, track=track)
    except NoSuchTrack as exc:  # named by the URL, not by the download's temporary file
        path.unlink(missing_ok=True)
        raise NoSuchTrack(exc.message.replace(str(path), url), exc.hint) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    assert isinstance(source, DecodedSource)
    source.name = url
    source._cleanups.append(lambda: path.unlink(missing_ok=True))
    return source


def _http_get(url: str) -> BinaryIO:
    """Open ``url`` (proxies from the environment, :data:`URL_TIMEOUT` per read)."""
    import urllib.error
    import urllib.request

    from voxcli import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"voxcli/{__version__}"})
    try:
        return urllib.request.urlopen(request, timeout=URL_TIMEOUT)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise InputError(
            f"{url} answered HTTP {exc.code} {exc.reason}", hint="check the URL"
        ) from None
    except urllib.error.URLError as exc:
        raise VoxcliError(f"cannot reach {url}: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise VoxcliError(f"cannot reach {url}: {exc}") from None


def _download(
    pump: _Pump, head: bytes, url: str, suffix: str, temp_dir: Path | None, max_bytes: int
) -> Path:
    """Copy the rest of ``pump`` after ``head`` to a new temporary file; at most ``max_bytes``."""
    fd, name = tempfile.mkstemp(prefix="voxcli-live-", suffix=suffix, dir=temp_dir)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = 0
            piece = head
            while piece:
                size += len(piece)
                if size > max_bytes:
                    raise InputError(
                        f"{url} is larger than {max_bytes:,} bytes",
                        hint="for an endless stream in this format, pipe it through ffmpeg: "
                        "ffmpeg -i URL -f s16le -ar 16000 -ac 1 - | voxcli live -",
                    )
                out.write(piece)
                piece = pump.get()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
