"""Running a transcription request: expand the inputs, run them, report the outcomes.

Imported only when ``voxcli transcribe`` runs (not for ``--help``). The engine returns
one outcome per input; this module turns them into messages, report lines, the summary
and the exit code.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import typer

from voxcli import inputs, render, targets
from voxcli.audio.references import LONGEST_SECONDS, load_reference
from voxcli.catalog.card import AUDIO_TOKENS_PER_SECOND, ModelCard, estimate_bias_tokens
from voxcli.commands import common
from voxcli.commands.modelcheck import ModelGuard, check_model, stops_run
from voxcli.commands.transcribe.request import TranscribeRequest, check_inputs
from voxcli.config import Settings
from voxcli.engine.longform import SplitOptions
from voxcli.engine.pipeline import TranscribeSetup, transcribe_source
from voxcli.engine.runner import Job, JobContext, Outcome, Produced, RunOptions, run_jobs
from voxcli.engine.streaming import stream_source
from voxcli.env import Environment
from voxcli.errors import ExitCode, VoxcliError
from voxcli.output.progress import make_progress
from voxcli.output.report import ReportWriter
from voxcli.output.sinks import write_stdout
from voxcli.output.summary import Summary


def transcribe_all(env: Environment, request: TranscribeRequest, settings: Settings) -> None:
    """Transcribe every input of ``request``; raise ``typer.Exit``/errors for the exit code."""
    console = env.console
    raws = list(request.sources)
    if request.files_from is not None:
        raws += inputs.read_files_from(request.files_from, env.stdin_bytes)
    items = inputs.expand_inputs(raws, recursive=request.recursive)
    uses_stdin = common.check_stdin_sources(
        [item.source for item in items],
        api_key_file=request.api_key_file,
        stdin_isatty=env.stdin_isatty,
        example="cat talk.mp3 | voxcli transcribe -",
    )
    check_inputs(request, len(items), uses_stdin)
    if not items:
        if request.verbose or env.stderr_isatty:
            console.warn("nothing to transcribe: no audio files found")
        return
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    params = replace(
        request.params,
        speaker_references=tuple(
            (speaker.name, load_reference(speaker, env.temp_dir)) for speaker in request.speakers
        ),
    )
    with common.open_api(settings, jobs=request.jobs) as api:
        guard = check_model(env, api, settings, request.needs, quiet=request.quiet, say=say)
        request_seconds = _request_seconds(guard.card, request)
        if request.stream:
            source = items[0].source
            guard.call(
                stream_source,
                api,
                source,
                params,
                env.stdout,
                temp_dir=env.temp_dir,
                limit=env.limits.max_upload_bytes,
                upload_mode=request.upload,
                stdin=env.stdin_bytes if source.kind == "stdin" else None,
                report=say,
                request_seconds=request_seconds,
            )
            return
        setup = TranscribeSetup(
            api=api,
            params=params,
            limit=env.limits.max_upload_bytes,
            upload_mode=request.upload,
            split=SplitOptions(
                split_minutes=request.split_minutes,
                explicit=request.split_minutes is not None,
                request_seconds=request_seconds,
                cache_dir=env.cache_dir if request.use_cache else None,
                jobs=request.jobs,
            ),
            stdin=env.stdin_bytes if uses_stdin else None,
            say=say,
            warn=console.warn,
        )
        started = time.monotonic()
        outcomes = _run(env, request, setup, guard, items)
    _finish(env, request, outcomes, time.monotonic() - started)


def _request_seconds(card: ModelCard | None, request: TranscribeRequest) -> float | None:
    """The longest audio one request holds, after the bias terms' and the speaker
    references' share of the context (each reference counted at its longest)."""
    if card is None:
        return None
    references = math.ceil(LONGEST_SECONDS * AUDIO_TOKENS_PER_SECOND) * len(request.speakers)
    return card.max_audio_seconds(estimate_bias_tokens(request.params.context_bias) + references)


