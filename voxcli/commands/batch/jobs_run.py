"""Running ``batch status``, ``batch cancel`` and ``batch list``.

Imported only when one of them runs. Server text (job errors, metadata) reaches the
terminal through the console or :func:`printable`, never raw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from voxcli.api import BatchJobInfo, MistralApi
from voxcli.batch.describe import local_time, status_line, status_record
from voxcli.batch.store import BatchStore, JobRef
from voxcli.commands import common
from voxcli.config import Settings
from voxcli.console import printable
from voxcli.env import Environment
from voxcli.errors import ApiError, UsageError
from voxcli.output.sinks import write_stdout


def _local_refs(store: BatchStore) -> list[JobRef]:
    """Every local job not collected yet (and batches whose submit never finished)."""
    refs: list[JobRef] = []
    for summary in store.summaries():
        if summary.phase != "submitted":
            refs.append(JobRef(summary.name, None))
            continue
        refs += [
            JobRef(summary.name, job_id)
            for job_id in summary.jobs
            if not store.is_collected(summary.name, job_id)
        ]
    return refs


def _resolve(store: BatchStore, refs: Sequence[str]) -> list[JobRef]:
    found = [target for ref in refs for target in store.resolve(ref)]
    return list(dict.fromkeys(found))


def show_status(
    env: Environment, refs: Sequence[str], *, as_json: bool, settings: Settings
) -> None:
    """Each job's state, progress, age and estimate (``-f json``: a JSON array)."""
    store = BatchStore(env.state_dir)
    targets = _resolve(store, refs) if refs else _local_refs(store)
    records: list[dict[str, Any]] = []
    lines: list[str] = []
    now = time.time()
    if targets and any(t.job_id is not None for t in targets):
        with common.open_api(settings, jobs=4) as api:
            for target in targets:
                if target.job_id is None:
                    continue
                info = api.get_batch_job(target.job_id)
                collected = False
                output_dir = None
                if target.name is not None:
                    store.remember(target.name, [info])
                    collected = store.is_collected(target.name, target.job_id)
                    summary = store.summary(target.name)
                    output_dir = summary.output_dir if summary is not None else None
                records.append(status_record(target.name, info, now, collected, output_dir))
                lines.append(status_line(target.name, info, now, collected))
    for target in targets:
        if target.job_id is None:  # still uploading: nothing on the server yet
            records.append({"batch": target.name, "job": None, "status": "UPLOADING"})
            lines.append(f"{target.name}  -  UPLOADING  (submit interrupted: run it again)")
    if as_json:
        write_stdout(json.dumps(records, indent=2, ensure_ascii=False) + "\n", env.stdout)
    elif lines:
        write_stdout("".join(printable(line) + "\n" for line in lines), env.stdout)
    elif env.stderr_isatty:
        env.console.info("no batch jobs waiting to be collected")


def cancel_jobs(env: Environment, refs: Sequence[str], *, settings: Settings, quiet: bool) -> None:
    """Ask the API to cancel each job (a finished one is left as it is)."""
    if not refs:
        raise UsageError("name the JOB to cancel")
    store = BatchStore(env.state_dir)
    targets = _resolve(store, refs)
    console = env.console
    with common.open_api(settings, jobs=4) as api:
        for target in targets:
            label = f"batch {target.name} job" if target.name else "job"
            if target.job_id is None:
                console.warn(
                    f"batch {target.name} was never submitted (its submit was interrupted): "
                    "there is nothing to cancel"
                )
                continue
            info = _cancel(api, target.job_id)
            if info.running or info.status == "CANCELLED":
                message = f"{label} {info.id}: {info.status}; collect it to write what finished"
            else:
                message = f"{label} {info.id}: already finished ({info.status})"
            if target.name is not None:
                store.remember(target.name, [info])
            if not quiet:
                console.info(message)


def _cancel(api: MistralApi, job_id: str) -> BatchJobInfo:
    """Cancel; a job the API will not cancel because it has finished is returned as is."""
    try:
        return api.cancel_batch_job(job_id)
    except ApiError as exc:
        if exc.status not in (400, 409):
            raise
        info = api.get_batch_job(job_id)
        if info.running:
            raise
        return info


def list_jobs(env: Environment, *, remote: bool, as_json: bool, settings: Settings) -> None:
    """The local batches, or with ``remote`` the account's jobs."""
    store = BatchStore(env.state_dir)
    if remote:
        with common.open_api(settings, jobs=4) as api:
            infos = api.list_batch_jobs()
        _print_remote(env, store, infos, as_json)
        return
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for summary in store.summaries():
        states = []
        for job_id, info in summary.jobs.items():
            state = info.status if info is not None else "SUBMITTED"
            if store.is_collected(summary.name, job_id):
                state = "COLLECTED"
            states.append(state)
        state = ",".join(sorted(set(states))) if states else "UPLOADING"
        rows.append(
            {
                "batch": summary.name,
                "created_at": summary.created_at,
                "state": state,
                "jobs": list(summary.jobs),
                "inputs": summary.inputs,
                "requests": summary.requests,
                "output_dir": summary.output_dir,
                "retry_of": summary.retry_of,
            }
        )
        lines.append(
            f"{summary.name}  {local_time(summary.created_at)}  {state}  "
            f"{summary.inputs} input(s), {summary.requests} request(s) in "
            f"{len(summary.jobs)} job(s)  -> {summary.output_dir}"
        )
    if as_json:
        write_stdout(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", env.stdout)
    elif lines:
        write_stdout("".join(printable(line) + "\n" for line in lines), env.stdout)
    elif env.stderr_isatty:
        env.console.info("no local batches")


def _print_remote(
    env: Environment, store: BatchStore, infos: Sequence[BatchJobInfo], as_json: bool
) -> None:
    local = {job_id: s.name for s in store.summaries() for job_id in s.jobs}
    now = time.time()
    if as_json:
        records = [
            status_record(local.get(i.id), i, now, False, None) | {"metadata": dict(i.metadata)}
            for i in infos
        ]
        write_stdout(json.dumps(records, indent=2, ensure_ascii=False) + "\n", env.stdout)
        return
    lines = [
        f"{status_line(local.get(i.id), i, now, False)}  {i.model or ''}  "
        f"created {local_time(i.created_at)}"
        for i in infos
    ]
    write_stdout("".join(printable(line) + "\n" for line in lines), env.stdout)
