"""The part cache: finished parts of a split recording, so a re-run sends only the rest.

Each entry is one API response (JSON) for one part, keyed by the SHA-256 of the
recording's bytes, the request parameters and the part's time range. Entries are
written atomically (temporary file + rename) with mode 600 under a 700 directory,
because they hold transcripts of possibly private audio.

Only parts of split recordings are cached: a single request has no partial work
to lose, and caching it would keep a copy of every transcript on disk unasked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voxcli.api import TranscriptionParams

CACHE_VERSION = 1
MAX_AGE_DAYS = 30
"""Entries untouched for this long are removed by :meth:`PartCache.prune`."""


def user_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/voxcli``, else ``~/.cache/voxcli``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "voxcli"


def part_key(
    audio_sha256: str, params: TranscriptionParams, start: float, end: float, encoding: str
) -> str:
    """The cache key of one part: what was heard, how it was sent and what was asked."""
    material = {
        "version": CACHE_VERSION,
        "audio_sha256": audio_sha256,
        "encoding": encoding,
        "start": round(start, 6),
        "end": round(end, 6),
        "model": params.model,
        "language": params.language,
        "temperature": params.temperature,
        "diarize": params.diarize,
        "context_bias": list(params.context_bias),
        "timestamp_granularities": list(params.timestamp_granularities),
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class PartCache:
    """API responses of finished parts, one JSON file each, under ``root/parts``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.parts_dir = self.root / "parts"

    def path_for(self, key: str) -> Path:
        return self.parts_dir / key[:2] / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored response for ``key``, or None (missing, unreadable or damaged)."""
        path = self.path_for(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("version") != CACHE_VERSION
            or entry.get("key") != key
            or not isinstance(entry.get("response"), dict)
        ):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: keep it through the next prune
        return entry["response"]

    def store(self, key: str, response: Mapping[str, Any]) -> None:
        """Write the response for ``key`` atomically; raises OSError if it cannot."""
        path = self.path_for(key)
        _make_private_dir(self.root)
        _make_private_dir(self.parts_dir)
        _make_private_dir(path.parent)
        entry = {"version": CACHE_VERSION, "key": key, "response": dict(response)}
        fd, tmp_name = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle, ensure_ascii=False, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise

    def prune(self, max_age_days: float = MAX_AGE_DAYS, now: float | None = None) -> int:
        """Remove entries (and stray temporary files) older than ``max_age_days``."""
        cutoff = (time.time() if now is None else now) - max_age_days * 86400
        removed = 0
        try:
            shards = list(os.scandir(self.parts_dir))
        except OSError:
            return 0
        for shard in shards:
            if not shard.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError), os.scandir(shard.path) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                            os.unlink(entry.path)
                            removed += 1
        return removed


def _make_private_dir(path: Path) -> None:
    """Create ``path`` with mode 700 if it is missing (existing dirs are left alone)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700, parents=True)
