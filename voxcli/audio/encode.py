"""Re-encoding to what the model hears: 16 kHz mono 16-bit FLAC, streamed block by block."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voxcli.audio.decode import mono_blocks, open_reader, resampler, skip_to
from voxcli.audio.probe import TARGET_RATE
from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf


@dataclass(frozen=True)
class EncodeResult:
    """A file written by :func:`encode_flac_16k_mono`."""

    path: Path
    bytes: int
    duration: float
    samplerate: int = TARGET_RATE
    channels: int = 1


def encode_flac_16k_mono(
    src: Path,
    dest: Path,
    *,
    start: float = 0.0,
    end: float | None = None,
    block_seconds: float = 10.0,
    track: int | None = None,
) -> EncodeResult:
    """Write ``src[start:end]`` (seconds) to ``dest`` as 16 kHz mono 16-bit FLAC (of its
    audio stream ``track``, from 0; None: the first).

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
    reader = open_reader(src, track)
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
                skip_to(reader, first, buf)
                resample = resampler(rate)
                for mono in mono_blocks(reader, buf, todo):
                    frames_in += len(mono)
                    frames_out += write_clipped(writer, resample(mono, False))
                if frames_in:
                    frames_out += write_clipped(writer, resample(np.zeros(0, np.float32), True))
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


def write_clipped(writer: sf.SoundFile, block: np.ndarray) -> int:
    """Clip to [-1, 1] ourselves rather than trust libsndfile's float-to-int; write; count."""
    import numpy as np

    if len(block):
        writer.write(np.clip(block, -1.0, 1.0))
    return len(block)
