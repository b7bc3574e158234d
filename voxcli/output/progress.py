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
    from rich.console import ConsoleOptions, RenderableType, RenderResult
    from rich.measure import Measurement
    from rich.progress import Progress as RichProgressBar
    from rich.progress import ProgressColumn, Task, TaskID

    from voxcli.env import Environment

LARGE_UPLOAD = 8 * 1000 * 1000
"""Uploads at least this big get their own bytes bar."""

MIN_NAME_WIDTH = 8
"""A file name is not cut shorter than this (in cells) to make room for its note."""


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

    def parts(self, index: int, done: int, total: int, sending: int) -> None:
        """Input ``index`` is a split recording: ``done`` of ``total`` parts answered,
        ``sending`` part requests in flight."""

    def stop(self) -> None:
        pass


class RichProgress(NullProgress):
    """Files (or a split recording's parts) done of total, the current file(s), elapsed and
    remaining time, upload bytes, and "waiting for the API" once an upload is complete.

    The name column is the only one that gives way on a narrow terminal: long names are
    cut in the middle so the counter stays visible. "(+N more)" counts the other requests
    in flight, not the inputs being prepared.
    """

    def __init__(self, console: RichConsole) -> None:
        self._console = console
        self._bar: RichProgressBar | None = None
        self._files: TaskID | None = None
        self._total = 0
        self._done = 0
        self._active: dict[int, str] = {}
        self._sending: dict[int, int] = {}  # requests in flight, per input
        self._waiting: set[int] = set()  # single requests whose upload is complete
        self._split: dict[int, tuple[int, int]] = {}  # parts done, total
        self._uploads: dict[int, TaskID] = {}
        self._part_rows: dict[int, TaskID] = {}
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
        from rich.table import Column

        def fixed() -> Column:
            return Column(no_wrap=True)

        bar_width = max(8, min(24, self._console.width - 60))
        self._bar = Progress(
            SpinnerColumn(table_column=fixed()),
            TextColumn("{task.fields[count]}", justify="right", table_column=fixed()),
            BarColumn(bar_width=bar_width, table_column=fixed()),
            TimeElapsedColumn(table_column=fixed()),
            TextColumn("eta", table_column=fixed()),
            TimeRemainingColumn(table_column=fixed()),
            _name_column(),
            console=self._console,
            transient=True,
        )
        self._total = total
        self._files = self._bar.add_task("", total=total, count=f"0/{total} files", note="")
        self._bar.start()

    def refresh(self) -> None:
        """Draw the display now (Rich otherwise redraws a few times a second)."""
        if self._bar is not None:
            self._bar.refresh()

    # -- under the lock ------------------------------------------------------------------

    def _shown(self) -> int | None:
        """The input named on the main line: the first with a request in flight, else
        the first being prepared."""
        for index in self._active:
            if self._sending.get(index):
                return index
        return next(iter(self._active), None)

    def _update_main(self) -> None:
        assert self._bar is not None and self._files is not None
        shown = self._shown()
        name, notes = "", []
        if shown is not None:
            name = self._active[shown]
            if shown in self._waiting and shown not in self._split:
                notes.append("waiting for the API")
            others = sum(self._sending.values()) - (1 if self._sending.get(shown) else 0)
            if others > 0:
                notes.append(f"(+{others} more)")
        count, completed, total = f"{self._done}/{self._total} files", self._done, self._total
        if self._total == 1 and shown is not None and shown in self._split:
            completed, total = self._split[shown]
            count = f"{completed}/{total} parts"
        self._bar.update(
            self._files,
            description=name,
            note=" ".join(notes),
            count=count,
            completed=completed,
            total=total,
        )

    # -- reports -------------------------------------------------------------------------

    def begin(self, index: int, name: str) -> None:
        if self._bar is None:
            return
        with self._lock:
            self._active[index] = name
            self._update_main()

    def end(self, index: int) -> None:
        if self._bar is None:
            return
        with self._lock:
            self._active.pop(index, None)
            self._sending.pop(index, None)
            self._waiting.discard(index)
            self._split.pop(index, None)
            for rows in (self._uploads, self._part_rows):
                task = rows.pop(index, None)
                if task is not None:
                    self._bar.remove_task(task)
            self._done += 1
            self._update_main()

    def uploaded(self, index: int, sent: int, total: int) -> None:
        if self._bar is None:
            return
        with self._lock:
            if index not in self._active:
                return
            if index not in self._split:  # a split recording counts its parts itself
                changed = not self._sending.get(index)
                self._sending[index] = 1
                waiting = sent >= total
                changed |= waiting != (index in self._waiting)
                if waiting:
                    self._waiting.add(index)
                else:
                    self._waiting.discard(index)
                if changed:
                    self._update_main()
            if total < LARGE_UPLOAD:
                return
            name = self._active[index]
            task = self._uploads.get(index)
            if sent >= total:  # the server has it all: now it transcribes
                prefix, note, count = "", "waiting for the API", f"{_megabytes(total)} MB sent"
            else:
                prefix, note = "uploading ", ""
                count = f"{_megabytes(sent)}/{_megabytes(total)} MB"
            if task is None:
                self._uploads[index] = self._bar.add_task(
                    name, total=total, completed=sent, count=count, prefix=prefix, note=note
                )
            else:
                self._bar.update(task, completed=sent, count=count, prefix=prefix, note=note)

    def parts(self, index: int, done: int, total: int, sending: int) -> None:
        if self._bar is None:
            return
        with self._lock:
            if index not in self._active:
                return
            self._split[index] = (done, total)
            self._sending[index] = sending
            self._waiting.discard(index)
            if self._total > 1:  # the main line counts files: a row of its own
                count = f"{done}/{total} parts"
                task = self._part_rows.get(index)
                if task is None:
                    self._part_rows[index] = self._bar.add_task(
                        self._active[index], total=total, completed=done, count=count, note=""
                    )
                else:
                    self._bar.update(task, total=total, completed=done, count=count)
            self._update_main()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _name_column() -> ProgressColumn:
    """The task's description (a file name) and its note; the name is cut in the middle
    to the width the table leaves it (Rich is imported only when a display is made)."""
    from rich.progress import ProgressColumn
    from rich.table import Column

    class NameColumn(ProgressColumn):
        def render(self, task: Task) -> RenderableType:
            fields = task.fields
            return _MiddleCut(
                str(fields.get("prefix", "")), task.description, str(fields.get("note", ""))
            )

    return NameColumn(table_column=Column(no_wrap=False, overflow="crop"))


