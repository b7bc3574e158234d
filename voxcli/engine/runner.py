"""Many inputs, concurrently, safely; one :class:`Outcome` per input.

The command hands over a list of :class:`Job` and a ``work(job, context)`` callable
that produces the job's output text (one per target, or one for stdout). Work runs on
the run's :class:`~voxcli.engine.scheduler.Scheduler`; everything with an effect
happens here, in the main thread: taking locks, writing outputs (atomically), printing
to stdout in input order. So when a signal arrives (always in the main thread) nothing
is half-written: the scheduler stops, every unfinished input becomes ``cancelled``,
locks are released (removing the output folders they created) and the run's private
temporary directory is deleted before the interrupt propagates.

The runner neither prints messages nor picks the exit code: it reports each outcome to
``on_outcome`` as it happens and returns them all; the command decides what they mean.
It knows nothing of transcription, so other kinds of work (collecting Batch API
results) can use it unchanged.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from voxcli import signals
from voxcli.api.uploads import UploadCallback
from voxcli.engine.locks import OutputLock, try_lock
from voxcli.engine.scheduler import Cancelled, Priority, Scheduler, Task
from voxcli.errors import VoxcliError
from voxcli.output.progress import NullProgress
from voxcli.output.sinks import write_atomic
from voxcli.output.sweep import make_run_dir

Status = Literal["done", "skipped", "locked", "failed", "cancelled", "unstable"]


class NotNow(Exception):
    """Raised by a job's work: the input is not ready (e.g. still being written); it ends
    with ``status`` and ``reason``, writes nothing, and is not a failure."""

    def __init__(self, reason: str, status: Status = "unstable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Job:
    """One input, where its results go (no targets: stdout), and why it is refused, if so."""

    source: Any
    targets: tuple[Path, ...] = ()
    error: VoxcliError | None = None  # e.g. its output collides with another input's

    @property
    def target(self) -> Path | None:
        return self.targets[0] if self.targets else None


@dataclass(frozen=True)
class Produced:
    """What a job's work made: one text per target (or one for stdout), and a detail the
    command may want back (the transcript)."""

    texts: tuple[str, ...]
    detail: Any = None
    targets: tuple[Path, ...] | None = None
    """Where the texts go when only the work could tell (``--name`` with a detected
    ``{lang}``), in place of the job's provisional targets (same folders, which hold
    their locks); a name another input of the run already wrote fails this input."""


@dataclass(frozen=True)
class Outcome:
    """How one input ended."""

    index: int
    job: Job
    status: Status
    error: BaseException | None = None
    detail: Any = None
    reason: str | None = None  # why it was skipped or cancelled
    elapsed: float = 0.0


@dataclass(frozen=True)
class JobContext:
    """What a job's work gets besides the job: the scheduler (for its parts), the run's
    private temporary directory, and where upload progress goes."""

    index: int
    scheduler: Scheduler
    temp_dir: Path
    on_upload: UploadCallback | None = None
    on_part: Callable[[int, int, int], None] | None = None
    """A split recording's parts: (answered, in all, requests in flight)."""


Work = Callable[[Job, JobContext], Produced]


@dataclass(frozen=True)
class RunOptions:
    """How to run the jobs; decided by the command from the flags."""

    temp_dir: Path
    """Where the run's private temporary directory is made (the environment's)."""
    jobs: int = 4
    skip_existing: bool = False
    fail_fast: bool = False
    progress: NullProgress = field(default_factory=NullProgress)
    write_stdout: Callable[[str], None] = lambda text: None
    stops_run: Callable[[BaseException], bool] = lambda error: False
    """An error that makes every other input pointless (a rejected key) stops the run."""
    on_outcome: Callable[[Outcome], None] = lambda outcome: None


@dataclass
class _Running:
    index: int
    job: Job
    locks: list[OutputLock]
    started: float


def workers_for(options: RunOptions) -> int:
    """The pool's size: ``--jobs`` requests in flight, and one more worker that prepares
    the next input meanwhile (none with ``--fail-fast``, where an input prepared ahead
    would still be sent after a failure)."""
    return options.jobs + (0 if options.fail_fast else 1)


def queued_ahead(options: RunOptions) -> int:
    """How many inputs wait in the pool's queue, locked, beyond one per worker: a worker
    that finishes an input takes the next one at once instead of waiting for the main
    thread to write the finished one's output (two fsyncs) and hand it another. With
    ``--fail-fast`` none: a queued input would still start after the failure."""
    return 0 if options.fail_fast else options.jobs


def run_jobs(jobs: Sequence[Job], work: Work, options: RunOptions) -> list[Outcome]:
    """Process every job; return one outcome per job, in input order."""
    return _Run(jobs, work, options).run()


