"""Byte sizes as people write them (``10MB``, ``512KB``, ``1.5GiB``, ``1048576``), and
durations as clock readings."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)")


def parse_size(text: str) -> int:
    """Bytes in ``text``: a number with an optional unit (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n).

    Raises ValueError for anything else, including negative sizes.
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 10MB, 512KB, 2MiB or a number of bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def format_size(count: int) -> str:
    """``10000000`` -> ``10.0 MB``, ``512000000`` -> ``512 MB`` (decimal units, like the
    sizes people pass in; one decimal below 100, where it still says something)."""
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 999.5 or unit == "GB":  # 999.6 KB shows as 1.0 MB, not 1000 KB
            whole = unit == "B" or round(size, 1) >= 100
            return f"{size:.0f} {unit}" if whole else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"


def clock(seconds: float) -> str:
    """A duration as a clock reading: ``9:58``, ``1:05:00``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
