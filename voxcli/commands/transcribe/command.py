"""``voxcli transcribe``: parse and validate flags, then hand over to the pipeline."""

from __future__ import annotations

import sys
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import typer

from voxcli import console, inputs, render
from voxcli.api import TranscriptionParams
from voxcli.commands import common
from voxcli.config import Settings
from voxcli.console import Say as Report
from voxcli.engine.longform import SplitOptions
from voxcli.engine.pipeline import transcribe_source
from voxcli.engine.runner import Job, RunOptions, run_jobs
from voxcli.engine.streaming import stream_source
from voxcli.errors import InputError, UsageError
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    DebugOpt,
    FormatOpt,
    HighlightWordsOpt,
    JobsOpt,
    MaxCharsPerSecondOpt,
    MaxCueDurationOpt,
    MaxLinesOpt,
    MaxLineWidthOpt,
    MinCueDurationOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TemperatureOpt,
    TextWidthOpt,
    TimeoutOpt,
    VerboseOpt,
)
from voxcli.output.progress import make_progress, stderr_is_terminal
from voxcli.output.report import ReportWriter
from voxcli.params import (
    collect_bias_terms,
    normalise_language,
    timestamp_granularities,
)
from voxcli.transcript import Transcript


class Granularity(str, Enum):
    segment = "segment"
    word = "word"


DEFAULT_RENDER = render.RenderOptions()
FORMAT_EXTENSIONS = {fmt: ext for ext, fmt in render.EXTENSIONS.items()}
RUN = "Many files"


