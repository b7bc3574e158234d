"""``voxcli transcribe``: the flags, made a request (:mod:`.request`) and run (:mod:`.run`)."""

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voxcli import render
from voxcli.env import Environment
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    AudioTrackOpt,
    AutoTextWidthOpt,
    BiasFileOpt,
    BiasOpt,
    DebugOpt,
    DiarizeOpt,
    FormatOpt,
    HighlightWordsOpt,
    JobsOpt,
    LanguageOpt,
    MaxCharsPerSecondOpt,
    MaxCueDurationOpt,
    MaxLinesOpt,
    MaxLineWidthOpt,
    MinCueDurationOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    SpeakerOpt,
    TemperatureOpt,
    TimeoutOpt,
    TimestampsOpt,
    UploadOpt,
    VerboseOpt,
)

if TYPE_CHECKING:  # what runs the command is imported when it runs
    from voxcli.commands.transcribe.request import TranscribeFlags, TranscribeRequest
    from voxcli.config import Settings


DEFAULT_RENDER = render.RenderOptions()
RUN = "Many files"


def transcribe(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE",
            help="Audio files, directories (with -r), '-' for audio on stdin, or http(s):// URLs.",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    language: LanguageOpt = None,
    timestamps: TimestampsOpt = None,
    diarize: DiarizeOpt = False,
    bias: BiasOpt = None,
    bias_file: BiasFileOpt = None,
    speaker: SpeakerOpt = None,
    temperature: TemperatureOpt = None,
    fmt: FormatOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write to PATH (atomically) instead of stdout ('-': stdout); the extension "
            "picks the format.",
            dir_okay=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            metavar="DIR",
            help="Write one file per source into DIR, mirroring the inputs' relative paths "
            "(a/talk.wav -> DIR/a/talk.srt).",
            file_okay=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    upload: UploadOpt = "auto",
    audio_track: AudioTrackOpt = None,
    max_line_width: MaxLineWidthOpt = DEFAULT_RENDER.max_line_width,
    max_lines: MaxLinesOpt = DEFAULT_RENDER.max_lines,
    max_cue_duration: MaxCueDurationOpt = DEFAULT_RENDER.max_cue_duration,
    min_cue_duration: MinCueDurationOpt = DEFAULT_RENDER.min_cue_duration,
    max_chars_per_second: MaxCharsPerSecondOpt = DEFAULT_RENDER.max_chars_per_second,
    highlight_words: HighlightWordsOpt = False,
    text_width: AutoTextWidthOpt = None,
    split_minutes: Annotated[
        float | None,
        typer.Option(
            "--split-minutes",
            metavar="MINUTES",
            help="Cut recordings longer than MINUTES into parts at quiet points and send the "
            "parts in parallel (--jobs). Without it, only uploads over 512 MB are cut.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Do not reuse or save finished parts of split recordings "
            "(cache: $XDG_CACHE_HOME/voxcli).",
            rich_help_panel=REQUEST,
        ),
    ] = False,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    jobs: JobsOpt = 4,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive",
            "-r",
            help="Take the audio files inside directory SOURCEs, subdirectories included "
            "(by extension; hidden files skipped).",
            rich_help_panel=RUN,
        ),
    ] = False,
    files_from: Annotated[
        str | None,
        typer.Option(
            "--files-from",
            metavar="PATH",
            help="Read sources from PATH ('-' for stdin), one per line (or NUL-separated, "
            "as find -print0 writes).",
            rich_help_panel=RUN,
        ),
    ] = None,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Skip inputs whose output files all exist already (with -o or -d).",
            rich_help_panel=RUN,
        ),
    ] = False,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast",
            help="Start no new input after the first failure.",
            rich_help_panel=RUN,
        ),
    ] = False,
    min_age: Annotated[
        float | None,
        typer.Option(
            "--min-age",
            metavar="SECONDS",
            help="Skip local files modified less than SECONDS ago (still being written); "
            "they are reported 'unstable' and done by a later run (default: 10 for files "
            "found with -r or --files-from, 0 for files named; env VOXCLI_MIN_AGE).",
            show_default=False,
            rich_help_panel=RUN,
        ),
    ] = None,
    report_path: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="PATH",
            help="Write one JSON line per input to PATH as each one finishes.",
            dir_okay=False,
            rich_help_panel=RUN,
        ),
    ] = None,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="Print the text as the API streams it (one source, text format, stdout).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="TEMPLATE",
            help="Name the files under -d by TEMPLATE, e.g. '{stem}.{lang}.{ext}' (talk.en.srt); "
            "fields {stem}, {ext}, {lang} (given or detected; und when unknown), {model}, "
            "{date}.",
            show_default=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would be sent (format, bytes, audio length, requests) and the "
            "estimated cost; send nothing.",
            rich_help_panel=RUN,
        ),
    ] = False,
) -> None:
    """Transcribe audio files, stdin or URLs to text, JSON, SRT or WebVTT."""
    from voxcli.commands import common
    from voxcli.commands.transcribe.request import build_request
    from voxcli.helppage import listed_values

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params), fmt=fmt)
    flags = replace(
        shared_flags(ctx.params, text_width=DEFAULT_RENDER.text_width),
        output=output,
        text_width=text_width,
        stdout_isatty=env.stdout_isatty,
        no_cache=no_cache,
        fail_fast=fail_fast,
        report=report_path,
        stream=stream,
        min_age=min_age,
        min_age_env=env.environ.get("VOXCLI_MIN_AGE"),
        dry_run=dry_run,
        formats=listed_values(ctx, "fmt") or (),
        name=name,
    )
    request = build_request(flags, settings)
    run_request(env, request, settings)


def shared_flags(params: Mapping[str, Any], *, text_width: int) -> "TranscribeFlags":
    """The flags ``transcribe`` and ``batch submit`` share, read by name from the parsed
    command line (Click's ``ctx.params``); reads the ``--bias-file`` files."""
    from voxcli.commands.transcribe.request import TranscribeFlags, bias_file_texts

    return TranscribeFlags(
        sources=tuple(params["sources"] or ()),
        files_from=params["files_from"],
        recursive=params["recursive"],
        model=params["model"],
        language=params["language"],
        timestamps=tuple(granularity.value for granularity in params["timestamps"] or ()),
        diarize=params["diarize"],
        bias=tuple(params["bias"] or ()),
        bias_files=bias_file_texts(params["bias_file"] or ()),
        speakers=tuple(params["speaker"] or ()),
        temperature=params["temperature"],
        fmt=params["fmt"],
        output_dir=params["output_dir"],
        upload=params["upload"],
        audio_track=params["audio_track"],
        render=render.RenderOptions(
            max_line_width=params["max_line_width"],
            max_lines=params["max_lines"],
            max_cue_duration=params["max_cue_duration"],
            min_cue_duration=params["min_cue_duration"],
            max_chars_per_second=params["max_chars_per_second"],
            highlight_words=params["highlight_words"],
            text_width=text_width,
        ),
        split_minutes=params["split_minutes"],
        api_key_file=params["api_key_file"],
        jobs=params["jobs"],
        verbose=params["verbose"],
        quiet=params["quiet"],
        skip_existing=params["skip_existing"],
    )


def run_request(env: Environment, request: "TranscribeRequest", settings: "Settings") -> None:
    """Expand the inputs, transcribe them, report; raise what decides the exit code."""
    from voxcli.commands.transcribe.run import transcribe_all

    transcribe_all(env, request, settings)
