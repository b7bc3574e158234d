"""A request's ``custom_id``: readable back into where its result goes, without a manifest.

``custom_id = PATH[?QUERY]``. ``PATH`` is the input's path relative to the output
directory, with the input's own file name (``talks/day1.wav``), percent-encoded
(non-ASCII, ``%``, ``?`` and control characters; ``/`` kept). ``QUERY`` says how the
result is placed: ``d=SECONDS`` (the recording's length) for a whole recording, or
``part=K/N&start=S&end=E`` for part K of N of a split one (seconds, exact). A URL input
has no query. So ``voxcli batch collect JOB -d DIR`` can write a job submitted
elsewhere: ``DIR/talks/day1.srt``, parts merged on one timeline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, quote, unquote_to_bytes

_SAFE = "/ !$&'()*+,;=:@-._~[]"


@dataclass(frozen=True)
class RequestName:
    """What one custom_id says."""

    path: str
    part: int | None = None  # 1-based
    parts: int | None = None
    start: float | None = None
    end: float | None = None
    duration: float | None = None


def format_custom_id(name: RequestName) -> str:
    """The custom_id of ``name`` (see the module docs)."""
    path = quote(os.fsencode(name.path), safe=_SAFE)
    if name.part is not None:
        query = f"part={name.part}/{name.parts}&start={name.start!r}&end={name.end!r}"
    elif name.duration is not None:
        query = f"d={name.duration!r}"
    else:
        return path
    return f"{path}?{query}"


def parse_custom_id(text: str) -> RequestName | None:
    """Read a custom_id back; None when it is not one voxcli wrote, or its path would
    leave the output directory (absolute, ``..``)."""
    raw_path, _, query = text.partition("?")
    path = os.fsdecode(unquote_to_bytes(raw_path))
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\0" in path:
        return None
    fields = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    try:
        if "part" in fields:
            number, _, total = fields["part"].partition("/")
            part, parts = int(number), int(total)
            if not 1 <= part <= parts:
                return None
            return RequestName(
                path, part, parts, float(fields["start"]), float(fields["end"]), None
            )
        duration = float(fields["d"]) if "d" in fields else None
    except (KeyError, ValueError):
        return None
    return RequestName(path, duration=duration)
