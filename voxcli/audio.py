"""Everything that touches audio samples: probe, re-encode, trim, split, spool stdin.

This is the only module that uses soundfile, numpy and soxr, and it imports them
inside the functions that need them, so ``voxcli --help`` (and ``import
voxcli.audio``) stays fast. Everything streams in blocks: memory stays flat
however long the recording is.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf

TARGET_RATE = 16_000
"""Voxtral listens at 16 kHz mono; this is what :func:`encode_flac_16k_mono` writes."""

UPLOAD_MODES = ("auto", "original")

_CHUNK = 1 << 20  # 1 MiB, for copying and hashing
_RESAMPLE_QUALITY = "HQ"  # 20-bit soxr filter: far beyond 16-bit speech needs
_LOSSY_FORMATS = frozenset({"MP3", "OGG"})  # already compact: re-encoding would only grow them
# Seeking in these lands on the wrong samples (VBR MP3 via mpg123, OGG via libsndfile#794),
# and python-soundfile re-seeks after *every* read of a seekable file, which garbles ~50 ms
# after each block boundary. We read them as unseekable streams; see _reader_class.
_NO_SEEK_FORMATS = frozenset({"MP3", "OGG"})
# Which sniffed kinds are plausible for each pass-through extension.
_PASSTHROUGH_KINDS = {
    ".m4a": frozenset({".m4a"}),
    ".mp4": frozenset({".m4a"}),
    ".webm": frozenset({".webm"}),
    ".aac": frozenset({".aac", ".mp3"}),  # ADTS, possibly behind an ID3 tag
}
PASSTHROUGH_SUFFIXES = frozenset(_PASSTHROUGH_KINDS)
"""Containers the API accepts but libsndfile cannot decode: sent as they are."""
_CONTAINER_NAMES = {".m4a": "MP4", ".mp4": "MP4", ".webm": "WEBM", ".aac": "AAC"}
_ISO_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"})


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learned about a file.

    ``format``/``subtype`` are soundfile's names ("WAV", "PCM_16", "MP3", ...) when
    ``decodable``; for a pass-through container ``format`` is "MP4", "WEBM" or "AAC"
    and the sample fields are None. MP3 frame counts are libsndfile's estimate (and
    libsndfile stops decoding there: a VBR MP3 without a Xing header may come up short).
    """

    path: Path
    format: str | None
    subtype: str | None
    samplerate: int | None
    channels: int | None
    frames: int | None
    duration: float | None
    size: int
    decodable: bool


@dataclass(frozen=True)
class EncodeResult:
    """A file written by :func:`encode_flac_16k_mono`."""

    path: Path
    bytes: int
    duration: float
    samplerate: int = TARGET_RATE
    channels: int = 1


# --- probing -------------------------------------------------------------------------------------


