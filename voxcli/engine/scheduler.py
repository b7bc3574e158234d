"""One bounded pool of worker threads for a whole run, shared by inputs and their parts.

Every piece of slow work (an input's local audio work and request, a part of a long
recording) is a :class:`Task` on one :class:`Scheduler` with a fixed number of daemon
worker threads, so the thread count never depends on the mix of files and parts. A
task that waits for tasks it spawned (:meth:`Scheduler.join`) runs queued part tasks
itself meanwhile, so waiting never needs another thread and cannot deadlock the pool.

:meth:`Scheduler.stop` (Ctrl-C, SIGTERM, ``--fail-fast``, an authentication error)
cancels every task not started yet; running ones finish or are abandoned with the
process, since workers are daemon threads and nothing joins them.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import Generic, TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.25
"""How often a waiting thread looks again (for a stop, or for work to help with)."""


class Priority(IntEnum):
    """Lower runs first: finish what was started before starting a new input."""

    PART = 0
    INPUT = 1


class Cancelled(Exception):
    """The task never ran: the run was stopped first."""


class Task(Generic[T]):
    """A unit of work and, once done, its result or error."""

    def __init__(self, fn: Callable[[], T], priority: Priority) -> None:
        self.fn = fn
        self.priority = priority
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> T:
        """The result, or the task's exception raised again (only once done)."""
        if not self._done.is_set():
            raise RuntimeError("the task is not done")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def exception(self) -> BaseException | None:
        return self._error

    def _run(self) -> None:
        try:
            self._result = self.fn()
        except BaseException as exc:
            self._error = exc
        self._done.set()

    def _cancel(self) -> None:
        self._error = Cancelled()
        self._done.set()


class Scheduler:
    """``workers`` daemon threads, started as work arrives, running queued tasks."""

    def __init__(self, workers: int, *, name: str = "voxcli") -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, not {workers}")
        self.workers = workers
        self.name = name
        self._queue: list[tuple[int, int, Task[object]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._producers = 0
        self._stopped = threading.Event()
        self._closed = False

    # -- submitting ---------------------------------------------------------------------

    def submit(self, fn: Callable[[], T], priority: Priority = Priority.INPUT) -> Task[T]:
        """Queue ``fn``; after :meth:`stop` the task is cancelled at once."""
        task: Task[T] = Task(fn, priority)
        with self._changed:
            if self._stopped.is_set():
                task._cancel()
                return task
            entry: tuple[int, int, Task[object]] = (priority, next(self._order), task)  # type: ignore[assignment]
            heapq.heappush(self._queue, entry)
            if self._idle == 0 and len(self._threads) < self.workers:
                self._start_worker()
            self._changed.notify_all()
        return task

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    # -- stopping -----------------------------------------------------------------------

    def stop(self) -> None:
        """Cancel every queued task; tasks submitted from now on are cancelled too."""
        with self._changed:
            self._stopped.set()
            queued, self._queue = self._queue, []
            for _, _, task in queued:
                task._cancel()
            self._changed.notify_all()

    def close(self) -> None:
        """Stop, and let idle workers exit (busy ones exit when their task ends)."""
        with self._changed:
            self._closed = True
        self.stop()

    # -- waiting ------------------------------------------------------------------------

    def join(self, task: Task[T]) -> T:
        """Wait for ``task`` and return its result (or raise its error).

        On a worker thread, queued part tasks are run here while waiting, so a task
        waiting for its parts never idles a thread of the pool.
        """
        self._wait(task.done, lambda: True)
        return task.result()

    def wait_until(self, ready: Callable[[], bool]) -> None:
        """Block a producer (a task that feeds parts to the pool) until ``ready()``.

        It runs queued part tasks itself only when every worker is such a producer, since
        then nobody else would; otherwise it leaves them to the others and keeps its place.
        """
        with self._changed:
            self._producers += 1
        try:
            self._wait(ready, lambda: self._producers >= self.workers)
        finally:
            with self._changed:
                self._producers -= 1

    def _wait(self, ready: Callable[[], bool], may_help: Callable[[], bool]) -> None:
        """Wait until ``ready()``; a worker thread runs queued part tasks meanwhile
        whenever ``may_help()`` says so."""
        worker = threading.current_thread() in self._threads
        while not ready():
            queued = self._take(Priority.PART, block=False) if worker and may_help() else None
            if queued is not None:
                self._run(queued)
                continue
            with self._changed:
                if not ready():
                    self._changed.wait(POLL_SECONDS)

    def wait_any(self, tasks: Iterable[Task[T]], timeout: float) -> list[Task[T]]:
        """The tasks of ``tasks`` that are done, waiting up to ``timeout`` for one."""
        pending = list(tasks)
        with self._changed:
            done = [t for t in pending if t.done()]
            if not done and pending:
                self._changed.wait(timeout)
                done = [t for t in pending if t.done()]
        return done

    # -- the workers --------------------------------------------------------------------

    def _take(self, up_to: Priority, *, block: bool) -> Task[object] | None:
        """The next queued task of priority ``up_to`` or more urgent, or None."""
        with self._changed:
            while True:
                if self._queue and self._queue[0][0] <= up_to:
                    return heapq.heappop(self._queue)[2]
                if not block or self._closed:
                    return None
                self._idle += 1
                try:
                    self._changed.wait(POLL_SECONDS)
                finally:
                    self._idle -= 1

    def _run(self, task: Task[object]) -> None:
        """Run ``task`` here, then wake whoever waits for it."""
        task._run()
        with self._changed:
            self._changed.notify_all()

    def _work(self) -> None:
        while (task := self._take(Priority.INPUT, block=True)) is not None:
            self._run(task)
        with self._changed:
            self._threads.discard(threading.current_thread())
