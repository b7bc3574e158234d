"""Where to cut a long recording: the quietest stretch near each target boundary."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from voxcli.audio.decode import mono_blocks, open_reader

if TYPE_CHECKING:
    import numpy as np


def iter_split_points(
    path: Path,
    part_seconds: float,
    *,
    search_seconds: float = 5.0,
    window_seconds: float = 0.05,
    track: int | None = None,
) -> Iterator[float]:
    """Yield cut times (seconds) that split ``path`` into parts of about ``part_seconds``,
    each as soon as the audio read decides it, so parts can be encoded and sent while the
    rest is still analysed.

    Each cut goes into the quietest stretch within ±``search_seconds`` of its target,
    ``part_seconds`` after the previous cut (the last two parts share what is left
    evenly, so there is no stub at the end). The RMS is taken over ``window_seconds``
    windows; quiet windows are those within ~6 dB of the minimum, and the cut is the
    centre of the longest run of them (nearest the target on a tie). ``track``: which
    audio stream to read (None: the first).

    Every part is at most ``part_seconds + search_seconds`` long and at least
    ``min(search_seconds, part_seconds / 2)``; a file no longer than the former has no cuts.
    Made for files whose frame count libsndfile knows exactly (MP3/OGG counts are
    estimates); :func:`voxcli.audio.parts.cut_into_parts` applies the same rule in one
    pass and corrects the length at the end.
    """
    _check_split_args(part_seconds, search_seconds, window_seconds)

    import numpy as np

    with open_reader(Path(path), track) as reader:
        rate = reader.samplerate
        win = max(1, round(window_seconds * rate))
        hop = win / rate
        duration = reader.frames / rate
        env = np.zeros(math.ceil(reader.frames / win), dtype=np.float32)
        block = win * max(1, round(10 * rate / win))  # about 10 s, whole windows
        buf = np.empty((block, reader.channels), dtype=np.float32)
        filled = decoded = 0
        pos = 0.0
        window = cut_window(pos, duration, part_seconds, search_seconds, hop, len(env))
        for mono in mono_blocks(reader, buf, None):
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
                pos = choose_cut(env, hop, *window)
                yield pos
                window = cut_window(pos, duration, part_seconds, search_seconds, hop, len(env))
    if filled < len(env) or decoded != round(duration * rate):  # shorter than announced
        env, duration = env[:filled], decoded / rate
    while window := cut_window(pos, duration, part_seconds, search_seconds, hop, len(env)):
        pos = choose_cut(env, hop, *window)
        yield pos


def _check_split_args(part_seconds: float, search_seconds: float, window_seconds: float) -> None:
    if not part_seconds > 0:
        raise ValueError(f"part_seconds must be > 0, not {part_seconds!r}")
    if not search_seconds >= 0:
        raise ValueError(f"search_seconds must be >= 0, not {search_seconds!r}")
    if not window_seconds > 0:
        raise ValueError(f"window_seconds must be > 0, not {window_seconds!r}")


def cut_window(
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


def choose_cut(
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
