"""``voxcli batch submit``: inputs uploaded, requests grouped into jobs, jobs created.

Every step is recorded before the next one starts, so running the same command again
after Ctrl-C, SIGTERM or a network failure resumes where it stopped and nothing is
uploaded or submitted twice:

1. the batch is made (manifest in phase ``uploading``) under a lock on the submission's
   key: a hash of the inputs (path, size, modification time, ``--audio-track``; URLs)
   and the options;
2. each input's audio is uploaded (journal: ``upload`` per file, ``ready`` per input);
3. the requests are grouped into jobs of at most ``max_batch_requests`` (``plan``);
4. each job's input lines go inline when small, else as uploaded JSONL files
   (``input_file``); the job is created (``creating`` before the call, ``job`` after: a
   job created by a run killed before it could record it is found again by its metadata);
5. the manifest is rewritten in phase ``submitted``, with every request's custom_id.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voxcli.api import BatchJobInfo, MistralApi, TranscriptionParams
from voxcli.batch.customid import RequestName, format_custom_id
from voxcli.batch.journal import Journal
from voxcli.batch.manifest import InputEntry, JobEntry, Manifest, RequestEntry
from voxcli.batch.options import BatchOptions
from voxcli.batch.plan import INLINE_MAX_REQUESTS, chunk_inputs, fits_inline, input_line
from voxcli.batch.store import BatchStore, Summary
from voxcli.batch.upload import PlannedInput, ReadyInput, Upload, UploadSetup, make_ready
from voxcli.console import Say, silent
from voxcli.engine.longform import SplitOptions
from voxcli.engine.runner import Job, JobContext, Outcome, Produced, RunOptions, run_jobs
from voxcli.errors import ApiError, InputError, UsageError
from voxcli.output.progress import NullProgress

REUSE_MARGIN_HOURS = 1
"""An earlier upload is reused only while it outlives the job's timeout by this much."""


@dataclass(frozen=True)
class Submission:
    """What to submit: the options, the inputs, and the key that identifies the pair."""

    options: BatchOptions
    params: TranscriptionParams
    """The options' parameters with the speaker references loaded (sent in every line)."""
    inputs: tuple[PlannedInput, ...]
    key: str
    retry_of: str | None = None
    server_url: str | None = None


@dataclass(frozen=True)
class SubmitSettings:
    """How to run a submission."""

    temp_dir: Path
    limit: int
    """The API's file limit: each upload, and each input file of a job."""
    max_requests: int
    jobs: int = 4
    split: SplitOptions = field(default_factory=SplitOptions)
    progress: NullProgress = field(default_factory=NullProgress)
    stops_run: Callable[[BaseException], bool] = lambda error: False
    on_outcome: Callable[[Outcome], None] = lambda outcome: None
    guard: Callable[[Callable[[], BatchJobInfo]], BatchJobInfo] = lambda create: create()
    """Runs the job creation (translating the API's refusals about the model)."""
    again: bool = False
    say: Say = silent
    warn: Say = silent


@dataclass(frozen=True)
class Submitted:
    """How a submission ended: its manifest; ``already`` when an earlier run had
    submitted it all; the inputs left out (unusable), with their outcomes."""

    manifest: Manifest
    already: bool = False
    left_out: tuple[Outcome, ...] = ()


class UploadsUnfinished(ApiError):
    """Some uploads failed: nothing was submitted, and a re-run resumes."""


