"""Probe a local file: is it audio voxcli can use, what format, how long; what to upload."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from voxcli.audio.formats import CONTAINER_NAMES, PASSTHROUGH_KINDS, sniff_suffix
from voxcli.audio.media import no_such_track
from voxcli.errors import InputError

TARGET_RATE = 16_000
"""Voxtral listens at 16 kHz mono; this is what the encoder writes."""

UPLOAD_MODES = ("auto", "original", "opus")

_LOSSY_FORMATS = frozenset({"MP3", "OGG"})  # already compact: re-encoding would only grow them
API_MEDIA_FORMATS = frozenset({"MP3", "OGG", "MP4", "WEBM", "AAC"})
"""Compressed containers the API accepts as they are (M4A is MP4)."""
NO_SEEK_FORMATS = frozenset({"MP3", "OGG"})
"""Seeking in these lands on the wrong samples (VBR MP3 via mpg123, OGG via libsndfile#794),
and python-soundfile re-seeks after *every* read of a seekable file, which garbles ~50 ms
after each block boundary. We read them as unseekable streams (see :mod:`.decode`)."""


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learned about a file.

    ``format``/``subtype`` are soundfile's names ("WAV", "PCM_16", ...), or for media
    decoded with PyAV (``media``: MP3, M4A/MP4, WebM, MKV, MOV, AVI, AAC, WMA, AMR...)
    the container's short name and the codec. ``video``: the file also holds video.
    ``decodable`` False: a container the API accepts that nothing here could decode
    (sent as it is; the sample fields are None). ``track``: the ``--audio-track`` asked
    for (None: the first audio stream), which every reader of the file opens;
    ``audio_streams``: how many the file has (libsndfile's formats: one).
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
    media: bool = False
    video: bool = False
    track: int | None = None
    audio_streams: int = 1


def probe(path: Path, track: int | None = None) -> AudioInfo:
    """Check that ``path`` is usable audio and describe it (its audio stream ``track``,
    counted from 0; None: the first); raise InputError if not, :class:`NoSuchTrack`
    (an InputError) if it has no such stream."""
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
    if info is None or info.format == "MP3":  # PyAV: any container, and MP3's true length
        media = _probe_with_av(path, track)
        if media is not None and info is not None:  # keep libsndfile's names for MP3
            return replace(media, format=info.format, subtype=info.subtype)
        if media is not None:
            return media
    if info is None:
        suffix = path.suffix.lower()
        if sniff_suffix(head) in PASSTHROUGH_KINDS.get(suffix, ()):
            if track is not None:  # sent as it is: the API would pick its own stream
                raise InputError(
                    f"{path}: voxcli cannot decode this {CONTAINER_NAMES[suffix]} file, so "
                    f"--audio-track {track} cannot pick one of its audio streams",
                    hint="drop --audio-track, or extract the stream first (ffmpeg -i IN "
                    f"-map 0:a:{track} -ac 1 -ar 16000 OUT.flac)",
                )
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
            hint="use an audio file (WAV, FLAC, MP3, OGG/Opus, M4A, AAC, WebM...) "
            "or a video with sound",
        )
    if info.frames <= 0 or info.samplerate <= 0:
        raise InputError(f"{path} contains no audio", hint="the file has 0 samples")
    if track:  # libsndfile's formats (WAV, FLAC, OGG...) hold one audio stream
        raise no_such_track(path, 1, track)
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
        track=track,
    )


def _probe_with_av(path: Path, track: int | None = None) -> AudioInfo | None:
    """The file as PyAV sees it; None if PyAV cannot open it either. A media file with no
    audio stream, or without the stream ``track``, is an InputError naming it."""
    from voxcli.audio.media import NoSuchTrack, probe_media

    try:
        media = probe_media(path, track)
    except NoSuchTrack:
        raise
    except InputError as exc:
        if "has no audio stream" in exc.message:
            raise
        return None
    if media.samplerate <= 0 or media.channels <= 0 or not media.duration:
        return None
    return AudioInfo(
        path=path,
        format=media.format_name,
        subtype=media.codec.upper(),
        samplerate=media.samplerate,
        channels=media.channels,
        frames=round(media.duration * media.samplerate),
        duration=media.duration,
        size=path.stat().st_size,
        decodable=True,
        media=True,
        video=media.has_video,
        track=track,
        audio_streams=media.audio_streams,
    )


def plan_upload(info: AudioInfo, mode: str) -> str:
    """Decide whether to send the file as is (``"original"``), as 16 kHz mono FLAC
    (``"reencode"``) or as 16 kHz mono Opus (``"opus"``).

    ``mode`` is a choice of ``--upload``: "original" (never re-encode), "opus" (lossy,
    several times smaller than FLAC, for slow links) or "auto" (re-encode uncompressed or
    lossless audio, FLAC that is not already 16 kHz mono, video and containers the API
    does not take; keep MP3, OGG, M4A, AAC and WebM audio as they are).

    A file with several audio streams is not sent as it is by ``auto`` (the API would
    pick one itself): its first stream, or the one chosen with ``--audio-track``, is
    re-encoded. With ``original`` a chosen stream is an InputError.
    """
    if mode not in UPLOAD_MODES:
        raise ValueError(f"unknown upload mode {mode!r}; expected one of {UPLOAD_MODES}")
    if picks_a_stream(info):
        if mode == "original":
            raise InputError(
                # (no path: for stdin it is the spool file; runs of several name the input)
                f"--upload original sends the file as it is, and with its {info.audio_streams} "
                f"audio streams the API picks one itself, not --audio-track {info.track}",
                hint="drop --upload original: the chosen stream is then sent as 16 kHz mono "
                "FLAC (or --upload opus)",
            )
        return "opus" if mode == "opus" else "reencode"
    if mode == "original":
        return "original"
    if info.audio_streams > 1 and info.decodable:  # the API could pick another stream
        return "opus" if mode == "opus" else "reencode"
    if mode == "opus":
        return "opus" if info.decodable else "original"
    if not info.decodable or info.format in _LOSSY_FORMATS:
        return "original"
    if info.media:  # compressed audio the API takes is kept; video and the rest re-encoded
        return "original" if not info.video and info.format in API_MEDIA_FORMATS else "reencode"
    if info.format == "FLAC":
        small = (info.samplerate or 0) <= TARGET_RATE and (info.channels or 0) <= 1
        return "original" if small else "reencode"
    # WAV, AIFF, W64, RF64, CAF, AU and libsndfile's other PCM formats: big, and
    # several of them are not formats the API accepts.
    return "reencode"


def picks_a_stream(info: AudioInfo) -> bool:
    """``--audio-track`` chose one of the file's several audio streams: only that stream,
    decoded and re-encoded, may be sent."""
    return info.track is not None and info.audio_streams > 1


def api_accepts(info: AudioInfo) -> bool:
    """Whether the API takes the file as it is (video, unusual containers, and a file
    with several audio streams: no)."""
    if info.audio_streams > 1:
        return False
    return not info.video and (not info.media or info.format in API_MEDIA_FORMATS)


def seeks_exactly(info: AudioInfo) -> bool:
    """True if a time range of this file can be read by seeking (not MP3/OGG, see above)."""
    return info.decodable and not info.media and info.format not in NO_SEEK_FORMATS
