"""One input made ready for a job: its audio prepared as ``transcribe`` prepares it and
uploaded (``purpose="audio"``, with an expiry), every upload journaled as it finishes.

A recording longer than one request holds (or than ``--split-minutes``) is cut into
16 kHz mono FLAC parts exactly as ``transcribe`` cuts it; each part is uploaded on the
run's scheduler as soon as it is cut, with no more than ``--jobs`` part files waiting on
disk. An interrupted submit left its finished uploads in the journal: cutting the same
file again gives the same parts, and those already uploaded are not sent again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxcli.api import MistralApi, TranscriptionParams
from voxcli.audio.parts import PartFile, cut_into_parts
from voxcli.audio.prepare import (
    check_url_track,
    local_audio_path,
    prepared_audio,
    probe_source,
    upload_summary,
)
from voxcli.batch.journal import Journal
from voxcli.console import Say, silent
from voxcli.engine import longform
from voxcli.engine.longform import SplitOptions
from voxcli.engine.runner import JobContext
from voxcli.engine.scheduler import Priority, Scheduler, Task
from voxcli.errors import InputError
from voxcli.sizes import clock, format_size
from voxcli.sources import Source

SAME_SPAN = 1e-6
"""Two cuts this close (seconds) are the same cut."""


@dataclass(frozen=True)
class PlannedInput:
    """One input of a submission: what is read, how it is named, where its output goes."""

    index: int
    source: Source
    label: str
    """As the user named it: what the JSON output's ``source`` says."""
    rel: str
    """Its path relative to the output directory, with its own name (the custom_id's)."""
    output: Path
    audio_track: int | None = None
    """``--audio-track``: the audio stream uploaded (None: the first)."""

    @property
    def display_name(self) -> str:
        return self.source.display_name

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Piece:
    """One request's audio: an uploaded file or a URL, and for a part its span."""

    file_id: str | None = None
    url: str | None = None
    start: float | None = None
    end: float | None = None
    bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "url": self.url,
            "start": self.start,
            "end": self.end,
            "bytes": self.bytes,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Piece:
        return cls(
            data.get("file_id"),
            data.get("url"),
            data.get("start"),
            data.get("end"),
            int(data.get("bytes") or 0),
        )


