"""Decoding in blocks: a reader that never seeks where seeking is inexact, mono blocks,
streaming resampling to 16 kHz (soxr). numpy, soundfile and soxr are imported lazily.

Opening a file (and :func:`~voxcli.audio.probe.probe`'s ``sf.info`` of what may be an MP3),
and every later call into libmpg123 (read, seek, close of an MP3) runs inside
:func:`decoder_stderr`, which keeps libmpg123's complaints
("Warning: Xing stream size off...") off the terminal and out of cron mail: see there.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcli.audio.probe import NO_SEEK_FORMATS, TARGET_RATE
from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf

_RESAMPLE_QUALITY = "HQ"  # 20-bit soxr filter: far beyond 16-bit speech needs
CHATTY_FORMATS = frozenset({"MP3"})
"""Formats whose decoder prints to stderr (libmpg123); libsndfile, libFLAC, libvorbis and
libopus report errors to their caller only."""


@functools.cache
def reader_class() -> type[sf.SoundFile]:
    """A SoundFile that treats MP3 and OGG as unseekable, so reads never seek, and whose
    calls into the decoder have their stderr captured."""
    import soundfile as sf

    class StreamReader(sf.SoundFile):
        _chatty = False  # only libmpg123 prints; WAV, FLAC, OGG reads go uncaptured

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            with decoder_stderr():
                super().__init__(*args, **kwargs)
            self._chatty = self.format in CHATTY_FORMATS

        def seekable(self) -> bool:
            return self.format not in NO_SEEK_FORMATS and super().seekable()

        def read(self, *args: Any, **kwargs: Any) -> Any:
            if not self._chatty:
                return super().read(*args, **kwargs)
            with decoder_stderr():
                return super().read(*args, **kwargs)

        def seek(self, *args: Any, **kwargs: Any) -> int:
            if not self._chatty:
                return super().seek(*args, **kwargs)
            with decoder_stderr():
                return super().seek(*args, **kwargs)

        def close(self) -> None:
            if not self._chatty:
                return super().close()
            with decoder_stderr():
                super().close()

    return StreamReader


def open_reader(path: Path, track: int | None = None) -> sf.SoundFile:
    """Open ``path``'s audio stream ``track`` (from 0; None: the first) for block reading:
    libsndfile for WAV, FLAC, OGG and its other PCM formats (one stream each); PyAV for
    MP3 (libsndfile stops short on a VBR MP3 without a Xing header) and for everything
    libsndfile cannot read (M4A, AAC, WebM, video...). InputError if neither can,
    :class:`~voxcli.audio.media.NoSuchTrack` if the stream does not exist."""
    import soundfile as sf

    from voxcli.audio.media import MediaReader, NoSuchTrack, no_such_track

    try:
        reader = reader_class()(os.fsencode(path))
    except (sf.SoundFileError, RuntimeError):
        reader = None
    if reader is not None and reader.format != "MP3":
        if track:
            reader.close()
            raise no_such_track(path, 1, track)
        return reader
    if reader is not None:
        reader.close()
    try:
        return MediaReader(path, track)  # reads like a SoundFile that cannot seek
    except NoSuchTrack:
        raise
    except InputError:
        raise InputError(
            f"{path} is not an audio file voxcli can read (or it is damaged)"
        ) from None


def skip_to(reader: sf.SoundFile, frame: int, buf: np.ndarray) -> None:
    """Position ``reader`` at ``frame``: seek where that is exact, else decode and discard."""
    if frame <= 0:
        return
    if reader.seekable():
        reader.seek(min(frame, reader.frames))
        return
    left = frame
    while left > 0:
        got = len(reader.read(min(left, len(buf)), dtype="float32", always_2d=True, out=buf))
        if got == 0:
            return
        left -= got


def mono_blocks(reader: sf.SoundFile, buf: np.ndarray, todo: int | None) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks from the reader's position, ``todo`` frames or to the end."""
    import numpy as np

    while todo is None or todo > 0:
        want = len(buf) if todo is None else min(len(buf), todo)
        data = reader.read(want, dtype="float32", always_2d=True, out=buf[:want])
        if len(data) == 0:
            return
        if todo is not None:
            todo -= len(data)
        if data.shape[1] == 1:
            yield data[:, 0]
        else:
            # Column by column: ndarray.mean(axis=1) over interleaved frames is ~25x slower.
            mono = data[:, 0].copy()
            for channel in range(1, data.shape[1]):
                mono += data[:, channel]
            mono *= np.float32(1.0 / data.shape[1])
            yield mono


