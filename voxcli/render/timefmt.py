"""Timestamp arithmetic shared by the renderers.

Every time is rounded to a whole number of milliseconds *first* and only then
split into hours, minutes, seconds and milliseconds, so 59.9996 s is
``00:01:00,000`` and never ``00:00:59,1000``. Rounding is half-up on the
decimal value the float prints as (``1.9995`` becomes 2000 ms), not on its
binary approximation.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_MS_PER_HOUR = 3_600_000
_MS_PER_MINUTE = 60_000


def to_millis(seconds: float) -> int:
    """Round a time in seconds to whole milliseconds (half-up; negatives become 0)."""
    if not math.isfinite(seconds):
        raise ValueError(f"not a finite time: {seconds!r}")
    if seconds <= 0:
        return 0
    return int(Decimal(repr(float(seconds))).scaleb(3).quantize(Decimal(1), ROUND_HALF_UP))


def millis_to_seconds(millis: int) -> float:
    """Whole milliseconds back to seconds (exact to three decimals when printed)."""
    return millis / 1000


def round_seconds(seconds: float | None) -> float | None:
    """Seconds rounded to milliseconds, for JSON; None and non-finite values give None."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return millis_to_seconds(to_millis(seconds))


def format_millis(millis: int, decimal_marker: str = ",") -> str:
    """``HH:MM:SS<marker>mmm``; hours grow past two digits when needed (``100:00:00,000``)."""
    millis = max(0, int(millis))
    hours, rest = divmod(millis, _MS_PER_HOUR)
    minutes, rest = divmod(rest, _MS_PER_MINUTE)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


def format_timestamp(seconds: float, decimal_marker: str = ",") -> str:
    """Format a time in seconds, rounding the whole time to milliseconds first."""
    return format_millis(to_millis(seconds), decimal_marker)
