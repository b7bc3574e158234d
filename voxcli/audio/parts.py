"""Cut a long recording into 16 kHz mono FLAC parts in one pass over the audio.

The source is decoded once: each block is downmixed and resampled to 16 kHz, its RMS
envelope extended, and its samples written straight into the current part's FLAC file.
Only the stretch where the next cut may fall (twice the search distance, ~10 s) is held
back in memory until the envelope decides the cut (:func:`voxcli.audio.split.choose_cut`,
the same rule as :func:`~voxcli.audio.split.iter_split_points`). Each part is yielded the
moment it is complete, so it can be sent while the rest is still being decoded; the
generator does no work while its caller waits, which is how callers bound the part
files on disk.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voxcli.audio.decode import mono_blocks, open_reader, resampler
from voxcli.audio.encode import write_clipped
from voxcli.audio.probe import TARGET_RATE
from voxcli.audio.split import choose_cut, cut_window
from voxcli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import soundfile as sf

WINDOW_SECONDS = 0.05
"""The RMS window of the envelope the cuts are chosen from."""
_WIN = round(WINDOW_SECONDS * TARGET_RATE)
_HOP = _WIN / TARGET_RATE


@dataclass(frozen=True)
class PartFile:
    """A finished part: its place in the recording (seconds) and its FLAC file."""

    index: int
    start: float
    end: float
    path: Path
    bytes: int


class _Envelope:
    """The RMS of each 50 ms window of the 16 kHz audio seen so far."""

    def __init__(self, expected_windows: int) -> None:
        import numpy as np

        self.values = np.zeros(max(1, expected_windows), dtype=np.float32)
        self.filled = 0
        self._carry = np.zeros(0, dtype=np.float32)

    def add(self, mono: np.ndarray) -> None:
        import numpy as np

        data = np.concatenate((self._carry, mono)) if len(self._carry) else mono
        count = len(data) // _WIN
        if count:
            self._grow(self.filled + count)
            squares = np.square(data[: count * _WIN]).reshape(-1, _WIN).mean(axis=1)
            self.values[self.filled : self.filled + count] = np.sqrt(squares)
            self.filled += count
        self._carry = data[count * _WIN :].copy()

    def finish(self) -> None:
        """Count the last, partial window."""
        import numpy as np

        if len(self._carry):
            self._grow(self.filled + 1)
            self.values[self.filled] = np.sqrt(np.square(self._carry).mean())
            self.filled += 1
            self._carry = self._carry[:0]
        self.values = self.values[: self.filled]

    def _grow(self, size: int) -> None:
        import numpy as np

        if size > len(self.values):
            bigger = np.zeros(max(size, 2 * len(self.values)), dtype=np.float32)
            bigger[: len(self.values)] = self.values
            self.values = bigger


class _PartWriter:
    """Writes the parts' FLAC files, one after another, in ``temp_dir``."""

    def __init__(self, temp_dir: Path) -> None:
        self.temp_dir = temp_dir
        self.index = 0
        self.start = 0.0
        self.path: Path | None = None
        self._file: sf.SoundFile | None = None

    def open(self) -> None:
        import soundfile as sf

        fd, name = tempfile.mkstemp(prefix="voxcli-part-", suffix=".flac", dir=self.temp_dir)
        os.close(fd)
        self.path = Path(name)
        self._file = sf.SoundFile(
            os.fsencode(self.path),
            "w",
            samplerate=TARGET_RATE,
            channels=1,
            format="FLAC",
            subtype="PCM_16",
        )

    def write(self, samples: np.ndarray) -> None:
        if self._file is None:
            self.open()
        assert self._file is not None
        write_clipped(self._file, samples)

    def close(self, end: float) -> PartFile:
        if self._file is None:
            self.open()
        assert self._file is not None and self.path is not None
        self._file.close()
        part = PartFile(self.index, self.start, end, self.path, self.path.stat().st_size)
        self._file, self.path = None, None
        self.index += 1
        self.start = end
        return part

    def discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self._file, self.path = None, None


def cut_into_parts(
    src: Path,
    part_seconds: float,
    search_seconds: float,
    temp_dir: Path,
    *,
    block_seconds: float = 10.0,
    track: int | None = None,
) -> Generator[PartFile]:
    """Yield the parts of ``src`` (its audio stream ``track``; None: the first) as FLAC
    files in ``temp_dir``, each as soon as it is done.

    The caller owns (and deletes) the yielded files; a file still being written when the
    generator is closed or fails is deleted here. Parts cover the whole recording with
    no gap or overlap: each ends where the next starts.
    """
    import numpy as np

    writer = _PartWriter(temp_dir)
    try:
        with open_reader(Path(src), track) as reader:
            rate = reader.samplerate
            duration = reader.frames / rate  # an estimate for MP3/OGG; corrected at the end
            envelope = _Envelope(math.ceil(duration / _HOP))
            resample = resampler(rate)
            buf = np.empty((max(1, int(block_seconds * rate)), reader.channels), np.float32)
            held = np.zeros(0, dtype=np.float32)  # samples from `held_from` on, not written
            held_from = 0
            blocks = mono_blocks(reader, buf, None)
            last = False
            while not last:
                mono = next(blocks, None)
                last = mono is None
                block = resample(np.zeros(0, np.float32) if mono is None else mono, last)
                if len(block):
                    envelope.add(block)
                    held = np.concatenate((held, block)) if len(held) else block.copy()
                if last:
                    envelope.finish()
                    duration = (held_from + len(held)) / TARGET_RATE
                while True:
                    window = cut_window(
                        writer.start, duration, part_seconds, search_seconds, _HOP, 1 << 62
                    )
                    if window is None or (not last and envelope.filled <= window[4]):
                        break
                    target, lo, hi, i_lo, i_hi = window
                    i_hi = min(i_hi, envelope.filled - 1)
                    cut = choose_cut(envelope.values, _HOP, target, lo, hi, i_lo, i_hi)
                    upto = min(round(cut * TARGET_RATE) - held_from, len(held))
                    writer.write(held[:upto])
                    held, held_from = held[upto:], held_from + upto
                    yield writer.close(cut)
                # Write out what no later cut can fall before.
                keep_from = len(held)
                if window is not None and not last:
                    lo = math.floor(window[1] * TARGET_RATE) - held_from
                    keep_from = min(max(0, lo), len(held))
                if keep_from:
                    writer.write(held[:keep_from])
                    held, held_from = held[keep_from:], held_from + keep_from
        if held_from == 0:
            raise InputError(f"{src} contains no audio", hint="the file has 0 samples")
        yield writer.close(duration)
    finally:
        writer.discard()
