"""Running ``batch submit``: the inputs found and checked, then :mod:`voxcli.batch.submit`.

Imported only when ``voxcli batch submit`` runs. Inputs are expanded and named as
``transcribe -d DIR`` names them; the model is checked against its card before any
upload; the outcome is printed (job ids on stdout) and turned into the exit code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

import typer

from voxcli import inputs, render, targets
from voxcli.audio.references import load_reference
from voxcli.batch.customid import parse_custom_id
from voxcli.batch.dryrun import dry_run_text, plan_uploads
from voxcli.batch.options import BatchOptions
from voxcli.batch.store import BatchStore
from voxcli.batch.submit import Submission, SubmitSettings, Submitted, submission_key, submit_batch
from voxcli.batch.upload import PlannedInput
from voxcli.catalog.check import Needs
from voxcli.commands import common
from voxcli.commands.batch.request import SubmitRequest
from voxcli.commands.modelcheck import (
    ModelGuard,
    check_model,
    check_model_for_dry_run,
    stops_run,
)
from voxcli.commands.transcribe.request import check_inputs
from voxcli.config import Settings
from voxcli.console import silent
from voxcli.engine.longform import SplitOptions
from voxcli.engine.runner import Outcome
from voxcli.env import Environment
from voxcli.errors import ExitCode, UsageError, VoxcliError
from voxcli.freshness import min_age_for, modified_ago
from voxcli.output.progress import make_progress
from voxcli.output.sinks import write_stdout
from voxcli.pricing import BATCH_PRICE_FACTOR
from voxcli.sources import Source
from voxcli.targets import relative_output


@dataclass(frozen=True)
class _Plan:
    options: BatchOptions
    inputs: tuple[PlannedInput, ...]
    refused: int = 0
    retry_of: str | None = None


def submit_all(env: Environment, request: SubmitRequest, settings: Settings) -> None:
    """Submit (or resume, or dry-run) ``request``; raise what decides the exit code."""
    store = BatchStore(env.state_dir)
    plan = (
        _retry_plan(env, store, request)
        if request.retry_failed
        else _fresh_plan(env, store, request)
    )
    if plan is None:
        return
    options = plan.options
    settings = replace(settings, model=options.model)
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    if request.dry_run:
        _dry_run(env, request, settings, plan)
        return
    with common.open_api(settings, jobs=request.jobs) as api:
        guard = check_model(env, api, settings, _needs(options), quiet=request.quiet, say=say)
        split = _split(options, guard, request.jobs)
        references = tuple(
            (speaker.name, load_reference(speaker, env.temp_dir)) for speaker in options.speakers
        )
        submission = Submission(
            options=options,
            params=replace(options.params, speaker_references=references),
            inputs=plan.inputs,
            key=submission_key(options, plan.inputs, retry_of=plan.retry_of),
            retry_of=plan.retry_of,
            server_url=settings.server_url,
        )
        result = submit_batch(
            store,
            api,
            submission,
            SubmitSettings(
                temp_dir=env.temp_dir,
                limit=env.limits.max_upload_bytes,
                max_requests=env.limits.max_batch_requests,
                jobs=request.jobs,
                split=split,
                progress=make_progress(env=env, quiet=request.quiet),
                stops_run=stops_run,
                on_outcome=lambda outcome: _announce(env, request, len(plan.inputs), outcome),
                guard=guard.call,
                again=request.again,
                say=say,
                warn=silent if request.quiet else env.console.warn,  # -q: only errors
            ),
        )
    _finish(env, request, result, plan)


def _split(options: BatchOptions, guard: ModelGuard, jobs: int) -> SplitOptions:
    """How recordings are cut: by --split-minutes and by what one request holds."""
    return SplitOptions(
        split_minutes=options.split_minutes,
        explicit=options.split_minutes is not None,
        request_seconds=guard.request_seconds(options.params.context_bias, len(options.speakers)),
        jobs=jobs,
    )


def _dry_run(env: Environment, request: SubmitRequest, settings: Settings, plan: _Plan) -> None:
    """``--dry-run``: what would be uploaded and submitted, and the cost; nothing sent but,
    when the model's card is not cached, one models request."""
    options = plan.options
    guard = check_model_for_dry_run(env, settings, _needs(options), quiet=request.quiet)
    split = _split(options, guard, request.jobs)
    rows = plan_uploads(
        plan.inputs, options.params, options.upload, split, env.limits.max_upload_bytes
    )
    pricing = guard.pricing(settings.prices, BATCH_PRICE_FACTOR)
    text = dry_run_text(rows, env.limits.max_batch_requests, pricing)
    write_stdout(text, env.stdout)


