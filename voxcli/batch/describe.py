"""How ``batch status`` and ``batch list`` describe a job: pure functions of its state."""

from __future__ import annotations

import datetime
from typing import Any

from voxcli.api import BatchJobInfo
from voxcli.sizes import clock


def age_seconds(info: BatchJobInfo, now: float) -> float:
    """Time since the job was created."""
    return max(0.0, now - info.created_at) if info.created_at else 0.0


def eta_seconds(info: BatchJobInfo, now: float) -> float | None:
    """For a running job, the time left at the pace it has kept since it started; None
    when there is no pace yet (queued, nothing completed) or it is not running."""
    if info.status != "RUNNING" or not info.started_at or info.completed <= 0:
        return None
    elapsed = now - info.started_at
    if elapsed <= 0 or info.total <= info.completed:
        return None
    return elapsed / info.completed * (info.total - info.completed)


def progress(info: BatchJobInfo) -> str:
    """``340/1000 done, 2 failed``."""
    failed = f", {info.failed} failed" if info.failed else ""
    return f"{info.completed}/{info.total} done{failed}"


def status_line(name: str | None, info: BatchJobInfo, now: float, collected: bool) -> str:
    """One job on one line: batch, job id, state, progress, age, estimate."""
    state = info.status + (", collected" if collected else "")
    line = (
        f"{name or '-'}  {info.id}  {state}  {progress(info)}  age {clock(age_seconds(info, now))}"
    )
    eta = eta_seconds(info, now)
    if eta is not None:
        line += f"  about {clock(eta)} left"
    if info.finished and info.errors:
        line += f"  ({'; '.join(info.errors)})"
    return line


def status_record(
    name: str | None, info: BatchJobInfo, now: float, collected: bool, output_dir: str | None
) -> dict[str, Any]:
    """The same, for ``-f json``."""
    eta = eta_seconds(info, now)
    return {
        "batch": name,
        "job": info.id,
        "status": info.status,
        "model": info.model,
        "total": info.total,
        "completed": info.completed,
        "succeeded": info.succeeded,
        "failed": info.failed,
        "created_at": info.created_at,
        "started_at": info.started_at,
        "completed_at": info.completed_at,
        "age_seconds": round(age_seconds(info, now), 3),
        "eta_seconds": None if eta is None else round(eta, 3),
        "errors": list(info.errors),
        "collected": collected,
        "output_dir": output_dir,
    }


def local_time(timestamp: float) -> str:
    """``2026-11-04 15:32`` in the local time zone."""
    when = datetime.datetime.fromtimestamp(timestamp)
    return when.strftime("%Y-%m-%d %H:%M")