def resampler(rate: int) -> Callable[[np.ndarray, bool], np.ndarray]:
    """Return ``resample(block, last) -> block`` converting ``rate`` to 16 kHz, streaming."""
    if rate == TARGET_RATE:
        return lambda block, last: block
    import soxr

    stream = soxr.ResampleStream(rate, TARGET_RATE, 1, dtype="float32", quality=_RESAMPLE_QUALITY)
    return lambda block, last: stream.resample_chunk(block, last=last)


# -- the decoders' stderr ------------------------------------------------------------------
#
# libmpg123 (inside libsndfile) prints warnings straight to file descriptor 2 with
# fprintf: "Warning: Xing stream size off by more than 1%...", "Note: Illegal
# Audio-MPEG-Header...". Python cannot silence that but at the descriptor level, and fd 2
# belongs to the whole process while several threads decode at once. So:
#
# - one capture for the process, counted: the first decoder call to start points fd 2 at
#   a pipe (a saved duplicate keeps the real stderr); the last one to finish asks for it
#   back and waits (bounded) until it is;
# - a thread reads the pipe line by line. voxcli's own lines, written by other threads
#   meanwhile, go on to the real stderr unchanged: they start with "voxcli" (every
#   Console message does) or carry terminal escapes or carriage returns (colour, the
#   progress display). Every other line is the decoder's: kept (bounded, each text once
#   per process) and handed, after fd 2 is restored, to the sink :func:`decoder_messages`
#   installed (``voxcli: warning: audio decoder: ...`` with ``--verbose``), else dropped;
# - order: the finishing thread writes a marker into the pipe; the reader, once it has
#   passed on everything before the marker and finds the pipe empty, restores fd 2
#   itself. So a line written into the pipe never comes out after a later line written
#   straight to the restored stderr (an error, then its hint);
# - the reader never writes to fd 2 itself, so a full pipe can never wait on itself, and
#   every wait on it is bounded.

_MAX_PENDING = 100
_DRAIN_SECONDS = 2.0
_CHATTER_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)?((warning|note|error|info)\s*:\s*)?", re.I)
_MARKER = b"\0voxcli: end of decoder capture\0"  # one write, shorter than PIPE_BUF: atomic


def _is_ours(line: bytes) -> bool:
    """voxcli's own output: its messages start with "voxcli"; displays use escapes."""
    return line.startswith(b"voxcli") or b"\x1b" in line or b"\r" in line or not line.strip()


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


def _pipe_is_empty(fd: int) -> bool:
    import select

    readable, _, _ = select.select([fd], [], [], 0)
    return not readable


