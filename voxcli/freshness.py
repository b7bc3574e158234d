"""Files still being written: how old a local file must be to be taken, and whether it
changed while it was read (``--min-age``)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

FUTURE_MTIME_SECONDS = 3600.0
"""A file modified this far in the future has a wrong clock, not a writer: not young."""


def min_age_for(explicit: float | None, unattended: bool, default: float) -> float:
    """How old a file must be: ``--min-age`` (or VOXCLI_MIN_AGE) for every file, else
    ``default`` for files found in directories or lists (``unattended``), else 0."""
    if explicit is not None:
        return explicit
    return default if unattended else 0.0


def modified_ago(path: Path, min_age: float) -> float | None:
    """Seconds since ``path`` was modified when that is less than ``min_age`` (it may still
    be being written); None when it is older, when ``min_age`` is 0, or when it is gone
    (its own error comes with reading it)."""
    if min_age <= 0:
        return None
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        return None
    return max(age, 0.0) if -FUTURE_MTIME_SECONDS < age < min_age else None


@dataclass(frozen=True)
class FileStamp:
    """What a file looked like when its work began."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        """The file's size and modification time now; None when it cannot be read."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)

    def changed(self, path: Path) -> bool:
        """The file is not what it was (still being written, or replaced)."""
        return FileStamp.of(path) != self
