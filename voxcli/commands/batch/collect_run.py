"""Running ``batch collect``: which jobs, waiting for them (``--wait``), what to say.

Imported only when ``voxcli batch collect`` runs. Each job is collected by
:func:`voxcli.batch.collect.collect_job`; this module reports each input (``--report``,
messages), summarises and picks the exit code: 1 when some inputs failed in this run, 0
when everything finished was written (still-running jobs are not failures).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import typer

from voxcli.api import BatchJobInfo, MistralApi
from voxcli.batch.adopt import adopt_job
from voxcli.batch.collect import CollectSettings, JobCollected, collect_job, settled_status
from voxcli.batch.describe import progress
from voxcli.batch.store import BatchStore, JobRef
from voxcli.batch.wait import Backoff, WaitDisplay, deadline_for, progress_key, waiting_text
from voxcli.catalog.cache import cached_card
from voxcli.commands import common
from voxcli.commands.batch.request import CollectRequest
from voxcli.config import Settings
from voxcli.console import silent
from voxcli.engine.runner import Outcome
from voxcli.env import Environment
from voxcli.errors import ApiError, AuthError, ExitCode, UsageError, VoxcliError
from voxcli.output.progress import make_progress
from voxcli.output.report import ReportWriter
from voxcli.output.summary import Summary
from voxcli.pricing import BATCH_PRICE_FACTOR, PriceList, Pricing


@dataclass(frozen=True)
class _Records:
    """Where outcomes are recorded: the ``--report`` lines, priced at batch prices."""

    report: ReportWriter | None
    prices: PriceList
    names: Callable[[str], tuple[str, ...]]
    """A model's other names (from the cached model list), for prices set under them."""

    def pricing(self, model: str) -> Pricing:
        return Pricing(self.prices, model, self.names(model))


@dataclass
class _Tally:
    failed: int = 0
    retry: int = 0
    errors: int = 0
    running: list[BatchJobInfo] = field(default_factory=list)


def collect_all(env: Environment, request: CollectRequest, settings: Settings) -> None:
    """Collect the jobs ``request`` names (default: every local one not collected yet)."""
    store = BatchStore(env.state_dir)
    targets = _targets(store, request)
    if not targets:
        if request.verbose and not request.quiet:
            env.console.info("nothing to collect: every local batch is collected")
        return
    report = ReportWriter(request.report) if request.report is not None else None
    tally = _Tally()
    try:
        with common.open_api(settings, jobs=request.jobs) as api:
            prices = PriceList(settings.prices, factor=BATCH_PRICE_FACTOR)

            def names(model: str) -> tuple[str, ...]:
                card = cached_card(env.cache_dir, settings.server_url, model)
                return card.names if card is not None else ()

            _run(env, store, api, request, targets, _Records(report, prices, names), tally)
    finally:
        if report is not None:
            report.close()
    console = env.console
    if tally.failed:
        console.error(f"{tally.failed} input(s) failed; the report and the messages above say why")
        raise typer.Exit(ExitCode.FAILURE)
    if tally.retry:
        console.error(
            f"{tally.retry} input(s) could not be written; run collect again to retry them"
        )
        raise typer.Exit(ExitCode.FAILURE)
    if tally.errors:
        raise typer.Exit(ExitCode.FAILURE)


def _targets(store: BatchStore, request: CollectRequest) -> list[JobRef]:
    if not request.refs:
        return [
            JobRef(summary.name, job_id)
            for summary in store.summaries()
            if summary.phase == "submitted"
            for job_id in summary.jobs
            if not store.is_collected(summary.name, job_id)
        ]
    found: list[JobRef] = []
    for ref in request.refs:
        for target in store.resolve(ref):
            if target.name is None and request.output_dir is None:
                raise UsageError(
                    f"no local batch or job named {ref}",
                    hint="to collect a job submitted elsewhere, give -d DIR: its outputs are "
                    "named by its custom_ids",
                )
            if target.name is not None and request.output_dir is not None:
                _check_output_dir(store, target.name, request.output_dir)
            found.append(target)
    return list(dict.fromkeys(found))


def _check_output_dir(store: BatchStore, name: str, output_dir: Path) -> None:
    own = store.manifest(name).options.output_dir
    if os.path.abspath(output_dir) != os.path.abspath(own):
        raise UsageError(
            f"batch {name} writes into {own}, as it was submitted",
            hint="drop -d (it is for jobs with no local manifest)",
        )


def _run(
    env: Environment,
    store: BatchStore,
    api: MistralApi,
    request: CollectRequest,
    targets: list[JobRef],
    records: _Records,
    tally: _Tally,
) -> None:
    """Collect every target once, or with ``--wait`` until none is running."""
    backoff = Backoff(request.poll)
    interval = backoff.first
    pending = targets
    display = WaitDisplay(
        env.console.rich().status("") if env.stderr_isatty and not request.quiet else None
    )
    last_key: tuple[object, ...] = ()
    try:
        while True:
            tally.running = []
            still: list[JobRef] = []
            for target in pending:
                try:
                    running, target = _collect_one(env, store, api, request, target, records, tally)
                except (AuthError, KeyboardInterrupt):
                    raise
                except VoxcliError as exc:  # this job only: the others are still collected
                    name = f"batch {target.name}" if target.name else "job"
                    env.console.error(f"{name} {target.job_id}: {exc.message}", exc.hint)
                    tally.errors += 1
                    continue
                if running:
                    still.append(target)
            pending = still
            if not request.wait or not pending:
                break
            infos = tally.running
            deadline = deadline_for(infos, [_timeout_hours(store, t) for t in pending])
            if time.time() > deadline:
                raise ApiError(
                    f"{len(pending)} job(s) are still running after their own timeout",
                    hint="check them with: voxcli batch status",
                )
            key = progress_key(infos)
            interval = backoff.next(interval, moved=key != last_key) if last_key else interval
            last_key = key
            display.show(waiting_text(infos, interval))
            time.sleep(min(interval, max(0.0, deadline - time.time())))
    finally:
        display.stop()


