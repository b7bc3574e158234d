"""The part cache: finished parts of a split recording, so a re-run sends only the rest.

Each entry is one part's transcript (JSON data of our own model), keyed by the SHA-256 of the
recording's bytes, the audio stream cut from it (``--audio-track``), the server, the request
parameters and the part's time range. Entries are written atomically (temporary file in the
same directory + ``os.replace``) with mode 600 under a 700 directory, because they hold
transcripts of possibly private audio. A temporary file left by a process killed mid-write
is swept by the next :meth:`PartCache.prune`.

Only parts of split recordings are cached: a single request has no partial work
to lose, and caching it would keep a copy of every transcript on disk unasked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voxcli.api import TranscriptionParams

CACHE_VERSION = 2  # 2: entries hold our Transcript's data, not the API's response
MAX_AGE_DAYS = 30
"""Entries untouched for this long are removed by :meth:`PartCache.prune`."""
STALE_TEMP_SECONDS = 3600
"""Temporary files older than this were left by a process that died mid-write (a write
takes milliseconds; younger ones may belong to a run in progress)."""
DEFAULT_SERVER_URL = "https://api.mistral.ai"
"""Where the SDK sends requests when no server URL is configured."""


def normalise_server_url(url: str | None) -> str:
    """``url`` in one spelling per server: lower-case scheme and host, no default port,
    no trailing slash; None (no server configured) is the SDK's default server."""
    parts = urlsplit((url or DEFAULT_SERVER_URL).strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: keep the spelling given
        port = None
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def part_key(
    audio_sha256: str,
    params: TranscriptionParams,
    start: float,
    end: float,
    encoding: str,
    server_url: str | None = None,
    track: int | None = None,
) -> str:
    """The cache key of one part: what was heard, how it was sent, where and what was asked.

    ``server_url`` None means the SDK's default server. The model is keyed by the name
    asked for: an alias such as ``voxtral-mini-latest`` keeps its entries when it starts
    pointing at a newer model (see the README's cache section). ``track`` is the audio
    stream the part was cut from: None and 0 are both the first stream (the same key as
    before ``--audio-track`` existed); any other stream keys its own entries.
    """
    material = {
        "version": CACHE_VERSION,
        "server": normalise_server_url(server_url),
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
        "speaker_references": [
            [name, hashlib.sha256(reference.encode("utf-8")).hexdigest()]
            for name, reference in params.speaker_references
        ],
    }
    if track:
        material["audio_track"] = track
    blob = json.dumps(material, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class PartCache:
    """Transcripts of finished parts, one JSON file each, under ``root/parts``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.parts_dir = self.root / "parts"

    def path_for(self, key: str) -> Path:
        return self.parts_dir / key[:2] / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored data for ``key``, or None (missing, unreadable or damaged)."""
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
        """Write the data for ``key`` atomically; raises OSError if it cannot."""
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

    def sweep_temporaries(self, now: float | None = None) -> int:
        """Remove only the temporary files older than :data:`STALE_TEMP_SECONDS` (what a
        process killed while writing leaves); cheap enough for the start of every run."""
        return self.prune(max_age_days=math.inf, now=now)

    def prune(self, max_age_days: float = MAX_AGE_DAYS, now: float | None = None) -> int:
        """Remove entries older than ``max_age_days`` and temporary files older than
        :data:`STALE_TEMP_SECONDS` (left by a process killed while writing)."""
        now = time.time() if now is None else now
        cutoff = now - max_age_days * 86400
        temp_cutoff = now - STALE_TEMP_SECONDS
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
                    temporary = entry.name.endswith(".tmp")
                    if not temporary and math.isinf(cutoff):
                        continue
                    limit = temp_cutoff if temporary else cutoff
                    with contextlib.suppress(OSError):
                        if entry.stat(follow_symlinks=False).st_mtime < limit:
                            os.unlink(entry.path)
                            removed += 1
        return removed


def _make_private_dir(path: Path) -> None:
    """Create ``path`` with mode 700 if it is missing (existing dirs are left alone)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700, parents=True)