def probe(path: Path) -> AudioInfo:
    """Check that ``path`` is usable audio and describe it; raise InputError if not."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}", hint="check the path and its spelling") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be accessed ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path} is a directory", hint="pass audio files, not folders")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{path} is not a regular file", hint="to read from a pipe, pass '-' and use stdin"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except PermissionError:
        raise InputError(
            f"{path} is not readable (permission denied)", hint="check the file's permissions"
        ) from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror})") from None
    if st.st_size == 0:
        raise InputError(f"{path} is empty", hint="the file has 0 bytes")

    import soundfile as sf

    try:
        info = sf.info(os.fsencode(path))
    except (sf.SoundFileError, RuntimeError):
        info = None
    if info is None:
        suffix = path.suffix.lower()
        if _sniff_suffix(head) in _PASSTHROUGH_KINDS.get(suffix, ()):
            return AudioInfo(
                path=path,
                format=_CONTAINER_NAMES[suffix],
                subtype=None,
                samplerate=None,
                channels=None,
                frames=None,
                duration=None,
                size=st.st_size,
                decodable=False,
            )
        raise InputError(
            f"{path} is not an audio file voxcli can read (or it is damaged)",
            hint="use WAV, FLAC, MP3, OGG/Opus, or M4A/MP4/AAC/WebM (sent as is)",
        )
    if info.frames <= 0 or info.samplerate <= 0:
        raise InputError(f"{path} contains no audio", hint="the file has 0 samples")
    return AudioInfo(
        path=path,
        format=info.format,
        subtype=info.subtype,
        samplerate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration=info.frames / info.samplerate,
        size=st.st_size,
        decodable=True,
    )


def plan_upload(info: AudioInfo, mode: str) -> str:
    """Decide whether to send the file as is (``"original"``) or as 16 kHz mono FLAC.

    ``mode`` is "original" (never re-encode) or "auto" (re-encode uncompressed or
    lossless audio, and FLAC that is not already 16 kHz mono; keep MP3, OGG and
    pass-through containers), the choices of ``--upload``.
    """
    if mode == "original":
        return "original"
    if mode != "auto":
        raise ValueError(f"unknown upload mode {mode!r}; expected one of {UPLOAD_MODES}")
    if not info.decodable or info.format in _LOSSY_FORMATS:
        return "original"
    if info.format == "FLAC":
        small = (info.samplerate or 0) <= TARGET_RATE and (info.channels or 0) <= 1
        return "original" if small else "reencode"
    # WAV, AIFF, W64, RF64, CAF, AU and libsndfile's other PCM formats: big, and
    # several of them are not formats the API accepts.
    return "reencode"


def seeks_exactly(info: AudioInfo) -> bool:
    """True if a time range of this file can be read by seeking (not MP3/OGG, see above)."""
    return info.decodable and info.format not in _NO_SEEK_FORMATS


# --- re-encoding ---------------------------------------------------------------------------------


def encode_flac_16k_mono(
    src: Path,
    dest: Path,
    *,
    start: float = 0.0,
    end: float | None = None,
    block_seconds: float = 10.0,
) -> EncodeResult:
    """Write ``src[start:end]`` (seconds) to ``dest`` as 16 kHz mono 16-bit FLAC.

    Decodes, downmixes (mean of channels), resamples (soxr, streaming) and writes
    block by block, so memory does not grow with the file's length. ``end`` past
    the end of the audio is clamped to it.
    """
    if not (math.isfinite(start) and start >= 0):
        raise ValueError(f"start must be a finite number >= 0, not {start!r}")
    if end is not None and not end > start:
        raise ValueError(f"end ({end!r}) must be greater than start ({start!r})")
    if not block_seconds > 0:
        raise ValueError(f"block_seconds must be > 0, not {block_seconds!r}")

    import numpy as np
    import soundfile as sf

    src, dest = Path(src), Path(dest)
    reader = _open_reader(src)
    frames_in = frames_out = 0
    with reader:
        try:
            writer = sf.SoundFile(
                os.fsencode(dest),
                "w",
                samplerate=TARGET_RATE,
                channels=1,
                format="FLAC",
                subtype="PCM_16",
            )
        except (sf.SoundFileError, RuntimeError) as exc:
            raise OSError(f"cannot write {dest}: {exc}") from exc
        try:
            with writer:
                rate = reader.samplerate
                block = max(1, int(block_seconds * rate))
                buf = np.empty((block, reader.channels), dtype=np.float32)
                first = round(start * rate)
                todo = None if end is None else round(end * rate) - first
                _skip_to(reader, first, buf)
                resample = _resampler(rate)
                for mono in _mono_blocks(reader, buf, todo):
                    frames_in += len(mono)
                    frames_out += _write_clipped(writer, resample(mono, False))
                if frames_in:
                    frames_out += _write_clipped(writer, resample(np.zeros(0, np.float32), True))
        except sf.SoundFileError as exc:
            dest.unlink(missing_ok=True)
            raise InputError(f"{src} could not be decoded ({exc})") from None
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
    if frames_in == 0:
        dest.unlink(missing_ok=True)
        raise InputError(
            f"{src} has no audio after {start:g} s",
            hint="the start time is past the end of the recording",
        )
    return EncodeResult(path=dest, bytes=dest.stat().st_size, duration=frames_out / TARGET_RATE)


@functools.cache
def _reader_class() -> type[sf.SoundFile]:
    """A SoundFile that treats MP3 and OGG as unseekable, so reads never seek."""
    import soundfile as sf

    class StreamReader(sf.SoundFile):
        def seekable(self) -> bool:
            return self.format not in _NO_SEEK_FORMATS and super().seekable()

    return StreamReader


def _open_reader(path: Path) -> sf.SoundFile:
    """Open ``path`` for block reading; raise InputError if soundfile cannot."""
    import soundfile as sf

    try:
        return _reader_class()(os.fsencode(path))
    except (sf.SoundFileError, RuntimeError):
        raise InputError(
            f"{path} is not an audio file voxcli can read (or it is damaged)"
        ) from None


def _skip_to(reader: sf.SoundFile, frame: int, buf: np.ndarray) -> None:
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


def _mono_blocks(reader: sf.SoundFile, buf: np.ndarray, todo: int | None) -> Iterator[np.ndarray]:
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


def _resampler(rate: int) -> Callable[[np.ndarray, bool], np.ndarray]:
    """Return ``resample(block, last) -> block`` converting ``rate`` to 16 kHz, streaming."""
    if rate == TARGET_RATE:
        return lambda block, last: block
    import soxr

    stream = soxr.ResampleStream(rate, TARGET_RATE, 1, dtype="float32", quality=_RESAMPLE_QUALITY)
    return lambda block, last: stream.resample_chunk(block, last=last)


def _write_clipped(writer: sf.SoundFile, block: np.ndarray) -> int:
    """Clip to [-1, 1] ourselves rather than trust libsndfile's float-to-int; write; count."""
    import numpy as np

    if len(block):
        writer.write(np.clip(block, -1.0, 1.0))
    return len(block)