def submission_key(
    options: BatchOptions, inputs: Sequence[PlannedInput], *, retry_of: str | None = None
) -> str:
    """What identifies a submission: the options and each input (a file by its real
    path, size and modification time, so an edited file is a new submission; and the
    audio stream chosen, so another ``--audio-track`` is a new submission too)."""
    described: list[Any] = []
    for planned in inputs:
        path = planned.source.path
        # (no track: the same key as before --audio-track existed)
        track = [] if planned.audio_track is None else [{"audio_track": planned.audio_track}]
        if path is None:
            described.append([planned.source.raw, str(planned.output), *track])
            continue
        try:
            st = os.stat(path)
            stamp: list[Any] = [st.st_size, st.st_mtime_ns]
        except OSError:
            stamp = [None, None]
        described.append([planned.source.identity, *stamp, str(planned.output), *track])
    payload = {"options": options.to_json(), "inputs": described, "retry_of": retry_of}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class _Journaled:
    """What an earlier run of the same submission recorded."""

    uploads: dict[tuple[int, int | None], Upload] = field(default_factory=dict)
    ready: dict[int, ReadyInput] = field(default_factory=dict)
    plan: list[list[int]] | None = None
    input_files: dict[tuple[int, int], str] = field(default_factory=dict)
    creating: set[int] = field(default_factory=set)
    jobs: dict[int, str] = field(default_factory=dict)

    @classmethod
    def read(cls, records: Iterable[Mapping[str, Any]]) -> _Journaled:
        state = cls()
        for record in records:
            kind = record.get("t")
            try:
                if kind == "upload":
                    upload = Upload.from_record(record)
                    state.uploads[(upload.input, upload.part)] = upload
                elif kind == "ready":
                    ready = ReadyInput.from_record(record)
                    state.ready[ready.index] = ready
                elif kind == "plan":
                    state.plan = [[int(i) for i in chunk] for chunk in record["chunks"]]
                elif kind == "input_file":
                    key = (int(record["chunk"]), int(record["file"]))
                    state.input_files[key] = str(record["file_id"])
                elif kind == "creating":
                    state.creating.add(int(record["chunk"]))
                elif kind == "job":
                    state.jobs[int(record["chunk"])] = str(record["id"])
            except (KeyError, TypeError, ValueError):
                continue  # a record this version does not understand
        return state


def submit_batch(
    store: BatchStore, api: MistralApi, submission: Submission, settings: SubmitSettings
) -> Submitted:
    """Submit (or resume submitting) ``submission``; see the module docs."""
    lock = store.submission_lock(submission.key)
    if lock is None:
        raise UsageError(
            "another voxcli batch submit of these inputs is running",
            hint="wait for it to finish (voxcli batch list shows it)",
        )
    try:
        found = store.find_submission(submission.key)
        if found is not None and found.phase == "submitted" and not settings.again:
            return Submitted(store.manifest(found.name), already=True)
        if found is not None and found.phase == "uploading":
            manifest = store.manifest(found.name)
            settings.say(f"resuming batch {manifest.name}: uploading what is missing")
        else:
            manifest = _new_batch(store, submission)
        try:
            with store.journal(manifest.name, "submit") as journal:
                return _Submit(store, api, submission, settings, manifest, journal).run()
        except BaseException:
            if next(store.records(manifest.name, "submit"), None) is None:
                store.remove(manifest.name)  # nothing was uploaded: nothing to resume
            raise
    finally:
        lock.release()


def _new_batch(store: BatchStore, submission: Submission) -> Manifest:
    name = store.create()
    manifest = Manifest(
        name=name,
        created_at=int(time.time()),
        submission=submission.key,
        options=submission.options,
        inputs=tuple(
            InputEntry(p.index, p.label, _read_path(p), p.output, audio_track=p.audio_track)
            for p in submission.inputs
        ),
        server_url=submission.server_url,
        retry_of=submission.retry_of,
    )
    store.save_manifest(manifest)
    store.save_summary(Summary.of(manifest))
    return manifest


def _read_path(planned: PlannedInput) -> str | None:
    path = planned.source.path
    return None if path is None else os.path.abspath(path)


