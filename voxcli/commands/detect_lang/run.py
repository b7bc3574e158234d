"""Run a :class:`~voxcli.commands.detect_lang.request.DetectRequest`: one line per source."""

from __future__ import annotations

import json

import typer

from voxcli.catalog.check import Needs
from voxcli.commands import common
from voxcli.commands.detect_lang.request import DetectRequest
from voxcli.commands.modelcheck import check_model, stops_run
from voxcli.config import Settings
from voxcli.engine.langdetect import UNKNOWN, NotALanguage, detect_language
from voxcli.env import Environment
from voxcli.errors import VoxcliError
from voxcli.output.sinks import write_stdout
from voxcli.pricing import PriceList, Pricing
from voxcli.sources import Source


def detect_all(env: Environment, request: DetectRequest, settings: Settings) -> None:
    """Print each source's language; exit 1 when any failed or had none."""
    if request.dry_run:
        _dry_run(env, request, settings)
        return
    console = env.console
    failures = unknown = 0
    say = common.say_for(env, verbose=False, quiet=request.quiet)
    with common.open_api(settings, jobs=1) as api:
        guard = check_model(env, api, settings, Needs(), quiet=request.quiet, say=say)
        for source in request.sources:
            try:
                language = guard.call(
                    detect_language,
                    api,
                    source,
                    request.model,
                    temp_dir=env.temp_dir,
                    sample_seconds=request.sample_seconds,
                    stdin=env.stdin_bytes
                    if request.audio_on_stdin and source.kind == "stdin"
                    else None,
                    audio_track=request.audio_track,
                )
            except NotALanguage as exc:  # printed as unknown, like no language at all
                unknown += 1
                if not request.quiet:
                    console.warn(f"{source}: {exc.message}")
                write_stdout(_line(source, UNKNOWN, request), env.stdout)
                continue
            except VoxcliError as exc:
                if stops_run(exc) or not request.several:
                    raise
                failures += 1
                console.input_error(source, exc.message, exc.hint)
                continue
            if language is None:
                unknown += 1
                if not request.quiet:
                    console.warn(f"{source}: the API reported no language")
            write_stdout(_line(source, language or UNKNOWN, request), env.stdout)
    if failures and not request.quiet:
        console.error(f"{failures} of {len(request.sources)} inputs failed")
    if failures or unknown:
        raise typer.Exit(1)


def _dry_run(env: Environment, request: DetectRequest, settings: Settings) -> None:
    """``--dry-run``: what each source would send, the totals and the cost; no network."""
    from voxcli.commands.transcribe import dryrun

    stdin = env.stdin_bytes if request.audio_on_stdin else None
    rows = [
        dryrun.plan_detect(
            source,
            str(source),
            sample_seconds=request.sample_seconds,
            stdin=stdin if source.kind == "stdin" else None,
            temp_dir=env.temp_dir,
            audio_track=request.audio_track,
        )
        for source in request.sources
    ]
    pricing = Pricing(PriceList(settings.prices), request.model)
    write_stdout(dryrun.dry_run_text(rows, pricing), env.stdout)


def _line(source: Source, language: str, request: DetectRequest) -> str:
    if request.fmt == "json":
        return json.dumps({"source": str(source), "language": language}, ensure_ascii=False) + "\n"
    if request.several:
        return f"{source}\t{language}\n"
    return f"{language}\n"
