"""The run loop of ``voxcli transcribe``: many inputs, concurrently, safely.

The command hands over a list of :class:`Job` and a ``transcribe_one(source)``
callable. Worker threads (``--jobs`` of them) do the slow part: local audio work,
the request, rendering. Everything that has an effect happens in the main thread,
in one place: taking locks, writing outputs (atomically), printing to stdout in
input order, the report, messages and the exit code. So when a signal arrives
(always in the main thread) nothing can be half-written behind our back: the loop
stops submitting, cancels what has not started, reports every unfinished input as
``cancelled``, releases its locks (removing the output folders they created) and
deletes the run's private temporary directory, where every temporary audio file of
the run lives, before the interrupt propagates. Requests still in flight are abandoned;
``voxcli.cli.main`` ends the process without waiting for them, which closes their
connections.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voxcli import console, signals
from voxcli.engine.locks import OutputLock, try_lock
from voxcli.errors import AuthError, ExitCode, VoxcliError
from voxcli.output.progress import NullProgress
from voxcli.output.report import ReportWriter
from voxcli.output.sinks import write_atomic, write_stdout
from voxcli.sources import Source
from voxcli.transcript import Transcript

Status = Literal["done", "skipped", "locked", "failed", "cancelled"]
TranscribeOne = Callable[..., Transcript]
"""``transcribe_one(source, on_upload=callback)``."""
Render = Callable[[Transcript], str]


@dataclass(frozen=True)
class Job:
    """One input, where its result goes (None: stdout), and why it is refused, if it is."""

    source: Source
    target: Path | None = None
    error: VoxcliError | None = None  # e.g. its output collides with another input's


@dataclass(frozen=True)
class RunOptions:
    """How to run the jobs; decided by the command from the flags."""

    jobs: int = 4
    skip_existing: bool = False
    fail_fast: bool = False
    verbose: bool = False
    quiet: bool = False
    show_summary: bool = False
    report: ReportWriter | None = None
    progress: NullProgress = field(default_factory=NullProgress)


@dataclass
class Summary:
    """Counts of a finished (or stopped) run."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    locked: int = 0
    failed: int = 0
    cancelled: int = 0
    audio_seconds: float = 0.0
    elapsed: float = 0.0

    def line(self) -> str:
        parts = [f"{self.done} done", f"{self.skipped} skipped"]
        if self.locked:
            parts.append(f"{self.locked} locked by another run")
        parts.append(f"{self.failed} failed")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        return (
            f"{', '.join(parts)}; {self.audio_seconds / 60:.1f} audio minutes "
            f"in {_duration(self.elapsed)}"
        )


@dataclass(frozen=True)
class _Result:
    transcript: Transcript
    text: str
    started: float


@dataclass
class _Running:
    index: int
    job: Job
    lock: OutputLock | None
    started: float


def run_jobs(
    jobs: list[Job], transcribe_one: TranscribeOne, render: Render, options: RunOptions
) -> int:
    """Process every job; return the exit code (0, or 1 if any input failed).

    A single input's error is raised as is (its own exit code). An authentication
    error stops the whole run at once, since every other request would fail the same way.
    """
    return _Run(jobs, transcribe_one, render, options).run()