def _timeout_hours(store: BatchStore, target: JobRef) -> int:
    if target.name is None:
        return 24
    try:
        return store.manifest(target.name).options.timeout_hours
    except UsageError:
        return 24


def _collect_one(
    env: Environment,
    store: BatchStore,
    api: MistralApi,
    request: CollectRequest,
    target: JobRef,
    records: _Records,
    tally: _Tally,
) -> tuple[bool, JobRef]:
    """Collect one job; whether it is still running (to wait for), and the job as a local
    batch's (a job with no manifest becomes one once it is finished)."""
    console = env.console
    name, job_id = target.name, target.job_id
    if job_id is None:  # a batch whose submit never finished
        console.warn(
            f"batch {name} has no job yet: its submit was interrupted; run the same "
            "submit command again to finish it"
        )
        return False, target
    if name is None:
        info = api.get_batch_job(job_id)
        if info.running:
            return _note_running(env, request, None, info, tally), target
        assert request.output_dir is not None
        name = adopt_job(
            store,
            api,
            info,
            Path(os.path.abspath(request.output_dir)),
            request.fmt,
            warn=silent if request.quiet else console.warn,  # -q: only errors
        ).name
        if request.verbose and not request.quiet:
            console.info(f"job {job_id}: collected as batch {name}, into {request.output_dir}")
    model = store.manifest(name).options.model
    started = time.monotonic()
    result = collect_job(
        store,
        api,
        name,
        job_id,
        CollectSettings(
            temp_dir=env.temp_dir,
            jobs=request.jobs,
            keep_uploads=request.keep_uploads,
            progress=lambda: make_progress(env=env, quiet=request.quiet),
            on_outcome=lambda outcome: _announce(env, request, records, model, outcome),
            say=common.say_for(env, verbose=request.verbose, quiet=request.quiet),
            warn=silent if request.quiet else console.warn,  # -q: only errors
        ),
    )
    target = JobRef(name, job_id)
    if result.state == "running":
        assert result.info is not None
        return _note_running(env, request, name, result.info, tally), target
    elapsed = time.monotonic() - started
    _note(env, request, result, tally, elapsed, records.pricing(model))
    return False, target


def _note_running(
    env: Environment,
    request: CollectRequest,
    name: str | None,
    info: BatchJobInfo,
    tally: _Tally,
) -> bool:
    tally.running.append(info)
    if not request.wait and _chatty(env, request):
        env.console.info(
            f"batch {name or '-'} job {info.id}: {info.status}, {progress(info)}; "
            "collect it again later"
        )
    return True


def _note(
    env: Environment,
    request: CollectRequest,
    result: JobCollected,
    tally: _Tally,
    elapsed: float,
    pricing: Pricing,
) -> None:
    console = env.console
    where = f"batch {result.name} job {result.job_id}"
    if result.state == "locked":
        if _chatty(env, request):
            console.info(f"batch {result.name}: another voxcli is collecting it; skipped")
        return
    if result.state == "already":
        if request.verbose and not request.quiet:
            console.info(f"{where}: already collected")
        return
    outcomes = result.outcomes
    settled = [settled_status(o) for o in outcomes]
    tally.failed += settled.count("failed")
    tally.retry += sum(
        status is None and o.status == "failed" for status, o in zip(settled, outcomes, strict=True)
    )
    if _chatty(env, request):
        summary = Summary.of(outcomes, elapsed, pricing)
        state = result.info.status if result.info is not None else "?"
        earlier = f", {result.settled_before} earlier" if result.settled_before else ""
        console.info(f"{where} ({state}): {summary.line()}{earlier}")


def _chatty(env: Environment, request: CollectRequest) -> bool:
    """Notes that cron should not mail every ten minutes: on a terminal or with -v."""
    return (request.verbose or env.stderr_isatty) and not request.quiet


def _announce(
    env: Environment, request: CollectRequest, records: _Records, model: str, outcome: Outcome
) -> None:
    """One input's outcome as it happens: its report line, then a message."""
    entry, error = outcome.job.source, outcome.error
    status = settled_status(outcome) or outcome.status
    if (report := records.report) is not None:
        transcript = outcome.detail
        report.write(
            source=str(entry),
            output=str(entry.output),
            status=status,
            error=_message(error) if error is not None else None,
            audio_seconds=Summary.audio_seconds_of(transcript),
            usage=transcript.usage if transcript is not None else None,
            model=model,
            cost=records.pricing(model).cost_of(transcript),
            elapsed=outcome.elapsed,
        )
    console = env.console
    verbose = request.verbose and not request.quiet
    if status == "done" and verbose:
        console.info(f"{entry}: wrote {entry.output}")
    elif status == "cancelled" and verbose:
        console.info(f"{entry}: cancelled, {_message(error) if error else 'not run'}")
    elif status in ("skipped", "locked") and verbose:
        console.info(f"{entry}: skipped, {outcome.reason}")
    elif status == "failed" and error is not None:
        hint = error.hint if isinstance(error, VoxcliError) else None
        console.input_error(entry, _message(error), hint)


def _message(error: BaseException) -> str:
    if isinstance(error, VoxcliError):
        return error.message
    return f"unexpected error: {type(error).__name__}: {error}"
