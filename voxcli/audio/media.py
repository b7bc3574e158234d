"""Any media through PyAV (FFmpeg's libraries, bundled in the ``av`` wheels).

libsndfile reads WAV, FLAC, OGG and most MP3s well; everything else (M4A/AAC, video
containers, WMA, AMR, Opus in WebM) and MP3's true length come from here.
:func:`probe_media` describes a file's first (or chosen) audio stream and
:class:`MediaReader` decodes it in blocks through the same interface the rest of the
audio package reads soundfile with (``read(frames, dtype="float32", always_2d=True,
out=buf)``, ``samplerate``, ``channels``, ``frames``, never seeking), so splitting,
re-encoding and sampling work on any input. ``av`` and numpy are imported lazily.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class MediaInfo:
    """What PyAV learned about a file: its container, the audio stream used, and length."""

    container: str  # FFmpeg's short name: "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mp3"...
    codec: str  # "aac", "opus", "mp3", ...
    stream_index: int
    audio_streams: int
    has_video: bool
    samplerate: int
    channels: int
    duration: float | None  # seconds; None when the container does not say

    @property
    def format_name(self) -> str:
        """A short upper-case name for messages and :class:`~voxcli.audio.probe.AudioInfo`."""
        first = self.container.split(",")[0].upper()
        return {"MOV": "MP4", "MATROSKA": "MKV"}.get(first, first)


def _open(path: Path) -> Any:
    import av

    try:
        return av.open(os.fsdecode(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        raise InputError(f"{path} is not a media file voxcli can read (or it is damaged)") from None


class NoSuchTrack(InputError):
    """``--audio-track N`` names an audio stream the file does not have (exit 2)."""


def no_such_track(name: object, streams: int, track: int) -> NoSuchTrack:
    """The error for ``--audio-track track`` on ``name``, which has ``streams`` audio streams."""
    count = f"{streams} audio stream{'s' if streams != 1 else ''}"
    choice = "0" if streams == 1 else f"0 to {streams - 1}"
    return NoSuchTrack(
        f"{name} has {count}; --audio-track {track} does not exist",
        hint=f"audio streams count from 0: pick {choice}",
    )


def _audio_stream(container: Any, path: Path, track: int | None) -> Any:
    streams = list(container.streams.audio)
    if not streams:
        raise InputError(f"{path} has no audio stream", hint="check the file plays with sound")
    if track is None:
        return streams[0]
    if not 0 <= track < len(streams):
        raise no_such_track(path, len(streams), track)
    return streams[track]


def probe_media(path: Path, track: int | None = None) -> MediaInfo:
    """Describe ``path``'s audio stream (the first, or ``track``); InputError if there is
    none or the file cannot be read."""
    container = _open(path)
    try:
        stream = _audio_stream(container, path, track)
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif (tagged := _tagged_duration(stream.metadata)) is not None:
            duration = tagged  # Matroska: each track's own length (its streams have none)
        elif container.duration is not None:
            duration = container.duration / 1_000_000  # av.time_base: microseconds
        return MediaInfo(
            container=container.format.name,
            codec=stream.codec_context.name,
            stream_index=stream.index,
            audio_streams=len(container.streams.audio),
            has_video=bool(container.streams.video),
            samplerate=int(stream.codec_context.sample_rate or 0),
            channels=int(stream.codec_context.channels or 0),
            duration=duration,
        )
    finally:
        container.close()


def _tagged_duration(metadata: Any) -> float | None:
    """A stream's ``DURATION`` tag (``HH:MM:SS.nnnnnnnnn``, what FFmpeg and mkvmerge write
    for each Matroska track) in seconds; None when it is missing or unreadable."""
    try:
        hours, minutes, seconds = str(metadata.get("DURATION") or "").split(":")
        value = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except (AttributeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


class MediaReader:
    """Blocks of float32 samples of one audio stream, in order, like a soundfile reader
    that cannot seek. ``frames`` is the container's estimate (exact for most files)."""

    format = "MEDIA"

    def __init__(self, path: Path, track: int | None = None) -> None:
        import av
        import numpy as np

        self.path = Path(path)
        info = probe_media(self.path, track)
        if info.samplerate <= 0 or info.channels <= 0:
            raise InputError(f"{path}: the audio stream has no sample rate or channels")
        self.samplerate = info.samplerate
        self.channels = info.channels
        self.frames = round((info.duration or 0.0) * info.samplerate)
        self._container = _open(self.path)
        self._stream = self._container.streams.audio[0]
        for stream in self._container.streams.audio:
            if stream.index == info.stream_index:
                self._stream = stream
        # Planar float, the stream's own layout and rate: only the sample format changes.
        self._resampler = av.AudioResampler(format="fltp", layout=self._stream.layout, rate=None)
        self._frames_iter = self._decoded()
        self._pending = np.zeros((0, self.channels), dtype=np.float32)
        self._done = False

    def _decoded(self) -> Any:
        import av

        try:
            for frame in self._container.decode(self._stream):
                yield from self._resampler.resample(frame)
            yield from self._resampler.resample(None)  # flush
        except av.FFmpegError as exc:
            raise InputError(f"{self.path}: decoding failed ({exc})") from None

    def seekable(self) -> bool:
        return False

    def seek(self, frame: int) -> int:
        raise OSError("a media stream is read in order; it cannot seek")

    def read(
        self,
        frames: int = -1,
        dtype: str = "float32",
        always_2d: bool = True,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Up to ``frames`` sample frames (all that is left for -1) as float32, shaped
        (n, channels); fewer only at the end. ``out`` is filled when given."""
        import numpy as np

        want = frames if frames >= 0 else None
        parts = [self._pending]
        have = len(self._pending)
        while not self._done and (want is None or have < want):
            try:
                frame = next(self._frames_iter)
            except StopIteration:
                self._done = True
                break
            block = frame.to_ndarray().astype(np.float32, copy=False).T  # (n, channels)
            parts.append(block.reshape(-1, self.channels))
            have += len(block)
        data = np.concatenate(parts) if len(parts) > 1 else parts[0]
        taken, self._pending = (data, data[:0]) if want is None else (data[:want], data[want:])
        if out is not None:
            out[: len(taken)] = taken
            return out[: len(taken)]
        return taken

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


OPUS_BITRATE = 24_000
"""Bits per second of ``--upload opus``: plenty for 16 kHz speech (the API hears 16 kHz)."""


def encode_opus_16k_mono(blocks: Any, dest: Path, samplerate: int) -> int:
    """Write float32 mono ``blocks`` at ``samplerate`` to ``dest`` as 16 kHz mono Opus in
    OGG (PyAV's libopus); return the number of 16 kHz samples written. Lossy: opt-in."""
    import av
    import numpy as np

    with av.open(os.fsdecode(dest), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=16_000, layout="mono")
        stream.bit_rate = OPUS_BITRATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        written = 0
        for block in blocks:
            pcm = np.clip(np.asarray(block, dtype=np.float32), -1.0, 1.0)
            frame = av.AudioFrame.from_ndarray(
                (pcm * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = samplerate
            for converted in resampler.resample(frame):
                written += converted.samples
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            written += converted.samples
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return written
