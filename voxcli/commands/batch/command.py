"""``voxcli batch submit|status|collect|cancel|list``: the flags of each subcommand.

Each subcommand builds its request (:mod:`.request`, pure) and hands it to the module
that runs it, imported only then (``voxcli batch --help`` loads no SDK and no audio code).
"""

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from voxcli import helppage, render
from voxcli.env import Environment
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    AudioTrackOpt,
    BiasFileOpt,
    BiasOpt,
    DebugOpt,
    DiarizeOpt,
    FormatName,
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
    TextWidthOpt,
    TimeoutOpt,
    TimestampsOpt,
    UploadOpt,
    VerboseOpt,
)

EXIT_CODES = helppage.exit_codes("1 API/network failure or some inputs failed")
INPUTS = "Inputs"
BATCH = "Batch"
DEFAULT_RENDER = render.RenderOptions()

app = typer.Typer(
    help="Transcribe many files through Mistral's Batch API: half the price, outside the "
    "rate limits; submit now, collect the results later (from cron, say).",
    no_args_is_help=True,
    cls=helppage.Group,
    add_completion=False,
)


class ListFormat(str, Enum):
    text = "text"
    json = "json"


JobArgs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="JOB",
        help="A batch's local name, a job id, or an unambiguous prefix of either.",
        show_default=False,
    ),
]
ListFormatOpt = Annotated[
    ListFormat,
    typer.Option("--format", "-f", help="text, or json for scripts.", rich_help_panel=OUTPUT),
]


@app.command("submit", cls=helppage.Command, epilog=EXIT_CODES, no_args_is_help=True)
def submit(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE",
            help="Audio files, directories (with -r) or http(s):// URLs.",
            show_default=False,
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            metavar="DIR",
            help="Where the outputs are written at collection, one file per source "
            "(a/talk.wav -> DIR/a/talk.srt). Required.",
            file_okay=False,
            rich_help_panel=OUTPUT,
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
    upload: UploadOpt = "auto",
    audio_track: AudioTrackOpt = None,
    split_minutes: Annotated[
        float | None,
        typer.Option(
            "--split-minutes",
            metavar="MINUTES",
            help="Cut recordings longer than MINUTES into parts at quiet points (each its "
            "own request, merged at collection). Without it, only recordings longer than "
            "one request holds are cut.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    fmt: Annotated[
        FormatName | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format written at collection (default: text; env VOXCLI_FORMAT).",
            show_default=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    max_line_width: MaxLineWidthOpt = DEFAULT_RENDER.max_line_width,
    max_lines: MaxLinesOpt = DEFAULT_RENDER.max_lines,
    max_cue_duration: MaxCueDurationOpt = DEFAULT_RENDER.max_cue_duration,
    min_cue_duration: MinCueDurationOpt = DEFAULT_RENDER.min_cue_duration,
    max_chars_per_second: MaxCharsPerSecondOpt = DEFAULT_RENDER.max_chars_per_second,
    highlight_words: HighlightWordsOpt = False,
    text_width: TextWidthOpt = DEFAULT_RENDER.text_width,
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive",
            "-r",
            help="Take the audio files inside directory SOURCEs, subdirectories included.",
            rich_help_panel=INPUTS,
        ),
    ] = False,
    files_from: Annotated[
        str | None,
        typer.Option(
            "--files-from",
            metavar="PATH",
            help="Read sources from PATH ('-' for stdin), one per line or NUL-separated.",
            rich_help_panel=INPUTS,
        ),
    ] = None,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Leave out inputs whose output file already exists, or that a local batch "
            "not collected yet will write.",
            rich_help_panel=INPUTS,
        ),
    ] = False,
    min_age: Annotated[
        float | None,
        typer.Option(
            "--min-age",
            metavar="SECONDS",
            help="Leave out local files modified less than SECONDS ago (still being "
            "written) until a later submit (default: 10 for files found with -r or "
            "--files-from, 0 for files named; env VOXCLI_MIN_AGE).",
            show_default=False,
            rich_help_panel=INPUTS,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would be uploaded and submitted (inputs, parts, bytes, audio "
            "minutes, cost); send nothing.",
            rich_help_panel=BATCH,
        ),
    ] = False,
    retry_failed: Annotated[
        str | None,
        typer.Option(
            "--retry-failed",
            metavar="JOB",
            help="Submit a new batch of JOB's inputs that failed, with JOB's options "
            "(JOB must have been collected).",
            rich_help_panel=BATCH,
        ),
    ] = None,
    timeout_hours: Annotated[
        int,
        typer.Option(
            "--timeout-hours",
            metavar="HOURS",
            help="How long the API may take before it ends the job (under 7 days); "
            "uploads expire a day after that.",
            rich_help_panel=BATCH,
        ),
    ] = 24,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Submit even if the same inputs and options were submitted before.",
            rich_help_panel=BATCH,
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
) -> None:
    """Upload audio and submit it as Batch API jobs; print the batch's name and job ids."""
    from voxcli.commands import common
    from voxcli.commands.batch.request import SubmitFlags, build_submit_request
    from voxcli.commands.batch.submit_run import submit_all
    from voxcli.commands.transcribe.command import shared_flags

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params), fmt=fmt)
    flags = SubmitFlags(
        transcribe=replace(
            shared_flags(ctx.params, text_width=text_width),
            min_age=min_age,
            min_age_env=env.environ.get("VOXCLI_MIN_AGE"),
        ),
        dry_run=dry_run,
        retry_failed=retry_failed,
        timeout_hours=timeout_hours,
        again=again,
    )
    submit_all(env, build_submit_request(flags, settings), settings)