class _MiddleCut:
    """``prefix name note`` in at most the width available: ``name`` is shortened in its
    middle; when even that is not enough, the note goes, then the end is cropped."""

    def __init__(self, prefix: str, name: str, note: str) -> None:
        self.prefix = prefix
        self.name = name
        self.note = f" {note}" if note and name else note

    def _full(self) -> str:
        return f"{self.prefix}{self.name}{self.note}"

    def __rich_measure__(self, console: RichConsole, options: ConsoleOptions) -> Measurement:
        from rich.cells import cell_len
        from rich.measure import Measurement

        full = cell_len(self._full())
        return Measurement(min(full, MIN_NAME_WIDTH), full)

    def __rich_console__(self, console: RichConsole, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.text import Text

        width = options.max_width
        text = self._full()
        if cell_len(text) > width:
            note = self.note
            room = width - cell_len(self.prefix) - cell_len(note)
            if room < MIN_NAME_WIDTH:  # too narrow for both: the name goes before the note
                note, room = "", width - cell_len(self.prefix)
            text = self.prefix + middle_cut(self.name, max(room, MIN_NAME_WIDTH)) + note
        yield Text(text, no_wrap=True, overflow="crop", end="")


def middle_cut(name: str, width: int) -> str:
    """``name`` in at most ``width`` cells, its middle replaced by "…" when too long."""
    from rich.cells import cell_len

    if cell_len(name) <= width:
        return name
    if width <= 1:
        return "…"[:width]
    head, tail = name[: (len(name) + 1) // 2], name[(len(name) + 1) // 2 :]
    while head and tail and cell_len(head) + cell_len(tail) + 1 > width:
        if cell_len(head) > cell_len(tail):
            head = head[:-1]
        else:
            tail = tail[1:]
    while cell_len(head) + cell_len(tail) + 1 > width:  # only one side left
        head, tail = head[:-1], tail[1:]
    return f"{head}…{tail}"


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f}"


def make_progress(*, env: Environment, quiet: bool) -> NullProgress:
    """A Rich display when stderr is a terminal and not ``quiet``; else none."""
    if quiet or not env.stderr_isatty:
        return NullProgress()
    return RichProgress(env.console.rich())
