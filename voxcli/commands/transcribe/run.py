"""Running a transcription request: expand the inputs, run them, report the outcomes.

Imported only when ``voxcli transcribe`` runs (not for ``--help``). The engine returns
one outcome per input; this module turns them into messages, report lines, the summary
and the exit code.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import typer

from voxcli import inputs, render, targets
from voxcli.audio.decode import decoder_messages
from voxcli.audio.references import load_reference
from voxcli.audio.spool import capped
from voxcli.commands import common
from voxcli.commands.modelcheck import (
    ModelGuard,
    check_model,
    check_model_for_dry_run,
    stops_run,
)
from voxcli.commands.transcribe.request import TranscribeRequest, check_inputs
from voxcli.config import Settings
from voxcli.console import Say, printable, silent
from voxcli.engine.cache import PartCache
from voxcli.engine.longform import SplitOptions
from voxcli.engine.pipeline import TranscribeSetup, transcribe_source
from voxcli.engine.runner import Job, JobContext, NotNow, Outcome, Produced, RunOptions, run_jobs
from voxcli.engine.streaming import stream_source
from voxcli.env import Environment
from voxcli.errors import ApiError, ExitCode, VoxcliError
from voxcli.freshness import FileStamp, min_age_for, modified_ago
from voxcli.output import sweep
from voxcli.output.progress import make_progress
from voxcli.output.report import ReportWriter
from voxcli.output.sinks import write_stdout
from voxcli.output.summary import Summary
from voxcli.pricing import Pricing
from voxcli.sources import Source
from voxcli.transcript import Transcript

SHORT_AUDIO_RATIO = 0.8
SHORT_AUDIO_SECONDS = 2.0
"""The API heard "much less" than a file's header says when it is below this share of it
and this many seconds short (MP3 durations are estimates; a second or so is noise)."""

UNREACHABLE_STREAK = 3
"""Inputs in a row that could not reach the API before a run stops starting new ones."""


def transcribe_all(env: Environment, request: TranscribeRequest, settings: Settings) -> None:
    """Transcribe every input of ``request``; raise ``typer.Exit``/errors for the exit code."""
    console = env.console
    listed: list[str] = []
    if request.files_from is not None:
        listed = inputs.read_files_from(request.files_from, env.stdin_bytes)
    items = inputs.expand_inputs(
        request.sources, recursive=request.recursive, listed=listed, keep_going=True
    )
    uses_stdin = common.check_stdin_sources(
        [item.source for item in items],
        api_key_file=request.api_key_file,
        stdin_isatty=env.stdin_isatty,
        example="cat talk.mp3 | voxcli transcribe -",
    )
    check_inputs(request, len(items), uses_stdin)
    if not items:
        if (request.verbose or env.stderr_isatty) and not request.quiet:
            console.warn("nothing to transcribe: no audio files found")
        return
    stdin = capped(env.stdin_bytes, env.limits.max_stdin_bytes) if uses_stdin else None
    if request.dry_run:
        _dry_run(env, request, settings, items, stdin)
        return
    _sweep(env, request)
    with decoder_messages(console.warn if request.verbose and not request.quiet else None):
        _transcribe(env, request, settings, items, stdin)


def _dry_run(
    env: Environment,
    request: TranscribeRequest,
    settings: Settings,
    items: list[inputs.InputItem],
    stdin: BinaryIO | None,
) -> None:
    """``--dry-run``: what each input would send, the totals and the cost; no audio sent.

    The model is checked as a run checks it, and its card says how much audio one request
    holds, so the dry run plans the same parts a run would send; inputs a run would skip
    (--skip-existing, --min-age) or refuse (outputs that collide) are shown so."""
    from voxcli.commands.transcribe import dryrun

    guard = check_model_for_dry_run(env, settings, request.needs, quiet=request.quiet)
    split = SplitOptions(
        split_minutes=request.split_minutes,
        explicit=request.split_minutes is not None,
        request_seconds=guard.request_seconds(request.params.context_bias, len(request.speakers)),
        jobs=request.jobs,
    )
    outputs, refused = _targets(items, request)
    rows = []
    for index, (item, paths) in enumerate(zip(items, outputs, strict=True)):
        label = str(item.source)
        min_age = min_age_for(request.min_age, item.unattended, env.limits.min_age_seconds)
        if (error := refused.get(index)) is not None:
            rows.append(dryrun.PlannedSend(label, error=error.message))
        elif request.skip_existing and paths and all(path.exists() for path in paths):
            rows.append(dryrun.PlannedSend(label, skipped=f"{paths[0]} exists"))
        elif item.source.path and (age := modified_ago(item.source.path, min_age)) is not None:
            why = f"modified {age:.0f} s ago (--min-age {min_age:g} s): a later run takes it"
            rows.append(dryrun.PlannedSend(label, skipped=why))
        else:
            rows.append(
                dryrun.plan_transcribe(
                    item.source,
                    label,
                    params=request.params,
                    upload_mode=request.upload,
                    split=split,
                    limit=env.limits.max_upload_bytes,
                    stdin=stdin if item.source.kind == "stdin" else None,
                    temp_dir=env.temp_dir,
                    audio_track=request.audio_track,
                )
            )
    write_stdout(dryrun.dry_run_text(rows, guard.pricing(settings.prices)), env.stdout)


def _sweep(env: Environment, request: TranscribeRequest) -> None:
    """Remove what killed runs left behind (see :mod:`voxcli.output.sweep`)."""
    sweep.sweep_run_dirs(env.temp_dir)
    if request.use_cache:
        PartCache(env.cache_dir).sweep_temporaries()


def _transcribe(
    env: Environment,
    request: TranscribeRequest,
    settings: Settings,
    items: list[inputs.InputItem],
    stdin: BinaryIO | None,
) -> None:
    console = env.console
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    params = replace(
        request.params,
        speaker_references=tuple(
            (speaker.name, load_reference(speaker, env.temp_dir)) for speaker in request.speakers
        ),
    )
    with common.open_api(settings, jobs=request.jobs) as api:
        api.report_retries(say)
        guard = check_model(env, api, settings, request.needs, quiet=request.quiet, say=say)
        request_seconds = guard.request_seconds(request.params.context_bias, len(request.speakers))
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
                stdin=stdin if source.kind == "stdin" else None,
                report=say,
                request_seconds=request_seconds,
                audio_track=request.audio_track,
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
                short_piece_seconds=request.render.min_cue_duration,
            ),
            stdin=stdin,
            say=say,
            warn=None if request.quiet else console.warn,  # -q: only errors
            audio_track=request.audio_track,
        )
        started = time.monotonic()
        pricing = guard.pricing(settings.prices)
        outcomes = _run(env, request, setup, guard, items, pricing)
    _finish(env, request, outcomes, time.monotonic() - started, pricing)


def _run(
    env: Environment,
    request: TranscribeRequest,
    setup: TranscribeSetup,
    guard: ModelGuard,
    items: list[inputs.InputItem],
    pricing: Pricing,
) -> list[Outcome]:
    outputs, refused = _targets(items, request)
    sweep.sweep_part_files(target for paths in outputs for target in paths)
    jobs = [
        Job(item.source, paths, refused.get(index))
        for index, (item, paths) in enumerate(zip(items, outputs, strict=True))
    ]
    ages = [
        min_age_for(request.min_age, item.unattended, env.limits.min_age_seconds) for item in items
    ]
    fmt, options = request.output_format, request.render
    say, warn = setup.say, setup.warn or silent
    # Several text transcripts on stdout: each after a `==> NAME <==` header (as `head`
    # does), the blocks apart by a blank line; -q keeps the bare text.
    headed = request.to_stdout and fmt == "text" and len(jobs) > 1 and not request.quiet
    written = [False]

    def to_stdout(text: str) -> None:
        if headed and written[0]:
            text = "\n" + text
        write_stdout(text, env.stdout)
        written[0] = True

    def work(job: Job, context: JobContext) -> Produced:
        before = _stable(job.source, ages[context.index])
        transcript = guard.call(transcribe_source, setup, job.source, context)
        if before is not None and job.source.path and before.changed(job.source.path):
            raise NotNow("it changed while it was transcribed; retried next run")
        _check_heard(transcript, warn)
        texts = []
        for name in request.formats:
            text, cues = render.render_with_report(transcript, name, options)
            if cues is not None:
                which = f" ({name})" if len(request.formats) > 1 else ""
                say(f"{transcript.source}{which}: {cues.summary(options)}")
            texts.append(text)
        if headed:
            texts[0] = f"==> {printable(str(job.source))} <==\n{texts[0]}"
        if _late_named(request):
            late = _late_targets(request, items[context.index], transcript.language)
            return Produced(tuple(texts), transcript, targets=late)
        return Produced(tuple(texts), transcript)

    report = (
        ReportWriter(request.report, warn=env.console.warn) if request.report is not None else None
    )
    streak = FailureStreak()

    def on_outcome(outcome: Outcome) -> None:
        streak.record(outcome)
        _announce(env, request, report, len(jobs), outcome, pricing)

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
                write_stdout=to_stdout,
                stops_run=streak.stops,
                on_outcome=on_outcome,
            ),
        )
    finally:
        if report is not None:
            report.close()


def _stable(source: Source, min_age: float) -> FileStamp | None:
    """:class:`NotNow` if the file was modified less than ``min_age`` seconds ago, else
    its stamp, to check it did not change meanwhile. None (no checks) with ``min_age`` 0,
    for stdin and URLs, and for a file that is gone (its own error comes with reading it)."""
    if min_age <= 0 or source.kind != "file" or source.path is None:
        return None
    if (age := modified_ago(source.path, min_age)) is not None:
        raise NotNow(f"modified {age:.0f} s ago (--min-age {min_age:g} s); retried next run")
    return FileStamp.of(source.path)


def _check_heard(transcript: Transcript, warn: Say) -> None:
    """Warn when the API heard much less audio than the file's header claims: the file
    may be truncated, or still being written (its header written first)."""
    claimed = transcript.duration
    heard = transcript.usage.prompt_audio_seconds if transcript.usage is not None else None
    if claimed is None or heard is None:
        return
    if heard < claimed * SHORT_AUDIO_RATIO and claimed - heard > SHORT_AUDIO_SECONDS:
        warn(
            f"{transcript.source}: the API heard {heard:.0f} s of audio, but its header says "
            f"{claimed:.0f} s: the file may be truncated or still being written"
        )


def _announce(
    env: Environment,
    request: TranscribeRequest,
    report: ReportWriter | None,
    total: int,
    outcome: Outcome,
    pricing: Pricing,
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
            model=request.params.model,
            cost=pricing.cost_of(transcript),
            elapsed=outcome.elapsed,
        )
    console = env.console
    verbose = request.verbose and not request.quiet
    if outcome.status == "done" and job.target is not None and verbose:
        console.info(f"{job.source}: wrote {', '.join(str(t) for t in job.targets)}")
    elif outcome.status in ("skipped", "locked") and verbose:
        console.info(f"{job.source}: skipped, {outcome.reason}")
    elif outcome.status == "unstable" and verbose:
        console.info(f"{job.source}: not yet, {outcome.reason}")
    elif outcome.status == "failed" and total > 1 and error is not None:
        hint = error.hint if isinstance(error, VoxcliError) else None
        console.input_error(job.source, _message(error), hint)


class FailureStreak:
    """Stop scheduling inputs once :data:`UNREACHABLE_STREAK` in a row could not reach the
    API (no connection, or a 5xx after every retry): the rest would only repeat it."""

    def __init__(self, limit: int = UNREACHABLE_STREAK) -> None:
        self.limit = limit
        self.count = 0
        self._counted: list[BaseException] = []
        self._lock = threading.Lock()

    def stops(self, error: BaseException) -> bool:
        """The runner's ``stops_run`` (asked more than once per error): also true for the
        last failure of a streak."""
        if stops_run(error):
            return True
        unreachable = isinstance(error, ApiError) and (error.status is None or error.status >= 500)
        with self._lock:
            if not any(seen is error for seen in self._counted):
                self._counted.append(error)
                self.count = self.count + 1 if unreachable else 0
            return unreachable and self.count >= self.limit

    def record(self, outcome: Outcome) -> None:
        """An input that got through ends the streak."""
        if outcome.status == "done":
            with self._lock:
                self.count = 0


def _finish(
    env: Environment,
    request: TranscribeRequest,
    outcomes: list[Outcome],
    elapsed: float,
    pricing: Pricing,
) -> None:
    """The summary, and the exit code: an input's own error when it was the only one."""
    stopper = next((o.error for o in outcomes if o.error and stops_run(o.error)), None)
    if stopper is not None:  # every input would meet it: one message, its exit code
        raise stopper
    if len(outcomes) == 1 and outcomes[0].error is not None:
        raise outcomes[0].error
    summary = Summary.of(outcomes, elapsed, pricing)
    console = env.console
    if (request.verbose or env.stderr_isatty) and not request.quiet:
        console.info(summary.line())
        if unstable := sum(o.status == "unstable" for o in outcomes):
            console.info(f"{unstable} unstable (still being written): retried next run")
    if summary.failed:
        why = "--fail-fast" if request.fail_fast else "the API could not be reached"
        stopped = (
            f"; stopped early, {summary.cancelled} not run ({why})" if summary.cancelled else ""
        )
        console.error(f"{summary.failed} of {summary.total} inputs failed{stopped}")
        raise typer.Exit(ExitCode.FAILURE)