def _fresh_plan(env: Environment, store: BatchStore, request: SubmitRequest) -> _Plan | None:
    """The inputs of the command line, named as ``transcribe -d DIR`` names them; with
    --skip-existing, less those whose output exists or a pending batch will write; less
    files modified within --min-age."""
    tr = request.transcribe
    assert tr is not None and tr.output_dir is not None
    raws = list(tr.sources)
    if tr.files_from is not None:
        raws += inputs.read_files_from(tr.files_from, env.stdin_bytes)
    items = inputs.expand_inputs(raws, recursive=tr.recursive)
    if any(item.source.kind == "stdin" for item in items):
        raise UsageError("batch submit reads files and URLs, not audio on stdin ('-')")
    check_inputs(tr, len(items), uses_stdin=False)
    if not items:
        if (tr.verbose or env.stderr_isatty) and not tr.quiet:
            env.console.warn("nothing to submit: no audio files found")
        return None
    output_dir = Path(os.path.abspath(tr.output_dir))
    paths = targets.output_paths(items, output_dir, render.extension_of(tr.output_format))
    refused = targets.collisions(items, paths)
    cwd = Path.cwd()
    pending = store.pending_outputs() if tr.skip_existing else {}
    planned: list[PlannedInput] = []
    young = 0
    for index, (item, path) in enumerate(zip(items, paths, strict=True)):
        if index in refused:
            error = refused[index]
            env.console.input_error(item.source, error.message, error.hint)
            continue
        promised = pending.get(os.path.realpath(path))
        if tr.skip_existing and (path.exists() or promised is not None):
            if tr.verbose and not tr.quiet:
                why = f"batch {promised} will write it" if promised else f"{path} exists"
                env.console.info(f"{item.source}: skipped, {why}")
            continue
        min_age = min_age_for(tr.min_age, item.unattended, env.limits.min_age_seconds)
        if (
            item.source.path is not None
            and (age := modified_ago(item.source.path, min_age)) is not None
        ):
            young += 1
            if not tr.quiet:
                env.console.warn(
                    f"{item.source}: left out, modified {age:.0f} s ago (--min-age "
                    f"{min_age:g} s): it may still be being written"
                )
            continue
        rel = relative_output(item, PurePath(item.source.file_name).suffix, cwd).as_posix()
        planned.append(
            PlannedInput(index, item.source, str(item.source), rel, path, tr.audio_track)
        )
    options = BatchOptions(
        params=tr.params,
        output_format=tr.output_format,
        output_dir=output_dir,
        render=tr.render,
        speakers=tr.speakers,
        upload=tr.upload,
        split_minutes=tr.split_minutes,
        timeout_hours=request.timeout_hours,
    )
    if not planned:
        if refused:
            raise typer.Exit(ExitCode.FAILURE)
        if (tr.verbose or env.stderr_isatty) and not tr.quiet:
            env.console.info(
                f"nothing to submit now: {young} input(s) still being written"
                if young
                else "nothing to submit: every output exists or a batch will write it "
                "(--skip-existing)"
            )
        return None
    return _Plan(options, tuple(planned), refused=len(refused))


def _retry_plan(env: Environment, store: BatchStore, request: SubmitRequest) -> _Plan | None:
    """The failed inputs of the batch or job ``--retry-failed`` names, with its options."""
    ref = request.retry_failed
    assert ref is not None
    found = store.resolve(ref)
    name = found[0].name
    if name is None:
        raise UsageError(
            f"no local batch or job named {ref}", hint="voxcli batch list shows the local batches"
        )
    manifest = store.manifest(name)
    job_ids = [r.job_id for r in found if r.job_id is not None]
    for job_id in job_ids:
        if not store.is_collected(name, job_id):
            raise UsageError(
                f"batch {name} (job {job_id}) is not collected yet, so which inputs failed "
                "is not known",
                hint=f"run: voxcli batch collect {name}",
            )
    failed = {
        int(record["input"])
        for record in store.records(name, "collect")
        if record.get("t") == "input"
        and record.get("job") in job_ids
        and record.get("status") == "failed"
    }
    if not failed:
        if not request.quiet:
            env.console.info(f"batch {name} has no failed inputs: nothing to retry")
        return None
    planned = []
    for entry in manifest.inputs:
        if entry.index not in failed:
            continue
        url = next((r.url for r in entry.requests if r.url), None)
        if entry.path is not None:
            source = Source("file", entry.path, Path(entry.path))
        elif url is not None:
            source = Source("url", url)
        else:
            raise UsageError(
                f"batch {name} was collected without its manifest: where {entry.source} came "
                "from is not known here",
                hint="submit the files anew",
            )
        named = parse_custom_id(entry.requests[0].custom_id) if entry.requests else None
        rel = named.path if named is not None else PurePath(entry.source).name
        planned.append(
            PlannedInput(entry.index, source, entry.source, rel, entry.output, entry.audio_track)
        )
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    say(f"retrying {len(planned)} failed input(s) of batch {name}")
    return _Plan(manifest.options, tuple(planned), retry_of=name)


def _needs(options: BatchOptions) -> Needs:
    params = options.params
    return Needs(
        kind="offline",
        timestamps=params.timestamp_granularities,
        diarize=params.diarize,
        bias=len(params.context_bias),
        language=params.language,
        speakers=len(options.speakers),
    )


def _announce(env: Environment, request: SubmitRequest, total: int, outcome: Outcome) -> None:
    """Say what happened to one input's upload as it happens."""
    error = outcome.error
    if outcome.status == "failed" and error is not None and total > 1:
        hint = error.hint if isinstance(error, VoxcliError) else None
        message = error.message if isinstance(error, VoxcliError) else str(error)
        env.console.input_error(outcome.job.source, message, hint)
    elif outcome.status == "done" and request.verbose and not request.quiet:
        env.console.info(f"{outcome.job.source}: ready")


def _finish(env: Environment, request: SubmitRequest, result: Submitted, plan: _Plan) -> None:
    """Job ids on stdout, a note on stderr, and the exit code."""
    manifest = result.manifest
    write_stdout("".join(f"{manifest.name} {job.id}\n" for job in manifest.jobs), env.stdout)
    console = env.console
    if not request.quiet:
        if result.already:
            console.info(
                f"already submitted as batch {manifest.name}; give --again to submit "
                "these inputs once more"
            )
        else:
            requests = sum(len(entry.requests) for entry in manifest.inputs)
            console.info(
                f"submitted batch {manifest.name}: {len(manifest.inputs)} input(s) as "
                f"{requests} request(s) in {len(manifest.jobs)} job(s); collect with: "
                f"voxcli batch collect {manifest.name}"
            )
    left_out = len(result.left_out) + plan.refused
    if left_out:
        total = len(plan.inputs) + plan.refused
        console.error(f"{left_out} of {total} inputs could not be used and were left out")
        raise typer.Exit(ExitCode.FAILURE)
