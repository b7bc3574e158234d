"""Probe a local file: is it audio voxcli can use, what format, how long; what to upload."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from voxcli.audio.formats import CONTAINER_NAMES, PASSTHROUGH_KINDS, sniff_suffix
from voxcli.errors import InputError

TARGET_RATE = 16_000
"""Voxtral listens at 16 kHz mono; this is what the encoder writes."""

UPLOAD_MODES = ("auto", "original")

_LOSSY_FORMATS = frozenset({"MP3", "OGG"})  # already compact: re-encoding would only grow them
NO_SEEK_FORMATS = frozenset({"MP3", "OGG"})
"""Seeking in these lands on the wrong samples (VBR MP3 via mpg123, OGG via libsndfile#794),
and python-soundfile re-seeks after *every* read of a seekable file, which garbles ~50 ms
after each block boundary. We read them as unseekable streams (see :mod:`.decode`)."""


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

    from voxcli.audio.decode import decoder_stderr  # (decode imports this module)

    maybe_mp3 = sniff_suffix(head) == ".mp3" or path.suffix.lower() == ".mp3"
    try:
        # opening an MP3 is where libmpg123 complains most (other decoders never print)
        with decoder_stderr() if maybe_mp3 else contextlib.nullcontext():
            info = sf.info(os.fsencode(path))
    except (sf.SoundFileError, RuntimeError):
        info = None
    if info is None:
        suffix = path.suffix.lower()
        if sniff_suffix(head) in PASSTHROUGH_KINDS.get(suffix, ()):
            return AudioInfo(
                path=path,
                format=CONTAINER_NAMES[suffix],
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
    return info.decodable and info.format not in NO_SEEK_FORMATS