def _message(error: BaseException) -> str:
    if isinstance(error, VoxcliError):
        return error.message
    return f"unexpected error: {type(error).__name__}: {error}"


def _targets(
    items: list[inputs.InputItem], request: TranscribeRequest
) -> tuple[list[tuple[Path, ...]], dict[int, VoxcliError]]:
    """Where each input's results go: stdout (no path), --output, or one file per format
    under --output-dir.

    Also the inputs refused before anything is sent: a directory without -r, an output
    shared with another input, or one that can never be written (:func:`targets.unwritable`).
    """
    refused: dict[int, VoxcliError] = {
        index: item.error for index, item in enumerate(items) if item.error is not None
    }
    if request.output is not None:
        columns = [[request.output] * len(items)]
        root = None
    elif request.output_dir is not None:
        columns = [
            _named(request, targets.output_paths(items, request.output_dir, ext))
            for ext in map(render.extension_of, request.formats)
        ]
        root = request.output_dir
    else:
        return [()] * len(items), refused
    for paths in columns:
        for index, error in targets.collisions(items, paths).items():
            refused.setdefault(index, error)
        for index, error in targets.unwritable(paths, root).items():
            refused.setdefault(index, error)
    return [tuple(row) for row in zip(*columns, strict=True)], refused


def _late_named(request: TranscribeRequest) -> bool:
    """--name holds {lang} and --language was not given: named once the API has said."""
    return request.name is not None and "{lang}" in request.name and not request.params.language


def _named(
    request: TranscribeRequest, paths: list[Path], language: str | None = None, late: bool = False
) -> list[Path]:
    """``paths`` renamed by --name (as they are without it); ``language`` is the detected
    one, else --language's, else ``und``. Names that wait for the detected language
    (:func:`_late_named`) stay as they are until ``late``: each input's own path holds
    its lock and is checked as today, its final name is checked when written."""
    if request.name is None or (_late_named(request) and not late):
        return paths
    fields = {
        "lang": language or request.params.language or targets.UNKNOWN_LANGUAGE,
        "model": request.params.model,
        "date": _TODAY,
    }
    return [targets.named_path(path, request.name, fields) for path in paths]


def _late_targets(
    request: TranscribeRequest, item: inputs.InputItem, language: str | None
) -> tuple[Path, ...]:
    """``item``'s outputs named with the language the API detected."""
    assert request.output_dir is not None
    return tuple(
        _named(request, targets.output_paths([item], request.output_dir, ext), language, True)[0]
        for ext in map(render.extension_of, request.formats)
    )


_TODAY = time.strftime("%Y-%m-%d")
"""{date} in --name: the day the run started (local time)."""
