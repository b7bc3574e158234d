"""Generate audio files of a given shape for tests (tones with optional silent stretches).

Written block by block, so hour-long or GB-sized files need little memory::

    from audio_factory import make_tone_wav

    make_tone_wav(tmp_path / "a.wav", 12.0, silence_at=[(4.0, 6.5)])
    make_tone_wav(tmp_path / "b.flac", 3.0, samplerate=44100, channels=2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

BLOCK_SECONDS = 10.0
TONE_HZ = 440.0
AMPLITUDE = 0.5  # about -6 dBFS


def make_tone_wav(
    path: str | Path,
    seconds: float,
    samplerate: int = 16000,
    channels: int = 1,
    subtype: str | None = "PCM_16",
    silence_at: Iterable[tuple[float, float]] = (),
    format: str | None = None,
) -> Path:
    """Write ``seconds`` of a sine tone to ``path`` and return the path.

    Channel ``c`` plays ``440 * (c + 1)`` Hz. Every ``(start, end)`` pair of ``silence_at``
    (in seconds) is digital silence. The container comes from ``format`` or the file suffix
    (``.wav``, ``.flac``, ``.ogg``, ``.mp3``...); pass a matching ``subtype`` for formats
    that do not take ``PCM_16`` (e.g. ``subtype="VORBIS"`` or ``None`` for the default).
    """
    path = Path(path)
    total = round(seconds * samplerate)
    silences = [(round(a * samplerate), round(b * samplerate)) for a, b in silence_at]
    freqs = TONE_HZ * (np.arange(channels) + 1)
    block = max(1, round(BLOCK_SECONDS * samplerate))
    if subtype is not None and not sf.check_format(format or _format_of(path), subtype):
        subtype = None
    with sf.SoundFile(
        path, "w", samplerate, channels, subtype=subtype, format=format or _format_of(path)
    ) as out:
        for first in range(0, total, block):
            n = min(block, total - first)
            t = (first + np.arange(n)) / samplerate
            data = AMPLITUDE * np.sin(2 * np.pi * t[:, None] * freqs[None, :])
            for a, b in silences:
                lo, hi = max(a - first, 0), min(b - first, n)
                if lo < hi:
                    data[lo:hi] = 0.0
            out.write(data.astype(np.float32))
    return path


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"oga": "OGG", "opus": "OGG", "aif": "AIFF", "aiff": "AIFF"}.get(
        suffix, suffix.upper() or "WAV"
    )


def write_media(
    path: Path,
    tracks: Sequence[np.ndarray],
    *,
    video_seconds: float | None = None,
    codec: str = "aac",
    rate: int = 16_000,
) -> Path:
    """A media file made with PyAV: one mono audio stream per int16 array of ``tracks``,
    in order, encoded with ``codec``, and ``video_seconds`` of colour frames (5 a second)
    when given."""
    import av

    with av.open(str(path), "w") as out:
        vstream = None
        if video_seconds is not None:
            vstream = out.add_stream("mpeg4", rate=5)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 48, "yuv420p"
        streams = [out.add_stream(codec, rate=rate, layout="mono") for _ in tracks]
        for stream, samples in zip(streams, tracks, strict=True):
            for start in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(
                    samples[start : start + 1024].reshape(1, -1), format="s16", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = start
                frame.time_base = Fraction(1, rate)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        if vstream is not None:
            for n in range(round(video_seconds * 5)):
                image = np.full((48, 64, 3), (n * 40) % 255, dtype=np.uint8)
                picture = av.VideoFrame.from_ndarray(image, format="rgb24")
                picture.pts = n
                out.mux(vstream.encode(picture))
            out.mux(vstream.encode(None))
    return path
