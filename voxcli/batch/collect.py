"""``voxcli batch collect``: a finished job's results written as ``transcribe`` writes them.

For one job of a local batch, under the batch's lock (a second collector skips it):

1. the output and error files are downloaded into the batch's ``results/`` (each appears
   whole or not at all; a re-run reuses them);
2. every input not settled yet is read from its requests' results (parts merged on one
   timeline), rendered and written atomically by the engine's runner (per-output locks,
   one outcome per input), exactly as ``transcribe`` renders and writes;
3. each input that settles (written, or failed or cancelled as the API says) is
   journaled at once, so a collect killed half-way writes only the others next time;
4. once all are settled, the job's uploaded audio and input files are deleted (each
   deletion journaled), the job is marked collected and the downloads are removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from voxcli import render
from voxcli.api import BatchJobInfo, MistralApi
from voxcli.batch.journal import Journal
from voxcli.batch.manifest import InputEntry, Manifest
from voxcli.batch.results import ResultIndex
from voxcli.batch.store import BatchStore
from voxcli.console import Say, silent
from voxcli.engine.merge import merge_parts
from voxcli.engine.runner import Job, JobContext, Outcome, Produced, RunOptions, run_jobs
from voxcli.errors import ApiError, InputError, VoxcliError
from voxcli.output.progress import NullProgress
from voxcli.transcript import Transcript

DOWNLOAD_BASE_BYTES = 64 * 1000 * 1000
DOWNLOAD_BYTES_PER_REQUEST = 4 * 1000 * 1000
"""A job's result file may hold this much per request (plus the base), no more: a
transcription with word timestamps of the longest request is well under 2 MB."""

State = Literal["running", "locked", "collected", "already", "unfinished"]


class RequestFailed(VoxcliError):
    """The API reports that an input's request failed."""