class _Submit:
    def __init__(
        self,
        store: BatchStore,
        api: MistralApi,
        submission: Submission,
        settings: SubmitSettings,
        manifest: Manifest,
        journal: Journal,
    ) -> None:
        self.store = store
        self.api = api
        self.submission = submission
        self.settings = settings
        self.manifest = manifest
        self.journal = journal
        self.earlier = _Journaled.read(store.records(manifest.name, "submit"))
        self.by_index = {p.index: p for p in submission.inputs}

    def run(self) -> Submitted:
        left_out = self._upload()
        plan = self.earlier.plan
        if plan is None:
            counts = [(i, len(self.earlier.ready[i].pieces)) for i in sorted(self.earlier.ready)]
            plan = chunk_inputs(counts, self.settings.max_requests)
            self.journal.append({"t": "plan", "chunks": plan})
        entries = {i: self._entry(self.by_index[i], self.earlier.ready[i]) for c in plan for i in c}
        jobs: list[JobEntry] = []
        for chunk_index, chunk in enumerate(plan):
            requests = [request for i in chunk for request in entries[i].requests]
            job = self._job(chunk_index, len(plan), requests)
            jobs.append(JobEntry(job.id, job.input_files, job.inline, len(requests), len(chunk)))
            for i in chunk:
                entries[i] = replace(entries[i], job=job.id)
        manifest = self.manifest.submitted(tuple(jobs), tuple(entries[i] for c in plan for i in c))
        self.store.save_manifest(manifest)
        self.store.save_summary(Summary.of(manifest))
        return Submitted(manifest, left_out=tuple(left_out))

    # -- uploads ------------------------------------------------------------------

    def _upload(self) -> list[Outcome]:
        """Upload every input not ready yet; the outcomes of inputs left out as unusable.
        Raises when an upload failed for any other reason (a re-run resumes)."""
        earlier, settings = self.earlier, self.settings
        if earlier.plan is not None:
            return []
        options = self.submission.options
        reusable_after = time.time() - 3600 * (
            options.expiry_hours - options.timeout_hours - REUSE_MARGIN_HOURS
        )
        for index, ready in list(earlier.ready.items()):
            if _stale(ready, earlier.uploads, reusable_after):
                del earlier.ready[index]
        todo = [p for p in self.submission.inputs if p.index not in earlier.ready]
        if not todo:
            return []
        setup = UploadSetup(
            api=self.api,
            params=self.submission.params,
            journal=self.journal,
            limit=settings.limit,
            expiry_hours=options.expiry_hours,
            upload_mode=options.upload,
            split=settings.split,
            earlier={k: u for k, u in earlier.uploads.items() if u.at >= reusable_after},
            say=settings.say,
            warn=settings.warn,
        )

        def work(job: Job, context: JobContext) -> Produced:
            return Produced((), make_ready(setup, job.source, context))

        outcomes = run_jobs(
            [Job(planned) for planned in todo],
            work,
            RunOptions(
                temp_dir=settings.temp_dir,
                jobs=settings.jobs,
                progress=settings.progress,
                stops_run=settings.stops_run,
                on_outcome=settings.on_outcome,
            ),
        )
        stopper = next((o.error for o in outcomes if o.error and settings.stops_run(o.error)), None)
        if stopper is not None:
            raise stopper
        for outcome in outcomes:
            if outcome.status == "done":
                earlier.ready[outcome.detail.index] = outcome.detail
        unusable = [o for o in outcomes if isinstance(o.error, InputError)]
        unfinished = [o for o in outcomes if o.status != "done" and o not in unusable]
        if unfinished:
            count = len(unfinished)
            raise UploadsUnfinished(
                f"{count} of {len(outcomes)} uploads failed; nothing was submitted yet",
                hint=f"run the same command again: it uploads only what is missing "
                f"(batch {self.manifest.name})",
            )
        if not earlier.ready:
            if len(unusable) == 1 and unusable[0].error is not None:
                raise unusable[0].error
            raise InputError(f"none of the {len(unusable)} inputs can be used; nothing submitted")
        return unusable

    # -- requests and jobs ----------------------------------------------------------

    def _entry(self, planned: PlannedInput, ready: ReadyInput) -> InputEntry:
        pieces = ready.pieces
        requests: tuple[RequestEntry, ...]
        if len(pieces) == 1 and pieces[0].start is None:
            piece = pieces[0]
            name = RequestName(planned.rel, duration=ready.duration)
            requests = (RequestEntry(format_custom_id(name), piece.file_id, piece.url),)
        else:
            count = len(pieces)
            requests = tuple(
                RequestEntry(
                    format_custom_id(RequestName(planned.rel, k + 1, count, p.start, p.end)),
                    p.file_id,
                    p.url,
                    p.start,
                    p.end,
                )
                for k, p in enumerate(pieces)
            )
        return InputEntry(
            planned.index,
            planned.label,
            _read_path(planned),
            planned.output,
            ready.duration,
            None,
            requests,
            planned.audio_track,
        )

    def _job(self, chunk: int, chunks: int, requests: list[RequestEntry]) -> _CreatedJob:
        """The chunk's job: created earlier (journaled, or found by its metadata), or now."""
        if chunk in self.earlier.jobs:
            job_id = self.earlier.jobs[chunk]
            return _CreatedJob(job_id, self._files_of(chunk), not self._files_of(chunk))
        params = self.submission.params
        inline: list[dict[str, Any]] = []
        input_files: tuple[str, ...] = ()
        if len(requests) <= INLINE_MAX_REQUESTS:
            lines = [input_line(request, params) for request in requests]
            if fits_inline(lines):
                inline = [json.loads(line) for line in lines]
        if not inline:
            input_files = self._input_files(chunk, chunks, requests)
        options = self.submission.options
        metadata = {**options.metadata(self.manifest.name), "voxcli_chunk": str(chunk)}
        found = self._created_before(chunk, metadata) if chunk in self.earlier.creating else None
        if found is None:
            self.journal.append({"t": "creating", "chunk": chunk, "at": time.time()})
            found = self.settings.guard(
                lambda: self.api.create_batch_job(
                    model=options.model,
                    input_files=input_files,
                    requests=inline,
                    metadata=metadata,
                    timeout_hours=options.timeout_hours,
                )
            )
        self.journal.append({"t": "job", "chunk": chunk, "id": found.id})
        self.settings.say(
            f"job {chunk + 1} of {chunks}: {found.id}, {len(requests)} requests"
            + (" inline" if inline else f" in {len(input_files)} input file(s)")
        )
        return _CreatedJob(found.id, input_files, bool(inline))

    def _files_of(self, chunk: int) -> tuple[str, ...]:
        files = sorted((n, f) for (c, n), f in self.earlier.input_files.items() if c == chunk)
        return tuple(f for _, f in files)

    def _created_before(self, chunk: int, metadata: Mapping[str, str]) -> BatchJobInfo | None:
        """A job an interrupted run created for ``chunk`` but did not get to record."""
        since = self.manifest.created_at - 60
        for info in self.api.list_batch_jobs(created_after=since):
            if all(info.metadata.get(k) == v for k, v in metadata.items()):
                self.settings.say(f"job {chunk + 1}: found {info.id}, created by an earlier run")
                return info
        return None

    def _input_files(
        self, chunk: int, chunks: int, requests: list[RequestEntry]
    ) -> tuple[str, ...]:
        """Upload the chunk's input lines as JSONL files of at most ``limit`` bytes (those
        uploaded by an earlier run are not sent again)."""
        params, limit = self.submission.params, self.settings.limit
        folder = Path(tempfile.mkdtemp(prefix="voxcli-batch-", dir=self.settings.temp_dir))
        try:
            paths: list[Path] = []
            out = None
            size = 0
            try:
                for request in requests:
                    line = input_line(request, params)
                    if len(line) > limit:
                        raise UsageError(
                            f"{request.custom_id}: its request is {len(line)} bytes of JSON, "
                            "more than one input file may hold"
                        )
                    if out is None or size + len(line) > limit:
                        if out is not None:
                            out.close()
                        paths.append(folder / f"{len(paths) + 1}.jsonl")
                        out, size = paths[-1].open("wb"), 0
                    out.write(line)
                    size += len(line)
            finally:
                if out is not None:
                    out.close()
            ids: list[str] = []
            for number, path in enumerate(paths):
                known = self.earlier.input_files.get((chunk, number))
                if known is None:
                    name = f"{self.manifest.name}-job{chunk + 1}of{chunks}-{number + 1}.jsonl"
                    known = self.api.upload_file(
                        path,
                        name,
                        "batch",
                        expiry_hours=self.submission.options.expiry_hours,
                    )
                    self.journal.append(
                        {"t": "input_file", "chunk": chunk, "file": number, "file_id": known}
                    )
                    self.earlier.input_files[(chunk, number)] = known
                ids.append(known)
            return tuple(ids)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _stale(
    ready: ReadyInput, uploads: Mapping[tuple[int, int | None], Upload], after: float
) -> bool:
    """Whether an input made ready by an earlier run has an upload too old to outlive
    the job (or no record of one): it is uploaded again."""
    whole = len(ready.pieces) == 1 and ready.pieces[0].start is None
    for number, piece in enumerate(ready.pieces):
        if piece.file_id is None:
            continue
        upload = uploads.get((ready.index, None if whole else number))
        if upload is None or upload.at < after:
            return True
    return False


@dataclass(frozen=True)
class _CreatedJob:
    id: str
    input_files: tuple[str, ...]
    inline: bool