# --- splitting -----------------------------------------------------------------------------------


def iter_split_points(
    path: Path,
    part_seconds: float,
    *,
    search_seconds: float = 5.0,
    window_seconds: float = 0.05,
) -> Iterator[float]:
    """Yield cut times (seconds) that split ``path`` into parts of about ``part_seconds``,
    each as soon as the audio read decides it, so parts can be encoded and sent while the
    rest is still analysed.

    Each cut goes into the quietest stretch within ±``search_seconds`` of its target,
    ``part_seconds`` after the previous cut (the last two parts share what is left
    evenly, so there is no stub at the end). The RMS is taken over ``window_seconds``
    windows; quiet windows are those within ~6 dB of the minimum, and the cut is the
    centre of the longest run of them (nearest the target on a tie).

    Every part is at most ``part_seconds + search_seconds`` long and at least
    ``min(search_seconds, part_seconds / 2)``; a file no longer than the former has no cuts.
    Made for files whose frame count libsndfile knows exactly: decode MP3/OGG (whose
    counts are estimates) to FLAC first, as :mod:`voxcli.longform` does.
    """
    _check_split_args(part_seconds, search_seconds, window_seconds)

    import numpy as np

    with _open_reader(Path(path)) as reader:
        rate = reader.samplerate
        win = max(1, round(window_seconds * rate))
        hop = win / rate
        duration = reader.frames / rate
        env = np.zeros(math.ceil(reader.frames / win), dtype=np.float32)
        block = win * max(1, round(10 * rate / win))  # about 10 s, whole windows
        buf = np.empty((block, reader.channels), dtype=np.float32)
        filled = decoded = 0
        pos = 0.0
        window = _cut_window(pos, duration, part_seconds, search_seconds, hop, len(env))
        for mono in _mono_blocks(reader, buf, None):
            decoded += len(mono)
            whole = len(mono) // win * win
            count = min(whole // win, len(env) - filled)
            if count:
                squares = np.square(mono[: count * win]).reshape(-1, win).mean(axis=1)
                env[filled : filled + count] = np.sqrt(squares)
                filled += count
            if whole < len(mono) and filled < len(env):  # the last, partial window
                env[filled] = np.sqrt(np.square(mono[whole:]).mean())
                filled += 1
            while window is not None and window[-1] < filled:
                pos = _choose_cut(env, hop, *window)
                yield pos
                window = _cut_window(pos, duration, part_seconds, search_seconds, hop, len(env))
    if filled < len(env) or decoded != round(duration * rate):  # shorter than announced
        env, duration = env[:filled], decoded / rate
    while window := _cut_window(pos, duration, part_seconds, search_seconds, hop, len(env)):
        pos = _choose_cut(env, hop, *window)
        yield pos


def _check_split_args(part_seconds: float, search_seconds: float, window_seconds: float) -> None:
    if not part_seconds > 0:
        raise ValueError(f"part_seconds must be > 0, not {part_seconds!r}")
    if not search_seconds >= 0:
        raise ValueError(f"search_seconds must be >= 0, not {search_seconds!r}")
    if not window_seconds > 0:
        raise ValueError(f"window_seconds must be > 0, not {window_seconds!r}")


def _cut_window(
    pos: float, duration: float, part: float, search: float, hop: float, windows: int
) -> tuple[float, float, float, int, int] | None:
    """Where the cut after ``pos`` may go: (target, lo, hi, first window, last window),
    or None when what is left is one part."""
    rest = duration - pos
    if rest <= part + search:
        return None
    edge = min(search, part / 2)
    target = pos + (rest / 2 if rest <= 2 * part else part)
    lo = max(target - search, pos + edge)
    hi = min(target + search, duration - edge)
    # window i covers [i * hop, (i + 1) * hop); keep those whose centre is in [lo, hi]
    i_lo = max(0, math.ceil(lo / hop - 0.5))
    i_hi = min(windows - 1, math.floor(hi / hop - 0.5))
    return target, lo, hi, i_lo, i_hi


def _choose_cut(
    env: np.ndarray, hop: float, target: float, lo: float, hi: float, i_lo: int, i_hi: int
) -> float:
    """The centre of the longest quiet run of windows ``i_lo..i_hi``, kept in ``[lo, hi]``."""
    if i_lo > i_hi:
        cut = min(max(target, lo), hi)
    else:
        seg = env[i_lo : i_hi + 1]
        quiet = seg <= 2.0 * float(seg.min()) + 1e-5  # ~6 dB over the floor, or ~-100 dBFS
        run_start, run_end = _best_run(quiet, target / hop - 0.5 - i_lo)
        cut = (i_lo + (run_start + run_end) / 2 + 0.5) * hop
    return float(min(max(cut, lo), hi))


def _best_run(quiet: np.ndarray, target_index: float) -> tuple[int, int]:
    """Return (first, last) index of the longest run of True, the one nearest on a tie."""
    best: tuple[int, float, int, int] | None = None
    i, n = 0, len(quiet)
    while i < n:
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and quiet[j + 1]:
            j += 1
        key = (-(j - i + 1), abs((i + j) / 2 - target_index), i, j)
        if best is None or key < best:
            best = key
        i = j + 1
    assert best is not None  # the minimum is always quiet
    return best[2], best[3]


# --- stdin, temporary files, hashing -------------------------------------------------------------


def spool_stdin(stream: BinaryIO, dest_dir: Path | None = None) -> Path:
    """Copy binary ``stream`` to a temporary file named by its magic bytes; return its path.

    The caller deletes the file. Raises InputError if the stream is empty.
    """
    head = b""
    while len(head) < 64:
        chunk = stream.read(64 - len(head))
        if not chunk:
            break
        head += chunk
    if not head:
        raise InputError("stdin is empty", hint="pipe audio into voxcli, or pass a file path")
    suffix = _sniff_suffix(head) or ".bin"
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept past this function on purpose
        "wb", prefix="voxcli-stdin-", suffix=suffix, dir=dest_dir, delete=False
    )
    try:
        with tmp:
            tmp.write(head)
            while chunk := stream.read(_CHUNK):
                tmp.write(chunk)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return Path(tmp.name)


def _sniff_suffix(head: bytes) -> str | None:
    """Guess a file suffix from the first bytes of an audio file, or None."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return ".wav"
    if head[:4] == b"fLaC":
        return ".flac"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return ".aiff"
    if head[:4] == b"caff":
        return ".caf"
    if head[:4] == b".snd":
        return ".au"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm"
    if head[4:8] in _ISO_BOXES:
        return ".m4a"
    if head[:3] == b"ID3":
        return ".mp3"
    if head[:4] == b"ADIF":
        return ".aac"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # ADTS (AAC) has layer bits 00; MPEG audio layers I-III have 01..11
        return ".aac" if head[1] & 0x06 == 0 else ".mp3"
    return None


@contextmanager
def temp_audio_path(suffix: str, dir: Path | None = None) -> Iterator[Path]:
    """Yield the path of a new empty temporary file; remove it on exit, however we leave."""
    fd, name = tempfile.mkstemp(prefix="voxcli-", suffix=suffix, dir=dir)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def content_hash(path: Path) -> str:
    """Return the SHA-256 hex digest of the file's bytes (streamed in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
