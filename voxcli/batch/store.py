"""Where batches live: one directory per batch under ``$XDG_STATE_HOME/voxcli/batches``.

``batches/<name>/`` holds:

- ``manifest.json``: the manifest (:mod:`.manifest`), written atomically by submit;
- ``summary.json``: a small digest (phase, job ids, last known job states) that ``list``,
  ``status`` and name lookups read instead of a manifest that may list 100,000 inputs;
- ``submit.jsonl`` and ``collect.jsonl``: the journals (:mod:`.journal`);
- ``results/``: the jobs' output and error files while they are being collected;
- ``collected-<job id>``: present once that job's inputs are all written or settled.

A batch is named by six random letters and digits (no look-alikes such as ``l``/``1``);
commands take that name, a job id, or an unambiguous prefix of either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voxcli.api.batch import BatchJobInfo
from voxcli.batch.journal import Journal, read_journal
from voxcli.batch.manifest import Manifest
from voxcli.engine.locks import OutputLock, try_lock
from voxcli.errors import UsageError
from voxcli.output.sinks import write_atomic

BATCHES_DIR = "batches"
NAME_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
NAME_LENGTH = 6
MIN_PREFIX = 4
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")


@dataclass(frozen=True)
class Summary:
    """``summary.json``: what a listing needs to know about a batch."""

    name: str
    created_at: int
    submission: str
    phase: str = "uploading"
    output_dir: str = ""
    inputs: int = 0
    requests: int = 0
    retry_of: str | None = None
    jobs: Mapping[str, BatchJobInfo | None] = field(default_factory=dict)
    checked_at: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, manifest: Manifest) -> Summary:
        return cls(
            name=manifest.name,
            created_at=manifest.created_at,
            submission=manifest.submission,
            phase=manifest.phase,
            output_dir=str(manifest.options.output_dir),
            inputs=len(manifest.inputs),
            requests=sum(len(entry.requests) for entry in manifest.inputs),
            retry_of=manifest.retry_of,
            jobs={job.id: None for job in manifest.jobs},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at,
            "submission": self.submission,
            "phase": self.phase,
            "output_dir": self.output_dir,
            "inputs": self.inputs,
            "requests": self.requests,
            "retry_of": self.retry_of,
            "jobs": {k: (v.to_json() if v else None) for k, v in self.jobs.items()},
            "checked_at": dict(self.checked_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        jobs = data.get("jobs") or {}
        return cls(
            name=str(data["name"]),
            created_at=int(data["created_at"]),
            submission=str(data.get("submission") or ""),
            phase=str(data.get("phase") or "uploading"),
            output_dir=str(data.get("output_dir") or ""),
            inputs=int(data.get("inputs") or 0),
            requests=int(data.get("requests") or 0),
            retry_of=data.get("retry_of"),
            jobs={str(k): (BatchJobInfo.from_json(v) if v else None) for k, v in jobs.items()},
            checked_at={str(k): float(v) for k, v in (data.get("checked_at") or {}).items()},
        )


@dataclass(frozen=True)
class JobRef:
    """What a JOB argument names: a local batch's job, all its jobs (``job_id`` None), or
    a job not known locally (``name`` None)."""

    name: str | None
    job_id: str | None


class BatchStore:
    """The batches of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / BATCHES_DIR

    # -- batches -------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.root / name

    def create(self) -> str:
        """Make a new batch directory under a fresh name; return the name."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _ in range(100):
            name = "".join(secrets.choice(NAME_ALPHABET) for _ in range(NAME_LENGTH))
            try:
                self.path(name).mkdir(mode=0o700)
            except FileExistsError:
                continue
            return name
        raise UsageError(f"cannot find a free batch name in {self.root}")

    def names(self) -> list[str]:
        """Every batch directory's name."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))

    def remove(self, name: str) -> None:
        shutil.rmtree(self.path(name), ignore_errors=True)

    # -- manifest and summary -------------------------------------------------------

    def manifest(self, name: str) -> Manifest:
        """The batch's manifest; a UsageError when it is missing or damaged."""
        path = self.path(name) / "manifest.json"
        try:
            return Manifest.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError:
            raise UsageError(f"batch {name} has no manifest ({path})") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the manifest of batch {name}: {exc}") from None

    def save_manifest(self, manifest: Manifest) -> None:
        text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.path(manifest.name) / "manifest.json", text)

    def summary(self, name: str) -> Summary | None:
        """The batch's summary (None if missing or unreadable)."""
        try:
            return Summary.from_json(json.loads((self.path(name) / "summary.json").read_bytes()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def summaries(self) -> list[Summary]:
        """Every batch's summary, oldest first."""
        found = [s for s in (self.summary(name) for name in self.names()) if s is not None]
        return sorted(found, key=lambda s: (s.created_at, s.name))

    def save_summary(self, summary: Summary) -> None:
        text = json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.path(summary.name) / "summary.json", text)

    def remember(self, name: str, infos: Iterable[BatchJobInfo]) -> None:
        """Keep the jobs' latest states in the summary (a cache: a lost update is harmless)."""
        summary = self.summary(name)
        if summary is None:
            return
        jobs, checked = dict(summary.jobs), dict(summary.checked_at)
        for info in infos:
            if info.id in jobs:
                jobs[info.id] = info
                checked[info.id] = time.time()
        with contextlib.suppress(OSError, UsageError):
            self.save_summary(replace(summary, jobs=jobs, checked_at=checked))

    def pending_outputs(self) -> dict[str, str]:
        """The outputs that submitted batches will write once collected: real output path
        -> batch name, for every input of a job not collected yet. A manifest that cannot
        be read is a UsageError: what its batch will write is not known."""
        pending: dict[str, str] = {}
        for summary in self.summaries():
            if summary.phase != "submitted":
                continue
            waiting = {job for job in summary.jobs if not self.is_collected(summary.name, job)}
            if not waiting:
                continue
            try:
                manifest = self.manifest(summary.name)
            except UsageError as exc:
                raise UsageError(
                    f"{exc.message}, so what it will write is not known",
                    hint=f"repair or remove {self.path(summary.name)}, or submit without "
                    "--skip-existing",
                ) from None
            for entry in manifest.inputs:
                if entry.job in waiting:
                    pending[os.path.realpath(entry.output)] = summary.name
        return pending

    def find_submission(self, key: str) -> Summary | None:
        """The newest batch made from the same inputs and options, if any."""
        found = [s for s in self.summaries() if s.submission == key]
        return max(found, key=lambda s: s.created_at) if found else None

    # -- journals, results, markers --------------------------------------------------

    def journal(self, name: str, kind: str) -> Journal:
        return Journal(self.path(name) / f"{kind}.jsonl")

    def records(self, name: str, kind: str) -> Iterator[dict[str, Any]]:
        return read_journal(self.path(name) / f"{kind}.jsonl")

    def results_dir(self, name: str) -> Path:
        return self.path(name) / "results"

    def _marker(self, name: str, job_id: str) -> Path:
        if not _SAFE_ID.fullmatch(job_id):
            raise UsageError(f"unexpected job id {job_id!r}")
        return self.path(name) / f"collected-{job_id}"

    def is_collected(self, name: str, job_id: str) -> bool:
        return self._marker(name, job_id).exists()

    def mark_collected(self, name: str, job_id: str) -> None:
        write_atomic(self._marker(name, job_id), f"{int(time.time())}\n")

    # -- locks --------------------------------------------------------------------

    def try_lock(self, name: str) -> OutputLock | None:
        """The batch's own lock (one submit or collect at a time); None when held."""
        return try_lock(self.path(name) / "batch")

    def submission_lock(self, key: str) -> OutputLock | None:
        """The lock of one set of inputs and options, while it is being submitted."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return try_lock(self.root / f"submit-{key[:32]}")

    # -- JOB arguments ---------------------------------------------------------------

    def resolve(self, ref: str) -> list[JobRef]:
        """The jobs a JOB argument names (see the module docs); a UsageError when a
        prefix fits several."""
        summaries = self.summaries()
        for summary in summaries:
            if summary.name == ref:
                return _all_jobs(summary)
        for summary in summaries:
            if ref in summary.jobs:
                return [JobRef(summary.name, ref)]
        if len(ref) >= MIN_PREFIX:
            matches: list[list[JobRef]] = [
                _all_jobs(s) for s in summaries if s.name.startswith(ref)
            ]
            matches += [
                [JobRef(s.name, job)] for s in summaries for job in s.jobs if job.startswith(ref)
            ]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UsageError(
                    f"{ref!r} names several batches or jobs", hint="give more of the name or id"
                )
        return [JobRef(None, ref)]


def _all_jobs(summary: Summary) -> list[JobRef]:
    if not summary.jobs:
        return [JobRef(summary.name, None)]
    return [JobRef(summary.name, job) for job in summary.jobs]
