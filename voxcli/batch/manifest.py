"""A batch's manifest: what was submitted, and where each input's results go.

``manifest.json`` in the batch's directory (see :mod:`.store`), written atomically,
plain JSON (``jq`` reads it). Its shape, version 1::

    {
      "voxcli_batch": 1,
      "name": "k3x9qa",                 # the local name (voxcli batch status k3x9qa)
      "phase": "uploading" | "submitted",
      "created_at": 1793000000,         # Unix time
      "submission": "<sha256>",         # the inputs and options (a re-run resumes it)
      "server_url": null,
      "retry_of": null,                 # the batch whose failed inputs this retries
      "origin": "submit" | "adopted",   # adopted: collected without a manifest (-d DIR)
      "options": {...},                 # model, request and output options (BatchOptions)
      "jobs": [{"id": "...", "input_files": ["<file id>"], "inline": false,
                "requests": 12, "inputs": 10}],
      "inputs": [{
        "index": 0,
        "source": "talks/day1.wav",     # as given; the JSON output's "source"
        "path": "/abs/talks/day1.wav",  # what is read (null for URLs)
        "output": "/abs/out/talks/day1.srt",
        "duration": 3912.5,             # null for URLs
        "audio_track": 1,               # only with --audio-track: the audio stream sent
        "job": "<job id>",
        "requests": [{"custom_id": "talks/day1.wav?part=1/2&start=0.0&end=1961.2",
                      "file_id": "<uploaded audio>", "url": null,
                      "start": 0.0, "end": 1961.2}]
      }]
    }

While ``phase`` is ``uploading`` the inputs have no requests yet: the finished uploads are
in the submission journal (:mod:`.journal`) until the jobs are created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voxcli.batch.options import BatchOptions
from voxcli.errors import VoxcliError

VERSION = 1


@dataclass(frozen=True)
class RequestEntry:
    """One request of an input: the whole recording, or one part of it."""

    custom_id: str
    file_id: str | None = None
    url: str | None = None
    start: float | None = None
    end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "custom_id": self.custom_id,
            "file_id": self.file_id,
            "url": self.url,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestEntry:
        return cls(
            custom_id=str(data["custom_id"]),
            file_id=data.get("file_id"),
            url=data.get("url"),
            start=data.get("start"),
            end=data.get("end"),
        )


@dataclass(frozen=True)
class InputEntry:
    """One input: where it came from, where its output goes, its requests."""

    index: int
    source: str
    path: str | None
    output: Path
    duration: float | None = None
    job: str | None = None
    requests: tuple[RequestEntry, ...] = ()
    audio_track: int | None = None
    """``--audio-track``: the audio stream read (None: the first); ``--retry-failed`` reads
    the same one."""

    @property
    def split(self) -> bool:
        return any(request.start is not None for request in self.requests)

    @property
    def display_name(self) -> str:
        """How a progress display names it."""
        return Path(self.source).name or self.source

    def __str__(self) -> str:
        return self.source

    def to_json(self) -> dict[str, Any]:
        track = {} if self.audio_track is None else {"audio_track": self.audio_track}
        return {
            "index": self.index,
            "source": self.source,
            "path": self.path,
            "output": str(self.output),
            "duration": self.duration,
            **track,
            "job": self.job,
            "requests": [request.to_json() for request in self.requests],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InputEntry:
        return cls(
            index=int(data["index"]),
            source=str(data["source"]),
            path=data.get("path"),
            output=Path(data["output"]),
            duration=data.get("duration"),
            job=data.get("job"),
            requests=tuple(RequestEntry.from_json(r) for r in data.get("requests") or ()),
            audio_track=None if data.get("audio_track") is None else int(data["audio_track"]),
        )


@dataclass(frozen=True)
class JobEntry:
    """One API job of the batch."""

    id: str
    input_files: tuple[str, ...] = ()
    inline: bool = False
    requests: int = 0
    inputs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "input_files": list(self.input_files),
            "inline": self.inline,
            "requests": self.requests,
            "inputs": self.inputs,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobEntry:
        return cls(
            id=str(data["id"]),
            input_files=tuple(str(f) for f in data.get("input_files") or ()),
            inline=bool(data.get("inline")),
            requests=int(data.get("requests") or 0),
            inputs=int(data.get("inputs") or 0),
        )


@dataclass(frozen=True)
class Manifest:
    """A local batch (see the module docs for the JSON)."""

    name: str
    created_at: int
    submission: str
    options: BatchOptions
    inputs: tuple[InputEntry, ...] = ()
    jobs: tuple[JobEntry, ...] = ()
    phase: str = "uploading"
    server_url: str | None = None
    retry_of: str | None = None
    origin: str = "submit"

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(job.id for job in self.jobs)

    def inputs_of(self, job_id: str) -> list[InputEntry]:
        return [entry for entry in self.inputs if entry.job == job_id]

    def job(self, job_id: str) -> JobEntry | None:
        return next((job for job in self.jobs if job.id == job_id), None)

    def submitted(self, jobs: tuple[JobEntry, ...], inputs: tuple[InputEntry, ...]) -> Manifest:
        return replace(self, jobs=jobs, inputs=inputs, phase="submitted")

    def to_json(self) -> dict[str, Any]:
        return {
            "voxcli_batch": VERSION,
            "name": self.name,
            "phase": self.phase,
            "created_at": self.created_at,
            "submission": self.submission,
            "server_url": self.server_url,
            "retry_of": self.retry_of,
            "origin": self.origin,
            "options": self.options.to_json(),
            "jobs": [job.to_json() for job in self.jobs],
            "inputs": [entry.to_json() for entry in self.inputs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Read a manifest; ValueError when it is not one this voxcli can read."""
        version = data.get("voxcli_batch") if isinstance(data, Mapping) else None
        if version != VERSION:
            raise ValueError(f"not a version {VERSION} batch manifest (found {version!r})")
        try:
            return cls(
                name=str(data["name"]),
                created_at=int(data["created_at"]),
                submission=str(data["submission"]),
                options=BatchOptions.from_json(data["options"]),
                inputs=tuple(InputEntry.from_json(i) for i in data.get("inputs") or ()),
                jobs=tuple(JobEntry.from_json(j) for j in data.get("jobs") or ()),
                phase=str(data.get("phase") or "uploading"),
                server_url=data.get("server_url"),
                retry_of=data.get("retry_of"),
                origin=str(data.get("origin") or "submit"),
            )
        except (KeyError, TypeError, ValueError, VoxcliError) as exc:
            raise ValueError(f"damaged batch manifest: {exc!r}") from None