class _Run:
    def __init__(
        self, jobs: list[Job], transcribe_one: TranscribeOne, render: Render, options: RunOptions
    ) -> None:
        self.jobs = jobs
        self.transcribe_one = transcribe_one
        self.render = render
        self.options = options
        self.progress = options.progress
        self.summary = Summary(total=len(jobs))
        self.running: dict[Future[_Result], _Running] = {}
        # Results for stdout wait here until every earlier input has been printed.
        self.finished: dict[int, str | None] = {}
        self.next_to_print = 0
        self.stop_submitting = False
        self.queue: deque[tuple[int, Job]] = deque(enumerate(jobs))

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        start = time.monotonic()
        private_tmp = tempfile.mkdtemp(prefix="voxcli-run-")
        saved_tempdir, tempfile.tempdir = tempfile.tempdir, private_tmp
        workers = self.options.jobs + self._read_ahead()
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voxcli")
        self.progress.start(len(self.jobs))
        queue = self.queue
        try:
            while queue or self.running:
                while queue and not self.stop_submitting and len(self.running) < workers:
                    index, job = queue.popleft()
                    self._submit(executor, index, job)
                if not self.running:
                    break
                done, _ = wait(list(self.running), timeout=1.0, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: self.running[f].index):
                    self._collect(future)
            while queue:  # --fail-fast stopped the run: the rest never started
                index, job = queue.popleft()
                self._cancelled(index, job, time.monotonic())
            self.summary.elapsed = time.monotonic() - start
        except BaseException:
            with signals.exit_on_next():
                executor.shutdown(wait=False, cancel_futures=True)
                for running in self.running.values():
                    if running.lock is not None:
                        running.lock.release()
                self._report_abandoned()
                self.running.clear()
                self.progress.stop()
                shutil.rmtree(private_tmp, ignore_errors=True)
                tempfile.tempdir = saved_tempdir
            raise
        executor.shutdown(wait=True)
        self.progress.stop()
        shutil.rmtree(private_tmp, ignore_errors=True)
        tempfile.tempdir = saved_tempdir
        return self._finish()

    def _read_ahead(self) -> int:
        """Inputs prepared (probed, re-encoded) ahead while --jobs requests are in flight.

        That keeps local work off the critical path (the API's semaphore still bounds
        requests): as many as --jobs, so a whole round of answers can be followed at once.
        With --fail-fast none, since an input prepared ahead would still be sent after a
        failure.
        """
        return 0 if self.options.fail_fast else self.options.jobs

    def _report_abandoned(self) -> None:
        """On the way out after a signal (or a run-stopping error): the unfinished inputs."""
        now = time.monotonic()
        unfinished = [(r.index, r.job, r.started) for r in self.running.values()]
        unfinished += [(index, job, now) for index, job in self.queue]
        self.queue.clear()
        if self.options.report is None:
            return
        with contextlib.suppress(Exception):  # the report must not stand in the way out
            for _, job, started in sorted(unfinished, key=lambda entry: entry[0]):
                self._report(job, "cancelled", started=started)

    def _submit(self, executor: ThreadPoolExecutor, index: int, job: Job) -> None:
        lock = None
        target = job.target
        if job.error is not None:
            self._failed(index, job, job.error, time.monotonic())
            return
        if target is not None:
            if self.options.skip_existing and target.exists():
                self._skipped(index, job, "skipped", f"{target} exists")
                return
            try:
                lock = try_lock(target)
            except VoxcliError as exc:  # e.g. the output's directory cannot be created
                self._failed(index, job, exc, time.monotonic())
                return
            if lock is None:
                self._skipped(index, job, "locked", f"another voxcli run is writing {target}")
                return
            if self.options.skip_existing and target.exists():  # finished while we waited
                lock.release()
                self._skipped(index, job, "skipped", f"{target} exists")
                return
        future = executor.submit(self._work, index, job)
        self.running[future] = _Running(index, job, lock, time.monotonic())

    def _work(self, index: int, job: Job) -> _Result:
        """In a worker thread: transcribe and render one source (no side effects)."""
        started = time.monotonic()
        self.progress.begin(index, _display_name(job.source))

        def on_upload(sent: int, total: int) -> None:
            self.progress.uploaded(index, sent, total)

        transcript = self.transcribe_one(job.source, on_upload=on_upload)
        return _Result(transcript, self.render(transcript), started)

    def _collect(self, future: Future[_Result]) -> None:
        running = self.running.pop(future)
        index, job = running.index, running.job
        written = False
        try:
            try:
                result = future.result()
                if job.target is not None:
                    write_atomic(job.target, result.text)
                    written = True
            finally:
                if running.lock is not None:
                    running.lock.release(written=written)
        except AuthError as exc:
            self._report(job, "failed", error=exc.message, started=running.started)
            raise
        except Exception as exc:
            self._failed(index, job, exc, running.started)
            return
        self._done(index, job, result)

    # -- outcomes ---------------------------------------------------------------------------

    def _done(self, index: int, job: Job, result: _Result) -> None:
        transcript = result.transcript
        seconds = _audio_seconds(transcript)
        self.progress.end(index)
        self.summary.done += 1
        self.summary.audio_seconds += seconds or 0.0
        self._report(
            job,
            "done",
            audio_seconds=seconds,
            transcript=transcript,
            started=result.started,
        )
        if job.target is None:
            self._ready(index, result.text)
        else:
            self._ready(index, None)
            if self.options.verbose and not self.options.quiet:
                console.info(f"{job.source}: wrote {job.target}")

    def _skipped(self, index: int, job: Job, status: Status, why: str) -> None:
        self.progress.end(index)
        if status == "locked":
            self.summary.locked += 1
        else:
            self.summary.skipped += 1
        self._report(job, status, started=time.monotonic())
        self._ready(index, None)
        if self.options.verbose and not self.options.quiet:
            console.info(f"{job.source}: skipped, {why}")

    def _failed(self, index: int, job: Job, exc: Exception, started: float) -> None:
        if isinstance(exc, VoxcliError):
            message, hint = exc.message, exc.hint
        else:
            message, hint = f"unexpected error: {type(exc).__name__}: {exc}", None
        self.progress.end(index)
        self._report(job, "failed", error=message, started=started)
        if len(self.jobs) == 1:
            raise exc
        self.summary.failed += 1
        self._ready(index, None)
        console.input_error(job.source, message, hint)
        if self.options.fail_fast:
            self.stop_submitting = True

    def _cancelled(self, index: int, job: Job, started: float) -> None:
        self.progress.end(index)
        self.summary.cancelled += 1
        self._report(job, "cancelled", started=started)
        self._ready(index, None)

    def _ready(self, index: int, text: str | None) -> None:
        """Record a finished input; print stdout results that are next in input order."""
        self.finished[index] = text
        while self.next_to_print in self.finished:
            pending = self.finished.pop(self.next_to_print)
            self.next_to_print += 1
            if pending is not None:
                write_stdout(pending)

    def _report(
        self,
        job: Job,
        status: Status,
        *,
        error: str | None = None,
        audio_seconds: float | None = None,
        transcript: Transcript | None = None,
        started: float,
    ) -> None:
        if self.options.report is None:
            return
        self.options.report.write(
            source=str(job.source),
            output=str(job.target) if job.target is not None else None,
            status=status,
            error=error,
            audio_seconds=audio_seconds,
            usage=transcript.usage if transcript is not None else None,
            elapsed=time.monotonic() - started,
        )

    def _finish(self) -> int:
        summary = self.summary
        if self.options.show_summary and not self.options.quiet:
            console.info(summary.line())
        if summary.failed:
            not_run = summary.cancelled
            stopped = f"; stopped early, {not_run} not run (--fail-fast)" if not_run else ""
            console.error(f"{summary.failed} of {summary.total} inputs failed{stopped}")
            return ExitCode.FAILURE
        return ExitCode.OK


def _audio_seconds(transcript: Transcript) -> float | None:
    if transcript.duration is not None:
        return transcript.duration
    if transcript.usage is not None:
        return transcript.usage.prompt_audio_seconds
    return None


def _display_name(source: Source) -> str:
    return source.file_name if source.kind == "file" else str(source)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
