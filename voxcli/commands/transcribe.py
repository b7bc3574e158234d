"""``voxcli transcribe``: parse and validate flags, then hand over to the pipeline."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import typer

from voxcli import console, render
from voxcli.api import MistralApi, TranscriptionParams
from voxcli.config import Settings, resolve_settings
from voxcli.errors import AuthError, UsageError, VoxcliError
from voxcli.longform import SplitOptions
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    DebugOpt,
    FormatOpt,
    JobsOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TemperatureOpt,
    TimeoutOpt,
    VerboseOpt,
)
from voxcli.output import write_atomic, write_stdout
from voxcli.params import (
    collect_bias_terms,
    normalise_language,
    timestamp_granularities,
)
from voxcli.pipeline import transcribe_source
from voxcli.sources import Source, parse_sources


class Granularity(str, Enum):
    segment = "segment"
    word = "word"


FORMAT_EXTENSIONS = {fmt: ext for ext, fmt in render.EXTENSIONS.items()}


def transcribe(
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="SOURCE",
            help="Audio files, '-' for audio on stdin, or http(s):// URLs.",
            show_default=False,
        ),
    ],
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
            help="Write one file per source into DIR, named STEM.EXT (talk.wav -> talk.srt).",
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
) -> None:
    """Transcribe audio files, stdin or URLs to text, JSON, SRT or WebVTT."""
    if debug:
        console.set_debug(True)
    parsed = parse_sources(sources)
    if output is not None and output_dir is not None:
        raise UsageError("--output and --output-dir cannot be used together")
    if output is not None and len(parsed) > 1:
        raise UsageError(
            "--output takes a single source",
            hint="use --output-dir DIR to write one file per source",
        )
    uses_stdin = any(source.kind == "stdin" for source in parsed)
    if uses_stdin and api_key_file == "-":
        raise UsageError("stdin cannot carry both the audio ('-') and the key (--api-key-file -)")
    if uses_stdin and sys.stdin.isatty():
        raise UsageError(
            "'-' reads audio from stdin, but stdin is a terminal",
            hint="pipe audio in, e.g. 'cat talk.mp3 | voxcli transcribe -'",
        )

    settings = resolve_settings(
        api_key_file=api_key_file,
        server_url=server_url,
        timeout=timeout,
        retries=retries,
        model=model,
        fmt=fmt,
        warn=console.warn,
    )
    output_format = _output_format(fmt, output, settings)
    params = TranscriptionParams(
        model=settings.model,
        language=(code := normalise_language(language)),
        temperature=temperature,
        diarize=diarize,
        context_bias=collect_bias_terms(bias or [], bias_file or []),
        timestamp_granularities=timestamp_granularities(
            [granularity.value for granularity in timestamps or []],
            language=code,
            needs_timestamps=output_format in render.TIMED_FORMATS,
            fmt=output_format,
        ),
    )
    targets = _targets(parsed, output, output_dir, output_format)
    split = SplitOptions(
        split_minutes=split_minutes,
        explicit=split_minutes is not None,
        use_cache=not no_cache,
        jobs=jobs,
    )
    settings.require_key()

    report = console.info if verbose and not quiet else None
    api = MistralApi(settings, max_in_flight=jobs)
    failures = 0
    try:
        for source, target in zip(parsed, targets, strict=True):
            try:
                transcript = transcribe_source(
                    api,
                    source,
                    params,
                    upload_mode=upload,
                    stdin=sys.stdin.buffer if source.kind == "stdin" else None,
                    report=report,
                    split=split,
                    warn=console.warn,
                )
                text = render.render(transcript, output_format)
                if target is None:
                    write_stdout(text)
                else:
                    write_atomic(target, text)
            except AuthError:
                raise
            except VoxcliError as exc:
                if len(parsed) == 1:
                    raise
                failures += 1
                console.error(f"{source}: {exc.message}", exc.hint)
                continue
            if report is not None and target is not None:
                report(f"{source}: wrote {target}")
    finally:
        api.close()
    if failures:
        if not quiet:
            console.error(f"{failures} of {len(parsed)} inputs failed")
        raise typer.Exit(1)


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
    sources: list[Source], output: Path | None, output_dir: Path | None, fmt: str
) -> list[Path | None]:
    """Where each source's result goes: stdout (None), --output, or DIR/STEM.EXT."""
    if output is not None:
        return [output]
    if output_dir is None:
        return [None] * len(sources)
    extension = FORMAT_EXTENSIONS[fmt]
    targets = [output_dir / f"{source.stem}{extension}" for source in sources]
    seen: dict[Path, Source] = {}
    for source, target in zip(sources, targets, strict=True):
        if target in seen:
            raise UsageError(
                f"{seen[target]} and {source} would both be written to {target}",
                hint="rename one of them, or transcribe them in separate runs",
            )
        seen[target] = source
    return targets
