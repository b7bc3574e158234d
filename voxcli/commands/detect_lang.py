"""``voxcli detect-lang``: print the language of each audio source."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer

from voxcli.commands import common
from voxcli.engine.langdetect import DEFAULT_SAMPLE_SECONDS, UNKNOWN, detect_language
from voxcli.env import Environment
from voxcli.errors import AuthError, VoxcliError
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    DebugOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TimeoutOpt,
    VerboseOpt,
)
from voxcli.output.sinks import write_stdout
from voxcli.sources import Source, parse_sources


def detect_lang(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="SOURCE",
            help="Audio files, '-' for audio on stdin, or http(s):// URLs.",
            show_default=False,
        ),
    ],
    sample: Annotated[
        float,
        typer.Option(
            "--sample",
            min=0.0,
            metavar="SECONDS",
            help="Send only the first SECONDS of each file (cut locally); 0 sends it all. "
            "Files soundfile cannot decode (m4a, webm) and URLs are always sent whole.",
            rich_help_panel=REQUEST,
        ),
    ] = DEFAULT_SAMPLE_SECONDS,
    model: ModelOpt = None,
    fmt: Annotated[
        Literal["text", "json"],
        typer.Option(
            "--format",
            "-f",
            help="text: the code (one source) or SOURCE<TAB>CODE lines; "
            'json: one {"source", "language"} object per line.',
            rich_help_panel=OUTPUT,
        ),
    ] = "text",
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Print the language of audio files, stdin or URLs (en, fr, ...)."""
    env: Environment = ctx.obj
    console = env.console
    parsed = parse_sources(sources)
    audio_on_stdin = common.check_stdin_sources(
        env, parsed, api_key_file, example="cat talk.mp3 | voxcli detect-lang -"
    )
    settings = common.connection_settings(
        env,
        api_key_file=api_key_file,
        server_url=server_url,
        timeout=timeout,
        retries=retries,
        model=model,
        quiet=quiet,
    )
    # The output's shape follows what was typed, even when a repeated source is sent once.
    several = len(sources) > 1
    failures = unknown = 0
    with common.open_api(settings, jobs=1) as api:
        for source in parsed:
            try:
                language = detect_language(
                    api,
                    source,
                    settings.model,
                    temp_dir=env.temp_dir,
                    sample_seconds=sample,
                    stdin=env.stdin_bytes if audio_on_stdin and source.kind == "stdin" else None,
                )
            except AuthError:
                raise
            except VoxcliError as exc:
                if not several:
                    raise
                failures += 1
                console.input_error(source, exc.message, exc.hint)
                continue
            if language is None:
                unknown += 1
                if not quiet:
                    console.warn(f"{source}: the API reported no language")
            write_stdout(_line(source, language or UNKNOWN, fmt, several), env.stdout)
    if failures and not quiet:
        console.error(f"{failures} of {len(parsed)} inputs failed")
    if failures or unknown:
        raise typer.Exit(1)


def _line(source: Source, language: str, fmt: str, several: bool) -> str:
    if fmt == "json":
        return json.dumps({"source": str(source), "language": language}, ensure_ascii=False) + "\n"
    if several:
        return f"{source}\t{language}\n"
    return f"{language}\n"