def _run(
    env: Environment,
    request: TranscribeRequest,
    setup: TranscribeSetup,
    guard: ModelGuard,
    items: list[inputs.InputItem],
) -> list[Outcome]:
    outputs, refused = _targets(items, request)
    jobs = [
        Job(item.source, (target,) if target is not None else (), refused.get(index))
        for index, (item, target) in enumerate(zip(items, outputs, strict=True))
    ]
    fmt, options = request.output_format, request.render
    say = setup.say

    def work(job: Job, context: JobContext) -> Produced:
        transcript = guard.call(transcribe_source, setup, job.source, context)
        text, cues = render.render_with_report(transcript, fmt, options)
        if cues is not None:
            say(f"{transcript.source}: {cues.summary(options)}")
        return Produced((text,), transcript)

    report = ReportWriter(request.report) if request.report is not None else None
    try:
        return run_jobs(
            jobs,
            work,
            RunOptions(
                jobs=request.jobs,
                skip_existing=request.skip_existing,
                fail_fast=request.fail_fast,
                temp_dir=env.temp_dir,
                progress=make_progress(env=env, quiet=request.quiet),
                write_stdout=lambda text: write_stdout(text, env.stdout),
                stops_run=stops_run,
                on_outcome=lambda outcome: _announce(env, request, report, len(jobs), outcome),
            ),
        )
    finally:
        if report is not None:
            report.close()


def _announce(
    env: Environment,
    request: TranscribeRequest,
    report: ReportWriter | None,
    total: int,
    outcome: Outcome,
) -> None:
    """Say what happened to one input as it happens: report line, then messages."""
    job, error = outcome.job, outcome.error
    if report is not None:
        transcript = outcome.detail
        report.write(
            source=str(job.source),
            output=str(job.target) if job.target is not None else None,
            status=outcome.status,
            error=_message(error) if error is not None else None,
            audio_seconds=Summary.audio_seconds_of(transcript),
            usage=transcript.usage if transcript is not None else None,
            elapsed=outcome.elapsed,
        )
    console = env.console
    verbose = request.verbose and not request.quiet
    if outcome.status == "done" and job.target is not None and verbose:
        console.info(f"{job.source}: wrote {job.target}")
    elif outcome.status in ("skipped", "locked") and verbose:
        console.info(f"{job.source}: skipped, {outcome.reason}")
    elif outcome.status == "failed" and total > 1 and error is not None:
        hint = error.hint if isinstance(error, VoxcliError) else None
        console.input_error(job.source, _message(error), hint)


def _finish(
    env: Environment, request: TranscribeRequest, outcomes: list[Outcome], elapsed: float
) -> None:
    """The summary, and the exit code: an input's own error when it was the only one."""
    stopper = next((o.error for o in outcomes if o.error and stops_run(o.error)), None)
    if stopper is not None:  # every input would meet it: one message, its exit code
        raise stopper
    if len(outcomes) == 1 and outcomes[0].error is not None:
        raise outcomes[0].error
    summary = Summary.of(outcomes, elapsed)
    console = env.console
    if (request.verbose or env.stderr_isatty) and not request.quiet:
        console.info(summary.line())
    if summary.failed:
        stopped = (
            f"; stopped early, {summary.cancelled} not run (--fail-fast)"
            if summary.cancelled
            else ""
        )
        console.error(f"{summary.failed} of {summary.total} inputs failed{stopped}")
        raise typer.Exit(ExitCode.FAILURE)


def _message(error: BaseException) -> str:
    if isinstance(error, VoxcliError):
        return error.message
    return f"unexpected error: {type(error).__name__}: {error}"


def _targets(
    items: list[inputs.InputItem], request: TranscribeRequest
) -> tuple[list[Path | None], dict[int, VoxcliError]]:
    """Where each input's result goes: stdout (None), --output, or a file under --output-dir.

    Also the inputs refused because they would share an output file with another one.
    """
    if request.output is not None:
        return [request.output] * len(items), {}
    if request.output_dir is None:
        return [None] * len(items), {}
    extension = render.extension_of(request.output_format)
    paths = targets.output_paths(items, request.output_dir, extension)
    return list(paths), dict(targets.collisions(items, paths))