@dataclass(frozen=True)
class ReadyInput:
    """An input whose audio is all uploaded: the journal's ``ready`` record."""

    index: int
    duration: float | None
    pieces: tuple[Piece, ...]

    def record(self) -> dict[str, Any]:
        return {
            "t": "ready",
            "input": self.index,
            "duration": self.duration,
            "pieces": [piece.to_json() for piece in self.pieces],
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ReadyInput:
        return cls(
            int(data["input"]),
            data.get("duration"),
            tuple(Piece.from_json(p) for p in data.get("pieces") or ()),
        )


@dataclass(frozen=True)
class Upload:
    """One finished upload (the journal's ``upload`` record); ``part`` None: whole file."""

    input: int
    part: int | None
    piece: Piece
    at: float

    def record(self) -> dict[str, Any]:
        head = {"t": "upload", "input": self.input, "part": self.part, "at": self.at}
        return {**head, **self.piece.to_json()}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Upload:
        part = data.get("part")
        return cls(
            int(data["input"]),
            None if part is None else int(part),
            Piece.from_json(data),
            float(data.get("at") or 0.0),
        )


@dataclass(frozen=True)
class UploadSetup:
    """What every input of one submission shares."""

    api: MistralApi
    params: TranscriptionParams
    journal: Journal
    limit: int
    expiry_hours: int
    upload_mode: str = "auto"
    split: SplitOptions = field(default_factory=SplitOptions)
    earlier: Mapping[tuple[int, int | None], Upload] = field(default_factory=dict)
    """Uploads an interrupted submit finished (and still alive long enough to reuse)."""
    say: Say = silent
    warn: Say = silent


def make_ready(setup: UploadSetup, planned: PlannedInput, context: JobContext) -> ReadyInput:
    """Upload what ``planned`` needs (nothing for a URL) and journal it as ready."""
    source = planned.source
    if source.is_url:
        check_url_track(source, planned.audio_track)
        if setup.split.split_minutes is not None:
            setup.warn(
                f"{planned}: --split-minutes does not apply to URLs (the API fetches them whole)"
            )
        ready = ReadyInput(planned.index, None, (Piece(url=source.raw),))
    else:
        ready = _local(setup, planned, context)
    setup.journal.append(ready.record())
    return ready


def _local(setup: UploadSetup, planned: PlannedInput, context: JobContext) -> ReadyInput:
    source, label = planned.source, planned.label
    with local_audio_path(source, None, context.temp_dir) as path:
        info = probe_source(source, path, planned.audio_track)
        plan = longform.plan_split(
            info, setup.upload_mode, setup.params, setup.split, limit=setup.limit, label=label
        )
        if plan is not None:
            if setup.params.diarize and not setup.params.speaker_references:
                setup.warn(
                    f"{label}: split into parts; speaker labels restart in each part, so "
                    "'Speaker 1' in one part is not necessarily 'Speaker 1' in another"
                )
            assert info.duration is not None
            setup.say(
                f"{label}: {clock(info.duration)} long; cutting parts of about "
                f"{clock(plan.part_seconds)} at quiet points ({plan.reason})"
            )
            parts = cut_into_parts(
                path, plan.part_seconds, plan.search_seconds, context.temp_dir, track=info.track
            )
            pieces = _PartUploads(setup, planned, context).run(parts)
            return ReadyInput(planned.index, pieces[-1].end, pieces)
        if setup.split.split_minutes is not None and not info.decodable:
            setup.warn(f"{label}: voxcli cannot cut {info.format} files; sending it in one request")
        earlier = setup.earlier.get((planned.index, None))
        if earlier is not None:
            setup.say(f"{label}: uploaded before, not sent again")
            return ReadyInput(planned.index, info.duration, (earlier.piece,))
        with prepared_audio(source, path, setup.upload_mode, info, context.temp_dir) as ready:
            setup.say(upload_summary(source, ready).replace("sending", "uploading", 1))
            assert ready.payload.path is not None
            file_id = setup.api.upload_file(
                ready.payload.path,
                ready.payload.file_name,
                "audio",
                expiry_hours=setup.expiry_hours,
                on_upload=context.on_upload,
            )
        piece = Piece(file_id=file_id, bytes=ready.sent_bytes)
        setup.journal.append(Upload(planned.index, None, piece, time.time()).record())
        return ReadyInput(planned.index, ready.info.duration, (piece,))


class _PartUploads:
    """Uploads one recording's parts as part tasks; returns their pieces in order."""

    def __init__(self, setup: UploadSetup, planned: PlannedInput, context: JobContext) -> None:
        self.setup = setup
        self.planned = planned
        self.scheduler: Scheduler = context.scheduler
        self.context = context
        self.stem = Path(planned.source.file_name).stem or "audio"
        self.tasks: list[Task[Piece]] = []
        self._lock = threading.Lock()
        self.reused = 0

    def run(self, parts: Generator[PartFile]) -> tuple[Piece, ...]:
        scheduler = self.scheduler
        try:
            for part in parts:
                if part.bytes > self.setup.limit:  # cannot happen with plan_split's bound
                    part.path.unlink(missing_ok=True)
                    raise InputError(
                        f"{self.planned}: part {part.index + 1} is {format_size(part.bytes)}, "
                        f"over the {format_size(self.setup.limit)} upload limit",
                        hint="pass a smaller --split-minutes",
                    )
                self.tasks.append(scheduler.submit(self._sender(part), Priority.PART))
                scheduler.wait_until(self._room_for_another)
                if self._failed():
                    break
        finally:
            parts.close()
        pieces: list[Piece] = []
        errors: list[BaseException] = []
        for task in self.tasks:  # every part already sent is journaled: wait for all
            try:
                pieces.append(scheduler.join(task))
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        self.setup.say(
            f"{self.planned}: {len(pieces)} parts uploaded"
            + (f", {self.reused} of them before" if self.reused else "")
        )
        return tuple(pieces)

    def _room_for_another(self) -> bool:
        unsent = sum(not task.done() for task in self.tasks)
        return unsent <= self.setup.split.jobs or self._failed()

    def _failed(self) -> bool:
        return any(task.done() and task.exception() is not None for task in self.tasks)

    def _sender(self, part: PartFile) -> Callable[[], Piece]:
        setup, index = self.setup, self.planned.index

        def send() -> Piece:
            try:
                earlier = setup.earlier.get((index, part.index))
                if (
                    earlier is not None
                    and earlier.piece.start is not None
                    and earlier.piece.end is not None
                    and abs(earlier.piece.start - part.start) < SAME_SPAN
                    and abs(earlier.piece.end - part.end) < SAME_SPAN
                ):
                    with self._lock:
                        self.reused += 1
                    return earlier.piece
                name = f"{self.stem}.part{part.index + 1:03d}.flac"
                file_id = setup.api.upload_file(
                    part.path,
                    name,
                    "audio",
                    expiry_hours=setup.expiry_hours,
                    on_upload=self.context.on_upload,
                )
                piece = Piece(file_id=file_id, start=part.start, end=part.end, bytes=part.bytes)
                setup.journal.append(Upload(index, part.index, piece, time.time()).record())
                return piece
            finally:
                part.path.unlink(missing_ok=True)

        return send