def transcribe(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE",
            help="Audio files, directories (with -r), '-' for audio on stdin, or http(s):// URLs.",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            metavar="CODE",
            help="Language of the audio as two letters (en, fr, ...). Not with --timestamps.",
            rich_help_panel=REQUEST,
        ),
    ] = None,
    timestamps: Annotated[
        list[Granularity] | None,
        typer.Option(
            "--timestamps",
            "-t",
            help="Ask for segment or word timestamps; give twice for both. Not with --language.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    diarize: Annotated[
        bool,
        typer.Option("--diarize", help="Label who speaks when.", rich_help_panel=REQUEST),
    ] = False,
    bias: Annotated[
        list[str] | None,
        typer.Option(
            "--bias",
            metavar="TERM",
            help="Words or names to favour (repeatable; commas separate terms; at most 100).",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    bias_file: Annotated[
        list[str] | None,
        typer.Option(
            "--bias-file",
            metavar="PATH",
            help="Read bias terms from PATH, one per line, '#' comments.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    temperature: TemperatureOpt = None,
    fmt: FormatOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write to PATH (atomically) instead of stdout; the extension picks the format.",
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
    upload: Annotated[
        Literal["auto", "original"],
        typer.Option(
            "--upload",
            help="auto: send lossless audio as 16 kHz mono FLAC (what the model hears); "
            "original: send files untouched.",
            rich_help_panel=REQUEST,
        ),
    ] = "auto",
    max_line_width: MaxLineWidthOpt = DEFAULT_RENDER.max_line_width,
    max_lines: MaxLinesOpt = DEFAULT_RENDER.max_lines,
    max_cue_duration: MaxCueDurationOpt = DEFAULT_RENDER.max_cue_duration,
    min_cue_duration: MinCueDurationOpt = DEFAULT_RENDER.min_cue_duration,
    max_chars_per_second: MaxCharsPerSecondOpt = DEFAULT_RENDER.max_chars_per_second,
    highlight_words: HighlightWordsOpt = False,
    text_width: TextWidthOpt = DEFAULT_RENDER.text_width,
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
            help="Skip inputs whose output file already exists (with -o or -d).",
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
) -> None:
    """Transcribe audio files, stdin or URLs to text, JSON, SRT or WebVTT."""
    if files_from == "-" and api_key_file == "-":
        raise UsageError("stdin cannot carry both the file list and the key (--api-key-file -)")
    raws = list(sources or [])
    if files_from is not None:
        raws += inputs.read_files_from(files_from, sys.stdin.buffer)
    elif not raws:
        raise UsageError(
            "no SOURCE given", hint="name audio files, directories with -r, or --files-from"
        )
    items = inputs.expand_inputs(raws, recursive=recursive)
    if output is not None and output_dir is not None:
        raise UsageError("--output and --output-dir cannot be used together")
    if output is not None and len(items) > 1:
        raise UsageError(
            "--output takes a single source",
            hint="use --output-dir DIR to write one file per source",
        )
    if skip_existing and output is None and output_dir is None:
        raise UsageError("--skip-existing needs --output or --output-dir")
    if stream:
        _check_stream(items, output, output_dir, fmt, report_path)
    if files_from == "-" and any(item.source.kind == "stdin" for item in items):
        raise UsageError("stdin cannot carry both the file list (--files-from -) and audio")
    uses_stdin = common.check_stdin_sources(
        [item.source for item in items],
        api_key_file,
        example="cat talk.mp3 | voxcli transcribe -",
    )
    settings = common.connection_settings(
        api_key_file=api_key_file,
        server_url=server_url,
        timeout=timeout,
        retries=retries,
        model=model,
        fmt=fmt,
        quiet=quiet,
    )
    output_format = _output_format(fmt, output, settings)
    if stream and output_format != "text":
        raise UsageError(f"--stream prints text; it cannot write {output_format}")
    if len(items) > 1 and output is None and output_dir is None:
        _check_shared_stdout(output_format, len(items))
    if highlight_words and output_format not in render.SUBTITLE_FORMATS:
        raise UsageError("--highlight-words applies to srt and vtt output")
    params = TranscriptionParams(
        model=settings.model,
        language=(code := normalise_language(language)),
        temperature=temperature,
        diarize=diarize,
        context_bias=collect_bias_terms(bias or [], bias_file or []),
        timestamp_granularities=timestamp_granularities(
            [granularity.value for granularity in timestamps or []]
            or (["word"] if highlight_words else []),
            language=code,
            needs_timestamps=output_format in render.TIMED_FORMATS,
            # Speaker turns come with segments: without them --diarize shows nothing.
            wants_timestamps=diarize,
            fmt=output_format,
        ),
    )
    render_options = render.RenderOptions(
        max_line_width=max_line_width,
        max_lines=max_lines,
        max_cue_duration=max_cue_duration,
        min_cue_duration=min_cue_duration,
        max_chars_per_second=max_chars_per_second,
        highlight_words=highlight_words,
        text_width=text_width,
    )
    if highlight_words and "word" not in params.timestamp_granularities:
        raise UsageError(
            "--highlight-words needs word timestamps",
            hint="add --timestamps word",
        )
    targets, refused = _targets(items, output, output_dir, output_format)
    split = SplitOptions(
        split_minutes=split_minutes,
        explicit=split_minutes is not None,
        use_cache=not no_cache,
        jobs=jobs,
        stream=stream,
    )
    if not items:
        if verbose or stderr_is_terminal():
            console.warn("nothing to transcribe: no audio files found")
        return
    progress_report = console.info if verbose and not quiet else None
    with common.open_api(settings, jobs=jobs) as api:
        if stream:
            source = items[0].source
            stream_source(
                api,
                source,
                params,
                sys.stdout,
                upload_mode=upload,
                stdin=sys.stdin.buffer if source.kind == "stdin" else None,
                report=progress_report,
            )
            return
        transcribe_one = partial(
            transcribe_source,
            api,
            params=params,
            upload_mode=upload,
            stdin=sys.stdin.buffer if uses_stdin else None,
            report=progress_report,
            split=split,
            warn=console.warn,
        )
        report = ReportWriter(report_path) if report_path is not None else None
        try:
            code = run_jobs(
                [
                    Job(item.source, target, refused.get(index))
                    for index, (item, target) in enumerate(zip(items, targets, strict=True))
                ],
                transcribe_one,
                partial(
                    _render_and_report,
                    fmt=output_format,
                    options=render_options,
                    report=progress_report,
                ),
                RunOptions(
                    jobs=jobs,
                    skip_existing=skip_existing,
                    fail_fast=fail_fast,
                    verbose=verbose,
                    quiet=quiet,
                    show_summary=verbose or stderr_is_terminal(),
                    report=report,
                    progress=make_progress(quiet=quiet),
                ),
            )
        finally:
            if report is not None:
                report.close()
    if code:
        raise typer.Exit(code)


SINGLE_DOCUMENT_FORMATS = frozenset({"json", "srt", "vtt", "tsv"})


def _check_shared_stdout(fmt: str, count: int) -> None:
    """Several SRT/VTT/TSV files or JSON documents back to back on stdout are one broken file."""
    if fmt in SINGLE_DOCUMENT_FORMATS:
        raise UsageError(
            f"{count} sources cannot share stdout as one {fmt} file",
            hint="use --output-dir DIR for one file per source, "
            "or -f jsonl (one JSON object per line) or -f text",
        )


def _render_and_report(
    transcript: Transcript, *, fmt: str, options: render.RenderOptions, report: Report | None
) -> str:
    """Render one transcript; with --verbose, say how the subtitle cues came out."""
    text, cues = render.render_with_report(transcript, fmt, options)
    if report is not None and cues is not None:
        report(f"{transcript.source}: {cues.summary(options)}")
    return text


def _check_stream(
    items: list[inputs.InputItem],
    output: Path | None,
    output_dir: Path | None,
    fmt: str | None,
    report_path: Path | None,
) -> None:
    """--stream prints one source's text on stdout as it arrives; refuse anything else."""
    if len(items) != 1:
        raise UsageError(
            f"--stream takes a single source, not {len(items)}",
            hint="drop --stream to transcribe several sources",
        )
    if output is not None or output_dir is not None:
        raise UsageError("--stream prints to stdout; it cannot be used with -o or -d")
    if fmt is not None and fmt != "text":
        raise UsageError(f"--stream prints text; it cannot be used with --format {fmt}")
    if report_path is not None:
        raise UsageError("--stream cannot be used with --report")


def _output_format(fmt: str | None, output: Path | None, settings: Settings) -> str:
    """--format, else --output's extension, else env/config, else text."""
    if fmt is not None:
        return fmt
    if output is not None and (by_extension := render.format_for_path(output)):
        return by_extension
    if settings.format is not None:
        if settings.format not in render.FORMATS:
            raise UsageError(
                f"unknown format {settings.format!r} in VOXCLI_FORMAT or the config file",
                hint=f"choose one of: {', '.join(render.FORMATS)}",
            )
        return settings.format
    return "text"


def _targets(
    items: list[inputs.InputItem], output: Path | None, output_dir: Path | None, fmt: str
) -> tuple[list[Path | None], dict[int, InputError]]:
    """Where each input's result goes: stdout (None), --output, or a file under --output-dir.

    Also the inputs refused because they would share an output file with another one.
    """
    if output is not None:
        return [output] * len(items), {}
    if output_dir is None:
        return [None] * len(items), {}
    paths = inputs.output_paths(items, output_dir, FORMAT_EXTENSIONS[fmt])
    return list(paths), inputs.collisions(items, paths)
