"""The progress display of a run: Rich on a terminal, nothing otherwise.

:func:`make_progress` decides once: a live display only when stderr is a terminal and
``--quiet`` is off; cron and pipes get :class:`NullProgress`. Worker threads report
upload bytes through :meth:`uploaded`; Rich's progress is thread-safe.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console as RichConsole
    from rich.progress import Progress as RichProgressBar
    from rich.progress import TaskID

    from voxcli.env import Environment

LARGE_UPLOAD = 8 * 1000 * 1000
"""Uploads at least this big get their own bytes bar."""


class NullProgress:
    """No display (stderr is not a terminal, or ``--quiet``)."""

    def start(self, total: int) -> None:
        pass

    def begin(self, index: int, name: str) -> None:
        pass

    def end(self, index: int) -> None:
        """Input ``index`` is finished, whatever its outcome (done, skipped, failed...)."""

    def uploaded(self, index: int, sent: int, total: int) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress(NullProgress):
    """Files done of total, the current file(s), elapsed and remaining time, upload bytes."""

    def __init__(self, console: RichConsole) -> None:
        self._console = console
        self._bar: RichProgressBar | None = None
        self._files: TaskID | None = None
        self._active: dict[int, str] = {}
        self._uploads: dict[int, TaskID] = {}
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[count]}", justify="right"),
            BarColumn(bar_width=24),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=self._console,
            transient=True,
        )
        self._files = self._bar.add_task("", total=total, count=f"0/{total} files")
        self._bar.start()

    def _describe(self) -> str:
        names = list(self._active.values())
        if not names:
            return ""
        more = f" (+{len(names) - 1} more)" if len(names) > 1 else ""
        return f"{names[0]}{more}"

    def begin(self, index: int, name: str) -> None:
        if self._bar is None or self._files is None:
            return
        with self._lock:
            self._active[index] = name
            self._bar.update(self._files, description=self._describe())

    def end(self, index: int) -> None:
        if self._bar is None or self._files is None:
            return
        with self._lock:
            self._active.pop(index, None)
            upload = self._uploads.pop(index, None)
            if upload is not None:
                self._bar.remove_task(upload)
            self._bar.advance(self._files)
            task = self._bar.tasks[0]
            self._bar.update(
                self._files,
                description=self._describe(),
                count=f"{int(task.completed)}/{int(task.total or 0)} files",
            )

    def uploaded(self, index: int, sent: int, total: int) -> None:
        if self._bar is None or total < LARGE_UPLOAD:
            return
        with self._lock:
            if index not in self._active:
                return
            task = self._uploads.get(index)
            count = f"{_megabytes(sent)}/{_megabytes(total)} MB"
            if task is None:
                self._uploads[index] = self._bar.add_task(
                    f"uploading {self._active[index]}", total=total, completed=sent, count=count
                )
            else:
                self._bar.update(task, completed=sent, count=count)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f}"


def make_progress(*, env: Environment, quiet: bool) -> NullProgress:
    """A Rich display when stderr is a terminal and not ``quiet``; else none."""
    if quiet or not env.stderr_isatty:
        return NullProgress()
    return RichProgress(env.console.rich())
