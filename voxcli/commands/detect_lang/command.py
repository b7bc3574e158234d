"""``voxcli detect-lang``: print the language of each audio source."""

from typing import Annotated

import typer

from voxcli.commands import common
from voxcli.commands.detect_lang.request import (
    DEFAULT_SAMPLE_SECONDS,
    DetectFlags,
    LineFormat,
    build_detect_request,
)
from voxcli.env import Environment
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    AudioTrackOpt,
    DebugOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TimeoutOpt,
    VerboseOpt,
)


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
            help="Send only the first SECONDS of each file (cut locally, any audio or video); "
            "0 sends it all. URLs are always sent whole.",
            rich_help_panel=REQUEST,
        ),
    ] = DEFAULT_SAMPLE_SECONDS,
    audio_track: AudioTrackOpt = None,
    model: ModelOpt = None,
    fmt: Annotated[
        LineFormat,
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
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would be sent (format, bytes, audio length, requests) and the "
            "estimated cost; send nothing.",
            rich_help_panel=REQUEST,
        ),
    ] = False,
) -> None:
    """Print the language of audio files, stdin or URLs (en, fr, ...)."""
    env: Environment = ctx.obj
    flags = DetectFlags(
        sources=tuple(sources),
        sample=sample,
        audio_track=audio_track,
        fmt=fmt,
        api_key_file=api_key_file,
        quiet=quiet,
        stdin_isatty=env.stdin_isatty,
        dry_run=dry_run,
    )
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    request = build_detect_request(flags, settings)
    from voxcli.commands.detect_lang.run import detect_all

    detect_all(env, request, settings)