class _Session:
    """fd 2 pointed at a pipe, and the thread reading it."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        with contextlib.suppress(Exception):
            sys.stderr.flush()  # what Python holds for the real stderr goes there first
        self.saved = os.dup(2)
        try:
            read, write = os.pipe()
        except OSError:
            os.close(self.saved)
            raise
        try:
            os.dup2(write, 2)
        except OSError:
            for fd in (read, write, self.saved):
                os.close(fd)
            raise
        os.close(write)  # fd 2 is now the pipe's only write end here
        self.read = read
        self.restored = threading.Event()
        self._handoff = threading.Lock()
        self._done = self._abandoned = False
        self.thread = threading.Thread(target=self._pump, name="voxcli-stderr", daemon=True)
        self.thread.start()

    def stop(self) -> list[str]:
        """Give fd 2 back, in order; return the decoder's lines."""
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            os.write(2, _MARKER)  # into the pipe: the reader restores fd 2 once past it
        if not self.restored.wait(_DRAIN_SECONDS):  # the real stderr is stuck: give up order
            self._restore()
        self.thread.join(_DRAIN_SECONDS)  # (a child process could hold the pipe: bounded)
        with self._handoff:  # the reader may still need the real stderr: it closes it then
            if self._done:
                os.close(self.saved)
            else:
                self._abandoned = True
        return list(self.pending)

    def _restore(self) -> None:
        with contextlib.suppress(OSError):  # (saved is ours and open until the handoff)
            os.dup2(self.saved, 2)  # drops the pipe's write end: the reader sees its end
        self.restored.set()

    def _pump(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self.read, 65536):
                buffer += chunk
                if self.restored.is_set() or _MARKER not in buffer:
                    buffer = self._lines(buffer)
                    continue
                before, _, after = buffer.partition(_MARKER)
                self._lines(before, final=True)
                buffer = self._lines(after)
                while not _pipe_is_empty(self.read):  # written after the marker: first
                    if not (chunk := os.read(self.read, 65536)):
                        break
                    buffer = self._lines(buffer + chunk.replace(_MARKER, b""))
                buffer = self._lines(buffer, final=True)
                self._restore()
            self._lines(buffer.replace(_MARKER, b""), final=True)
        except OSError:
            self._restore()
        finally:
            os.close(self.read)
            with self._handoff:
                self._done = True
                if self._abandoned:
                    os.close(self.saved)

    def _lines(self, data: bytes, *, final: bool = False) -> bytes:
        """Handle ``data``'s complete lines (all of it if ``final``); return the rest."""
        *lines, rest = data.split(b"\n")
        for line in lines:
            self._line(line, b"\n")
        if final or (rest and b"\0" not in rest and (_is_ours(rest) or len(rest) > 65536)):
            if rest:  # a prompt or a progress frame: pass it on now (not half a marker)
                self._line(rest, b"")
            rest = b""
        return rest

    def _line(self, line: bytes, end: bytes) -> None:
        if _is_ours(line):
            _write_all(self.saved, line + end)
        elif len(self.pending) < _MAX_PENDING:
            text = _CHATTER_PREFIX.sub("", line.decode("utf-8", "replace").strip(), count=1)
            if text:
                self.pending.append(text)


class _DecoderStderr:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._session: _Session | None = None
        self._sinks: list[Callable[[str], None]] = []
        self._said: set[str] = set()

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                try:
                    self._session = _Session()
                except OSError:  # no fd 2, no descriptors left: decode uncaptured
                    self._session = None
            self._depth += 1
        try:
            yield
        finally:
            lines: list[str] = []
            with self._lock:
                self._depth = max(0, self._depth - 1)  # (0 already after a shutdown)
                if self._depth == 0 and self._session is not None:
                    session, self._session = self._session, None
                    lines = session.stop()
                sink = self._sinks[-1] if self._sinks else None
                lines = [line for line in lines if line not in self._said]
                if len(self._said) < 4096:
                    self._said.update(lines)
            if sink is not None:
                for line in lines:
                    sink(f"audio decoder: {line}")

    def shutdown(self) -> None:
        """At exit: give fd 2 back even if a decoder thread was abandoned mid-call (a
        stopped run), so the last messages reach the real stderr."""
        if not self._lock.acquire(timeout=_DRAIN_SECONDS):
            return
        try:
            session, self._session = self._session, None
            self._depth = 0
        finally:
            self._lock.release()
        if session is not None:
            session.stop()

    @contextlib.contextmanager
    def messages_to(self, sink: Callable[[str], None] | None) -> Iterator[None]:
        with self._lock:
            self._sinks.append(sink or _drop)
        try:
            yield
        finally:
            with self._lock:
                self._sinks.remove(sink or _drop)


def _drop(message: str) -> None:
    """Decoder lines nobody asked to see."""


_DECODER_STDERR = _DecoderStderr()
atexit.register(_DECODER_STDERR.shutdown)


def decoder_stderr() -> contextlib.AbstractContextManager[None]:
    """Capture what the decoders print on fd 2 for the duration (see above)."""
    return _DECODER_STDERR.capture()


def decoder_messages(sink: Callable[[str], None] | None) -> contextlib.AbstractContextManager[None]:
    """Send the decoders' lines to ``sink`` (e.g. ``console.warn`` with ``--verbose``) for
    the duration; None (the default outside it) drops them."""
    return _DECODER_STDERR.messages_to(sink)