@app.command("status", cls=helppage.Command, epilog=EXIT_CODES)
def status(
    ctx: typer.Context,
    refs: JobArgs = None,
    fmt: ListFormatOpt = ListFormat.text,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show each job's state, progress, age and time left (default: every uncollected job)."""
    from voxcli.commands import common
    from voxcli.commands.batch.jobs_run import show_status

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    show_status(env, tuple(refs or ()), as_json=fmt is ListFormat.json, settings=settings)


@app.command("collect", cls=helppage.Command, epilog=EXIT_CODES)
def collect(
    ctx: typer.Context,
    refs: JobArgs = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-d",
            metavar="DIR",
            help="Collect a job with no local manifest (submitted elsewhere) into DIR, "
            "naming the outputs by its custom_ids.",
            file_okay=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    fmt: Annotated[
        FormatName | None,
        typer.Option(
            "--format",
            "-f",
            help="With -d: the format, when the job does not say (default: text).",
            show_default=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    report_path: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="PATH",
            help="Append one JSON line per input to PATH as each one is written or fails.",
            dir_okay=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    keep_uploads: Annotated[
        bool,
        typer.Option(
            "--keep-uploads",
            help="Keep the uploaded audio and input files on the server (they expire "
            "on their own).",
            rich_help_panel=BATCH,
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait for running jobs to finish, then collect them.",
            rich_help_panel=BATCH,
        ),
    ] = False,
    poll: Annotated[
        float | None,
        typer.Option(
            "--poll",
            metavar="SECONDS",
            min=0.01,
            help="With --wait: check every SECONDS, backing off while nothing moves (default: 30).",
            show_default=False,
            rich_help_panel=BATCH,
        ),
    ] = None,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    jobs: JobsOpt = 4,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write finished jobs' results as transcribe would (default: every uncollected job)."""
    from voxcli.commands import common
    from voxcli.commands.batch.collect_run import collect_all
    from voxcli.commands.batch.request import CollectFlags, build_collect_request

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    request = build_collect_request(
        CollectFlags(
            refs=tuple(refs or ()),
            output_dir=output_dir,
            fmt=fmt,
            report=report_path,
            keep_uploads=keep_uploads,
            wait=wait,
            poll=poll,
            jobs=jobs,
            verbose=verbose,
            quiet=quiet,
        )
    )
    collect_all(env, request, settings)


@app.command("cancel", cls=helppage.Command, epilog=EXIT_CODES, no_args_is_help=True)
def cancel(
    ctx: typer.Context,
    refs: JobArgs = None,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Ask the API to cancel JOB; collect it afterwards to write what had finished."""
    from voxcli.commands import common
    from voxcli.commands.batch.jobs_run import cancel_jobs

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    cancel_jobs(env, tuple(refs or ()), settings=settings, quiet=quiet)


@app.command("list", cls=helppage.Command, epilog=EXIT_CODES)
def list_batches(
    ctx: typer.Context,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="List the account's transcription jobs from the API instead of the local batches.",
            rich_help_panel=BATCH,
        ),
    ] = False,
    fmt: ListFormatOpt = ListFormat.text,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    debug: DebugOpt = False,
) -> None:
    """List the local batches and their last known state, or the account's jobs."""
    from voxcli.commands import common
    from voxcli.commands.batch.jobs_run import list_jobs

    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    list_jobs(env, remote=remote, as_json=fmt is ListFormat.json, settings=settings)
