"""``collect --wait``: how long to sleep between polls, and what a terminal shows meanwhile.

Polls start every ``--poll`` seconds and back off politely (half as long again each time
nothing moved, up to ten times ``--poll`` or five minutes) until a job makes progress.
Every wait has a deadline: the jobs' own timeout, after which the API ends them anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voxcli.api import BatchJobInfo

if TYPE_CHECKING:
    from rich.status import Status

BACKOFF_FACTOR = 1.5
LONGEST_POLL = 300.0
DEADLINE_GRACE = 3600.0
"""The wait gives up this long after the last job's own timeout."""


@dataclass(frozen=True)
class Backoff:
    """The poll interval: ``first`` seconds, growing while nothing changes."""

    first: float

    @property
    def longest(self) -> float:
        return max(self.first, min(LONGEST_POLL, 10 * self.first))

    def next(self, current: float, moved: bool) -> float:
        if moved:
            return self.first
        return min(self.longest, current * BACKOFF_FACTOR)


def deadline_for(infos: Sequence[BatchJobInfo], timeout_hours: Sequence[int]) -> float:
    """When waiting for these jobs is pointless: the latest of their own timeouts, plus
    a grace period (Unix time)."""
    ends = [
        info.created_at + hours * 3600 for info, hours in zip(infos, timeout_hours, strict=True)
    ]
    return max(ends, default=0.0) + DEADLINE_GRACE


def progress_key(infos: Sequence[BatchJobInfo]) -> tuple[Any, ...]:
    """What changes when the jobs move on (their states and counts)."""
    return tuple((info.id, info.status, info.completed, info.failed) for info in infos)


def waiting_text(infos: Sequence[BatchJobInfo], next_poll: float) -> str:
    done = sum(info.completed for info in infos)
    total = sum(info.total for info in infos)
    return (
        f"waiting for {len(infos)} job(s): {done}/{total} requests done; "
        f"next check in {next_poll:.0f} s"
    )


class WaitDisplay:
    """A one-line status on a terminal; nothing elsewhere (cron, pipes, ``--quiet``)."""

    def __init__(self, status: Status | None = None) -> None:
        self._status = status
        self._started = False

    def show(self, text: str) -> None:
        if self._status is None:
            return
        self._status.update(text)
        if not self._started:
            self._status.start()
            self._started = True

    def stop(self) -> None:
        if self._status is not None and self._started:
            self._status.stop()
            self._started = False