class _Run:
    def __init__(self, jobs: Sequence[Job], work: Work, options: RunOptions) -> None:
        self.jobs = jobs
        self.work = work
        self.options = options
        self.progress = options.progress
        self.outcomes: dict[int, Outcome] = {}
        self.running: dict[Task[Produced], _Running] = {}
        self.finished: dict[int, str | None] = {}  # stdout results waiting for their turn
        self.next_to_print = 0
        self.stop_reason: str | None = None
        self.queue: deque[tuple[int, Job]] = deque(enumerate(jobs))
        self.scheduler: Scheduler | None = None
        self.named: dict[str, Any] = {}  # late-named outputs written so far, by their source

    def run(self) -> list[Outcome]:
        options = self.options
        workers = workers_for(options)
        extra = queued_ahead(options)
        ahead = workers + extra
        scheduler = self.scheduler = Scheduler(workers)
        run_dir = make_run_dir(options.temp_dir)  # locked while we live (see output.sweep)
        private_tmp = run_dir.path
        self.progress.start(len(self.jobs))
        try:
            while self.queue or self.running:
                self._top_up(scheduler, private_tmp, ahead)
                if not self.running:
                    break
                done = scheduler.wait_any(self.running, timeout=1.0)
                if extra:  # refill before writing what finished (not with --fail-fast:
                    # a failure among ``done`` must stop the run before anything new)
                    self._top_up(scheduler, private_tmp, ahead)
                for task in done:
                    if task in self.running:  # a run-stopping error may have dropped it
                        self._collect(task)
            while self.queue:  # stopped early: the rest never started
                index, job = self.queue.popleft()
                self._cancelled(index, job, time.monotonic(), self.stop_reason)
        except BaseException:
            with signals.exit_on_next():
                scheduler.close()
                self._abandon()
                self.progress.stop()
                run_dir.remove()
            raise
        scheduler.close()
        self.progress.stop()
        run_dir.remove()
        return [self.outcomes[i] for i in range(len(self.jobs))]

    # -- submitting and collecting -----------------------------------------------------

    def _top_up(self, scheduler: Scheduler, temp: Path, ahead: int) -> None:
        """Hand inputs to the pool until ``ahead`` of them are unfinished. Inputs are
        locked when handed over, so only a few are claimed before they run."""
        unfinished = sum(1 for task in self.running if not task.done())
        while self.queue and self.stop_reason is None and unfinished < ahead:
            index, job = self.queue.popleft()
            if self._submit(scheduler, temp, index, job):
                unfinished += 1

    def _submit(self, scheduler: Scheduler, temp: Path, index: int, job: Job) -> bool:
        """Lock ``job``'s outputs and queue its work; False if it ended here instead
        (refused, skipped, locked by another run)."""
        now = time.monotonic()
        if job.error is not None:
            self._failed(index, job, job.error, now)
            return False
        if self.options.skip_existing and _up_to_date(job):
            self._skipped(index, job, "skipped", f"{_names(job.targets)} exists")
            return False
        locks: list[OutputLock] = []
        for target in job.targets:
            try:
                lock = try_lock(target)
            except VoxcliError as exc:  # e.g. the output's directory cannot be created
                _release(locks)
                self._failed(index, job, exc, now)
                return False
            if lock is None:
                _release(locks)
                self._skipped(index, job, "locked", f"another voxcli run is writing {target}")
                return False
            locks.append(lock)
        if self.options.skip_existing and _up_to_date(job):  # finished while we waited
            _release(locks)
            self._skipped(index, job, "skipped", f"{_names(job.targets)} exists")
            return False
        context = JobContext(
            index, scheduler, temp, self._upload_callback(index), self._parts_callback(index)
        )
        name = getattr(job.source, "display_name", str(job.source))
        progress, stops_run = self.progress, self.options.stops_run
        running = _Running(index, job, locks, now)

        def work() -> Produced:
            running.started = time.monotonic()  # its time in the queue is not its own
            progress.begin(index, name)
            try:
                return self.work(job, context)
            except Exception as exc:
                if stops_run(exc):  # cancel the queued inputs before a worker takes one
                    scheduler.stop()
                raise

        task = scheduler.submit(work, Priority.INPUT)
        self.running[task] = running
        return True

    def _upload_callback(self, index: int) -> UploadCallback:
        progress = self.progress

        def uploaded(sent: int, total: int) -> None:
            progress.uploaded(index, sent, total)

        return uploaded

    def _parts_callback(self, index: int) -> Callable[[int, int, int], None]:
        progress = self.progress

        def parts(done: int, total: int, sending: int) -> None:
            progress.parts(index, done, total, sending)

        return parts

    def _collect(self, task: Task[Produced]) -> None:
        running = self.running.pop(task)
        index, job = running.index, running.job
        written = False
        try:
            try:
                produced = task.result()
                if produced.targets is not None:
                    job = replace(job, targets=self._claim(produced.targets, job))
                for target, text in zip(job.targets, produced.texts, strict=False):
                    write_atomic(target, text)
                written = bool(job.targets)
            finally:
                for lock in running.locks:
                    lock.release(written=written)
        except Cancelled:
            self._cancelled(index, job, running.started, self.stop_reason)
            return
        except NotNow as exc:
            self._record(Outcome(index, job, exc.status, reason=exc.reason), running.started)
            self._ready(index, None)
            return
        except Exception as exc:
            self._failed(index, job, exc, running.started)
            return
        self._record(Outcome(index, job, "done", detail=produced.detail), running.started)
        self._ready(index, produced.texts[0] if not job.targets and produced.texts else None)

    def _claim(self, targets: tuple[Path, ...], job: Job) -> tuple[Path, ...]:
        """Late-named ``targets`` for ``job``, unless another input already wrote one."""
        for target in targets:
            other = self.named.get(os.path.normcase(os.path.normpath(target)))
            if other is not None:
                from voxcli.errors import InputError

                raise InputError(f"{job.source} and {other} would both be written to {target}")
        for target in targets:
            self.named[os.path.normcase(os.path.normpath(target))] = job.source
        return targets

    def _abandon(self) -> None:
        """On the way out after a signal: the unfinished inputs are cancelled."""
        now = time.monotonic()
        unfinished = [(r.index, r.job, r.started, r.locks) for r in self.running.values()]
        unfinished += [(index, job, now, []) for index, job in self.queue]
        self.running.clear()
        self.queue.clear()
        for index, job, started, locks in sorted(unfinished, key=lambda entry: entry[0]):
            _release(locks)
            with contextlib.suppress(Exception):  # nothing may stand in the way out
                self._record(Outcome(index, job, "cancelled", reason="interrupted"), started)

    # -- outcomes ----------------------------------------------------------------------

    def _record(self, outcome: Outcome, started: float) -> None:
        outcome = replace(outcome, elapsed=time.monotonic() - started)
        self.outcomes[outcome.index] = outcome
        self.progress.end(outcome.index)
        self.options.on_outcome(outcome)

    def _skipped(self, index: int, job: Job, status: Status, why: str) -> None:
        self._record(Outcome(index, job, status, reason=why), time.monotonic())
        self._ready(index, None)

    def _failed(self, index: int, job: Job, exc: BaseException, started: float) -> None:
        self._record(Outcome(index, job, "failed", error=exc), started)
        self._ready(index, None)
        if self.options.stops_run(exc):
            self._stop_now(str(getattr(exc, "message", exc)))
        elif self.options.fail_fast and self.stop_reason is None:
            self.stop_reason = "--fail-fast"  # what is in flight still finishes

    def _stop_now(self, reason: str) -> None:
        """Every other input would fail the same way: cancel what has not started and
        abandon what is in flight (its daemon thread ends with the process)."""
        self.stop_reason = self.stop_reason or reason
        if self.scheduler is not None:
            self.scheduler.stop()
        for task, running in list(self.running.items()):
            del self.running[task]
            _release(running.locks)
            self._cancelled(running.index, running.job, running.started, reason)

    def _cancelled(self, index: int, job: Job, started: float, why: str | None) -> None:
        self._record(Outcome(index, job, "cancelled", reason=why), started)
        self._ready(index, None)

    def _ready(self, index: int, text: str | None) -> None:
        """Record a finished input; print stdout results that are next in input order."""
        self.finished[index] = text
        while self.next_to_print in self.finished:
            pending = self.finished.pop(self.next_to_print)
            self.next_to_print += 1
            if pending is not None:
                self.options.write_stdout(pending)


def _up_to_date(job: Job) -> bool:
    """Every output exists and none is older than the job's source file (one changed
    since its transcript was written is done again)."""
    if not job.targets:
        return False
    source = getattr(job.source, "path", None)
    try:
        changed = os.stat(source).st_mtime if source is not None else None
    except OSError:
        changed = None  # gone or unreadable: its own error comes later
    for target in job.targets:
        try:
            written = os.stat(target).st_mtime
        except OSError:
            return False
        if changed is not None and changed > written:
            return False
    return True


def _names(targets: tuple[Path, ...]) -> str:
    return ", ".join(str(target) for target in targets)


def _release(locks: list[OutputLock]) -> None:
    for lock in locks:
        lock.release()
