"""Decoding in blocks: a reader that never seeks where seeking is inexact, mono blocks,
streaming resampling to 16 kHz (soxr). numpy, soundfile and soxr are imported lazily."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from voxcli.audio.probe import NO_SEEK_FORMATS, TARGET_RATE
from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf

_RESAMPLE_QUALITY = "HQ"  # 20-bit soxr filter: far beyond 16-bit speech needs


@functools.cache
def reader_class() -> type[sf.SoundFile]:
    """A SoundFile that treats MP3 and OGG as unseekable, so reads never seek."""
    import soundfile as sf

    class StreamReader(sf.SoundFile):
        def seekable(self) -> bool:
            return self.format not in NO_SEEK_FORMATS and super().seekable()

    return StreamReader


def open_reader(path: Path) -> sf.SoundFile:
    """Open ``path`` for block reading; raise InputError if soundfile cannot."""
    import soundfile as sf

    try:
        return reader_class()(os.fsencode(path))
    except (sf.SoundFileError, RuntimeError):
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