class NotRun(VoxcliError):
    """The job ended before the input ran; ``status`` is how to record it."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


def settled_status(outcome: Outcome) -> str | None:
    """How an outcome is recorded for good: ``done``, or ``failed``/``cancelled`` as the
    API decided; None for what a re-run should try again (a local failure, a lock)."""
    if outcome.status == "done":
        return "done"
    if isinstance(outcome.error, NotRun):
        return outcome.error.status
    if isinstance(outcome.error, RequestFailed):
        return "failed"
    return None


@dataclass(frozen=True)
class CollectSettings:
    """How to collect."""

    temp_dir: Path
    jobs: int = 4
    keep_uploads: bool = False
    progress: Callable[[], NullProgress] = NullProgress
    on_outcome: Callable[[Outcome], None] = lambda outcome: None
    say: Say = silent
    warn: Say = silent


@dataclass(frozen=True)
class JobCollected:
    """What collecting one job did."""

    name: str
    job_id: str
    state: State
    info: BatchJobInfo | None = None
    outcomes: tuple[Outcome, ...] = ()
    settled_before: int = 0


def collect_job(
    store: BatchStore, api: MistralApi, name: str, job_id: str, settings: CollectSettings
) -> JobCollected:
    """Collect ``job_id`` of batch ``name`` (see the module docs)."""
    lock = store.try_lock(name)
    if lock is None:
        return JobCollected(name, job_id, "locked")
    try:
        if store.is_collected(name, job_id):
            return JobCollected(name, job_id, "already")
        info = api.get_batch_job(job_id)
        store.remember(name, [info])
        if info.running:
            return JobCollected(name, job_id, "running", info)
        manifest = store.manifest(name)
        with store.journal(name, "collect") as journal:
            return _Collect(store, api, manifest, info, settings, journal).run()
    finally:
        lock.release(written=True)


def download_results(
    store: BatchStore, api: MistralApi, name: str, info: BatchJobInfo
) -> list[Path]:
    """The job's output and error files in the batch's ``results/`` (downloaded once)."""
    bound = DOWNLOAD_BASE_BYTES + DOWNLOAD_BYTES_PER_REQUEST * max(info.total, 1)
    paths = []
    for kind, file_id in (("output", info.output_file), ("error", info.error_file)):
        if not file_id:
            continue
        path = store.results_dir(name) / f"{info.id}.{kind}.jsonl"
        if not path.exists():
            api.download_file(file_id, path, bound)
        paths.append(path)
    return paths


class _Collect:
    def __init__(
        self,
        store: BatchStore,
        api: MistralApi,
        manifest: Manifest,
        info: BatchJobInfo,
        settings: CollectSettings,
        journal: Journal,
    ) -> None:
        self.store = store
        self.api = api
        self.manifest = manifest
        self.info = info
        self.settings = settings
        self.journal = journal
        self.name = manifest.name

    def run(self) -> JobCollected:
        info = self.info
        settled = self._settled()
        entries = [e for e in self.manifest.inputs_of(info.id) if e.index not in settled]
        outcomes: list[Outcome] = []
        if entries:
            files = download_results(self.store, self.api, self.name, info)
            with ResultIndex(files) as index:
                outcomes = self._write(entries, index)
        remaining = [o for o in outcomes if settled_status(o) is None]
        if remaining:
            return JobCollected(
                self.name, info.id, "unfinished", info, tuple(outcomes), len(settled)
            )
        if not self.settings.keep_uploads:
            self._delete_uploads()
        self.store.mark_collected(self.name, info.id)
        folder = self.store.results_dir(self.name)
        for path in folder.glob(f"{info.id}.*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # gone, or another job's results are still there
            folder.rmdir()
        return JobCollected(self.name, info.id, "collected", info, tuple(outcomes), len(settled))

    def _settled(self) -> dict[int, str]:
        settled: dict[int, str] = {}
        for record in self.store.records(self.name, "collect"):
            if record.get("t") == "input" and record.get("job") == self.info.id:
                settled[int(record["input"])] = str(record.get("status"))
        return settled

    # -- writing ---------------------------------------------------------------------

    def _write(self, entries: list[InputEntry], index: ResultIndex) -> list[Outcome]:
        options = self.manifest.options
        fmt, render_options = options.output_format, options.render
        granularities = options.params.timestamp_granularities
        say = self.settings.say
        refused = _shared_outputs(entries)

        def work(job: Job, context: JobContext) -> Produced:
            entry: InputEntry = job.source
            transcript = self._transcript(entry, index, granularities)
            text, cues = render.render_with_report(transcript, fmt, render_options)
            if cues is not None:
                say(f"{entry.source}: {cues.summary(render_options)}")
            return Produced((text,), transcript)

        def settle(outcome: Outcome) -> None:
            status = settled_status(outcome)
            if status is not None:
                error = outcome.error
                self.journal.append(
                    {
                        "t": "input",
                        "job": self.info.id,
                        "input": outcome.job.source.index,
                        "status": status,
                        "error": _message(error) if error is not None else None,
                    }
                )
            self.settings.on_outcome(outcome)

        jobs = [Job(e, (e.output,), refused.get(e.index)) for e in entries]
        return run_jobs(
            jobs,
            work,
            RunOptions(
                temp_dir=self.settings.temp_dir,
                jobs=self.settings.jobs,
                progress=self.settings.progress(),
                on_outcome=settle,
            ),
        )

    def _transcript(
        self, entry: InputEntry, index: ResultIndex, granularities: tuple[str, ...]
    ) -> Transcript:
        """The input's transcript, as ``transcribe`` would have made it."""
        count = len(entry.requests)
        answers: list[Transcript] = []
        for number, request in enumerate(entry.requests, start=1):
            line = index.get(request.custom_id)
            if line is None:
                raise self._not_run()
            if not line.ok:
                where = f"part {number} of {count}: " if count > 1 else ""
                raise RequestFailed(f"{entry.source}: {where}{line.error}")
            answers.append(self.api.batch_result_transcript(index.body(line), granularities))
        if not entry.split:
            return replace(answers[0], source=entry.source, duration=entry.duration)
        spans = [(r.start or 0.0, r.end or 0.0) for r in entry.requests]
        parts = [
            (s, e, replace(a, duration=e - s)) for (s, e), a in zip(spans, answers, strict=True)
        ]
        total = spans[-1][1] if spans else entry.duration
        return merge_parts(
            parts,
            source=entry.source,
            duration=total,
            short_seconds=self.manifest.options.render.min_cue_duration,
        )

    def _not_run(self) -> NotRun:
        info = self.info
        if info.status == "CANCELLED":
            return NotRun("the job was cancelled before this input ran", "cancelled")
        if info.status == "TIMEOUT_EXCEEDED":
            return NotRun("the job ran out of time before this input ran", "failed")
        if info.status == "FAILED":
            why = f": {'; '.join(info.errors)}" if info.errors else ""
            return NotRun(f"the job failed before this input ran{why}", "failed")
        return NotRun("the job's results do not include this input", "failed")

    # -- clean-up ------------------------------------------------------------------------

    def _delete_uploads(self) -> None:
        """Delete the job's audio and input files (a failure is a warning: they expire)."""
        deleted = {
            str(r.get("file_id"))
            for r in self.store.records(self.name, "collect")
            if r.get("t") == "deleted"
        }
        entry = self.manifest.job(self.info.id)
        ids = [
            request.file_id
            for e in self.manifest.inputs_of(self.info.id)
            for request in e.requests
            if request.file_id
        ]
        ids += list(entry.input_files if entry is not None else self.info.input_files)
        todo = [file_id for file_id in dict.fromkeys(ids) if file_id not in deleted]
        if not todo:
            return
        api = self.api

        def delete(job: Job, context: JobContext) -> Produced:
            try:
                api.delete_file(job.source)
            except ApiError as exc:
                if exc.status != 404:  # already gone (expired, or deleted by hand)
                    raise
            return Produced(())

        def done(outcome: Outcome) -> None:
            if outcome.status == "done":
                self.journal.append({"t": "deleted", "file_id": outcome.job.source})

        outcomes = run_jobs(
            [Job(file_id) for file_id in todo],
            delete,
            RunOptions(temp_dir=self.settings.temp_dir, jobs=self.settings.jobs, on_outcome=done),
        )
        failed = sum(o.status != "done" for o in outcomes)
        if failed:
            self.settings.warn(
                f"batch {self.name}: {failed} uploaded file(s) could not be deleted; "
                f"they expire on their own within {self.manifest.options.expiry_hours} hours "
                "of their upload"
            )
        else:
            self.settings.say(f"batch {self.name}: deleted {len(todo)} uploaded file(s)")


def _shared_outputs(entries: Iterable[InputEntry]) -> dict[int, InputError]:
    """Inputs whose output another input of the job would write too (a job submitted
    elsewhere whose custom_ids differ only in the extension)."""
    first: dict[str, InputEntry] = {}
    refused: dict[int, InputError] = {}
    for entry in entries:
        key = os.path.normcase(os.path.normpath(entry.output))
        other = first.setdefault(key, entry)
        if other is not entry:
            refused[entry.index] = InputError(
                f"{entry.source} and {other.source} would both be written to {entry.output}"
            )
    return refused


def _message(error: BaseException) -> str:
    if isinstance(error, VoxcliError):
        return error.message
    return f"unexpected error: {type(error).__name__}: {error}"
