"""``voxcli transcribe``'s flags turned into one frozen request, by a pure function.

:func:`build_request` holds every flag rule (conflicts, limits, defaults from the
settings) and touches no file and no network: flag files (``--bias-file``) are read by
the caller and passed in as text. So every usage error comes before any input is
expanded or read; :func:`check_inputs` adds the few rules that depend on how many
inputs the expansion found.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voxcli.api import TranscriptionParams
from voxcli.audio.references import SpeakerFlag, check_speakers, parse_speaker
from voxcli.catalog.check import Needs
from voxcli.config import Settings, check_temperature
from voxcli.errors import UsageError
from voxcli.params import (
    bias_terms_from_text,
    check_audio_track,
    collect_bias_terms,
    normalise_language,
    split_bias_values,
)
from voxcli.params import timestamp_granularities as granularities_for
from voxcli.render.formats import REGISTRY, extension_of, format_for_path, format_named
from voxcli.render.options import RenderOptions
from voxcli.targets import check_name_template


@dataclass(frozen=True)
class TranscribeFlags:
    """The command line as typed (after Typer's own parsing), plus flag files' text."""

    sources: tuple[str, ...] = ()
    files_from: str | None = None
    recursive: bool = False
    model: str | None = None
    language: str | None = None
    timestamps: tuple[str, ...] = ()
    diarize: bool = False
    bias: tuple[str, ...] = ()
    bias_files: tuple[tuple[str, str], ...] = ()  # (path, its text)
    speakers: tuple[str, ...] = ()  # NAME=PATH
    temperature: float | None = None
    fmt: str | None = None
    output: Path | None = None
    output_dir: Path | None = None
    upload: str = "auto"
    audio_track: int | None = None  # --audio-track; None: the first audio stream
    render: RenderOptions = field(default_factory=RenderOptions)
    text_width: int | None = None  # --text-width; None: wrap only on a terminal
    stdout_isatty: bool = False
    split_minutes: float | None = None
    no_cache: bool = False
    api_key_file: str | None = None
    jobs: int = 4
    verbose: bool = False
    quiet: bool = False
    skip_existing: bool = False
    fail_fast: bool = False
    report: Path | None = None
    stream: bool = False
    min_age: float | None = None
    min_age_env: str | None = None  # VOXCLI_MIN_AGE, used when --min-age is not given
    dry_run: bool = False
    formats: tuple[str, ...] = ()  # -f srt,json: every format named (fmt is the first)
    name: str | None = None  # --name TEMPLATE

    @property
    def highlight_words_asked(self) -> bool:
        return self.render.highlight_words


@dataclass(frozen=True)
class TranscribeRequest:
    """Everything a transcription run needs to know, validated."""

    sources: tuple[str, ...]
    files_from: str | None
    recursive: bool
    params: TranscriptionParams
    output_format: str
    output: Path | None
    output_dir: Path | None
    upload: str
    render: RenderOptions
    split_minutes: float | None
    use_cache: bool
    jobs: int
    verbose: bool
    quiet: bool
    skip_existing: bool
    fail_fast: bool
    report: Path | None
    stream: bool
    api_key_file: str | None = None
    speakers: tuple[SpeakerFlag, ...] = ()
    min_age: float | None = None
    """--min-age: skip local files modified less than this many seconds ago (None: the
    environment's default, for inputs found in directories or --files-from lists only)."""
    dry_run: bool = False
    """--dry-run: say what would be sent, send nothing."""
    output_formats: tuple[str, ...] = ()
    """Every format written (``-f srt,json``), the first being ``output_format``; empty
    means just ``output_format``."""

    name: str | None = None
    """--name TEMPLATE: output file names ({stem}, {ext}, {lang}, {model}, {date})."""

    audio_track: int | None = None
    """--audio-track N: the audio stream of each local input to send (None: the first)."""

    @property
    def formats(self) -> tuple[str, ...]:
        return self.output_formats or (self.output_format,)

    @property
    def to_stdout(self) -> bool:
        return self.output is None and self.output_dir is None

    @property
    def needs(self) -> Needs:
        """What the request needs from its model (checked against the model's card)."""
        return Needs(
            kind="offline",
            timestamps=self.params.timestamp_granularities,
            diarize=self.params.diarize,
            bias=len(self.params.context_bias),
            language=self.params.language,
            speakers=len(self.speakers),
        )


TERMINAL_TEXT_WIDTH = 80


def build_request(flags: TranscribeFlags, settings: Settings) -> TranscribeRequest:
    """The request the flags describe; a :class:`UsageError` for any rule they break."""
    _check_sources(flags)
    if flags.output is not None and str(flags.output) == "-":  # -o -: stdout, as said
        if flags.output_dir is not None:
            raise UsageError("--output and --output-dir cannot be used together")
        flags = dataclasses.replace(flags, output=None)
    _check_outputs(flags)
    flags = dataclasses.replace(flags, render=_text_layout(flags))
    check_format_agrees(flags.fmt, flags.output)
    output_format = output_format_for(flags.fmt, flags.output, settings.format)
    formats = check_formats(flags) or (output_format,)
    if flags.name is not None:
        _check_name(flags, len(formats))
    if flags.stream:
        _check_stream(flags, output_format)
    if len(flags.sources) > 1 and flags.output is None and flags.output_dir is None:
        check_shared_stdout(output_format, len(flags.sources))
    if flags.highlight_words_asked and not any(REGISTRY[name].has_cues for name in formats):
        raise UsageError("--highlight-words applies to srt and vtt output")
    if flags.split_minutes is not None and not (
        math.isfinite(flags.split_minutes) and flags.split_minutes > 0
    ):
        raise UsageError(
            f"--split-minutes must be a positive number of minutes, not {flags.split_minutes:g}"
        )
    check_audio_track(flags.audio_track, flags.sources)
    min_age = _min_age(flags)
    speakers = tuple(parse_speaker(raw) for raw in flags.speakers)
    check_speakers(speakers, diarize=flags.diarize)
    if speakers and flags.stream:
        raise UsageError("--stream cannot send --speaker references")
    language = normalise_language(flags.language)
    bias = split_bias_values(flags.bias)
    for _, text in flags.bias_files:
        bias.extend(bias_terms_from_text(text))
    params = TranscriptionParams(
        model=settings.model,
        language=language,
        temperature=check_temperature(flags.temperature),
        diarize=flags.diarize,
        context_bias=collect_bias_terms(bias),
        timestamp_granularities=granularities_for(
            list(flags.timestamps) or (["word"] if flags.highlight_words_asked else []),
            language=language,
            needs_timestamps=any(REGISTRY[name].needs_timestamps for name in formats),
            # Speaker turns come with segments: without them --diarize shows nothing.
            wants_timestamps=flags.diarize,
            fmt=next((n for n in formats if REGISTRY[n].needs_timestamps), output_format),
        ),
    )
    if flags.highlight_words_asked and "word" not in params.timestamp_granularities:
        raise UsageError("--highlight-words needs word timestamps", hint="add --timestamps word")
    return TranscribeRequest(
        sources=flags.sources,
        files_from=flags.files_from,
        recursive=flags.recursive,
        params=params,
        output_format=output_format,
        output=flags.output,
        output_dir=flags.output_dir,
        upload=flags.upload,
        render=flags.render,
        split_minutes=flags.split_minutes,
        use_cache=not flags.no_cache,
        jobs=flags.jobs,
        verbose=flags.verbose,
        quiet=flags.quiet,
        skip_existing=flags.skip_existing,
        fail_fast=flags.fail_fast,
        report=flags.report,
        stream=flags.stream,
        api_key_file=flags.api_key_file,
        speakers=speakers,
        min_age=min_age,
        dry_run=flags.dry_run,
        output_formats=formats if len(formats) > 1 else (),
        name=flags.name,
        audio_track=flags.audio_track,
    )


def check_inputs(request: TranscribeRequest, count: int, uses_stdin: bool) -> None:
    """The rules that depend on the inputs found (``-r``, ``--files-from``)."""
    if request.output is not None:
        _check_single_output(count)
    if request.stream and count != 1:
        raise UsageError(
            f"--stream takes a single source, not {count}",
            hint="drop --stream to transcribe several sources",
        )
    if request.files_from == "-" and uses_stdin:
        raise UsageError("stdin cannot carry both the file list (--files-from -) and audio")
    if count > 1 and request.to_stdout:
        check_shared_stdout(request.output_format, count)


def check_shared_stdout(fmt: str, count: int) -> None:
    """Several SRT/VTT/TSV files or JSON documents back to back on stdout are one broken file."""
    if not REGISTRY[fmt].shares_stdout:
        raise UsageError(
            f"{count} sources cannot share stdout as one {fmt} file",
            hint="use --output-dir DIR for one file per source, "
            "or -f jsonl (one JSON object per line) or -f text",
        )


def _text_layout(flags: TranscribeFlags) -> RenderOptions:
    """Text is wrapped at 80 columns for a reader at a terminal, or at --text-width when
    given; in pipes and files each paragraph is one line, so ``grep`` finds any phrase."""
    if flags.text_width is not None:
        width = flags.text_width
    elif flags.stdout_isatty and flags.output is None and flags.output_dir is None:
        width = TERMINAL_TEXT_WIDTH
    else:
        width = 0
    return dataclasses.replace(flags.render, text_width=width)


def check_format_agrees(fmt: str | None, output: Path | None) -> None:
    """``-o x.vtt -f srt`` names two formats: a usage error, not a silent last-wins. An
    extension no format claims (``-o notes.out``) leaves ``--format`` free."""
    if fmt is None or output is None:
        return
    by_extension = format_for_path(output)
    if by_extension is not None and by_extension != fmt:
        raise UsageError(
            f"--output {output.name} is a {by_extension} file name, but --format is {fmt}",
            hint=f"drop --format, or name the file with {extension_of(fmt)}",
        )


def _check_name(flags: TranscribeFlags, formats: int) -> None:
    """--name names files under --output-dir; with --skip-existing, {lang} must be known
    before the run (--language), or which file to look for is not known."""
    assert flags.name is not None
    if flags.output_dir is None:
        raise UsageError("--name names the files written under --output-dir; add -d DIR")
    check_name_template(flags.name, formats)
    if flags.skip_existing and "{lang}" in flags.name and not flags.language:
        raise UsageError(
            "--skip-existing cannot tell which {lang} to look for before transcribing",
            hint="give --language, or drop {lang} from --name",
        )


def check_formats(flags: TranscribeFlags) -> tuple[str, ...]:
    """``-f srt,json``: every format, each written to its own file, so only with -d."""
    if len(flags.formats) < 2:
        return ()
    if flags.output_dir is None:
        named = ",".join(flags.formats)
        raise UsageError(
            f"--format {named} writes one file per format, so it needs --output-dir",
            hint="add -d DIR (or -d . to write beside each input)",
        )
    return flags.formats


def output_format_for(fmt: str | None, output: Path | None, configured: str | None) -> str:
    """--format, else --output's extension, else env/config, else text."""
    if fmt is not None:
        return fmt
    if output is not None and (by_extension := format_for_path(output)):
        return by_extension
    if configured is not None:
        return format_named(configured, source="VOXCLI_FORMAT or the config file").name
    return "text"


def _check_sources(flags: TranscribeFlags) -> None:
    if flags.files_from == "-" and flags.api_key_file == "-":
        raise UsageError("stdin cannot carry both the file list and the key (--api-key-file -)")
    if flags.files_from is None and not flags.sources:
        raise UsageError(
            "no SOURCE given", hint="name audio files, directories with -r, or --files-from"
        )
    if flags.files_from == "-" and "-" in flags.sources:
        raise UsageError("stdin cannot carry both the file list (--files-from -) and audio")


def _check_outputs(flags: TranscribeFlags) -> None:
    if flags.output is not None and flags.output_dir is not None:
        raise UsageError("--output and --output-dir cannot be used together")
    if flags.output is not None:
        _check_single_output(len(flags.sources))
    if flags.skip_existing and flags.output is None and flags.output_dir is None:
        raise UsageError("--skip-existing needs --output or --output-dir")


def _min_age(flags: TranscribeFlags) -> float | None:
    """--min-age, else VOXCLI_MIN_AGE, else None (the environment's default applies)."""
    value, name = flags.min_age, "--min-age"
    if value is None and flags.min_age_env is not None and flags.min_age_env.strip():
        name = "VOXCLI_MIN_AGE"
        try:
            value = float(flags.min_age_env)
        except ValueError:
            raise UsageError(
                f"VOXCLI_MIN_AGE must be a number of seconds, not {flags.min_age_env!r}"
            ) from None
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{name} must be a number of seconds, 0 or more, not {value:g}")
    return value


def _check_single_output(count: int) -> None:
    if count > 1:
        raise UsageError(
            "--output takes a single source",
            hint="use --output-dir DIR to write one file per source",
        )


def _check_stream(flags: TranscribeFlags, output_format: str) -> None:
    """--stream prints one source's text on stdout as it arrives; refuse anything else."""
    count = len(flags.sources) + (flags.files_from is not None)
    if count != 1:
        raise UsageError(
            f"--stream takes a single source, not {count}",
            hint="drop --stream to transcribe several sources",
        )
    if flags.output is not None or flags.output_dir is not None:
        raise UsageError("--stream prints to stdout; it cannot be used with -o or -d")
    if flags.fmt is not None and flags.fmt != "text":
        raise UsageError(f"--stream prints text; it cannot be used with --format {flags.fmt}")
    if flags.report is not None:
        raise UsageError("--stream cannot be used with --report")
    if flags.diarize or flags.timestamps:
        asked = "--diarize" if flags.diarize else "--timestamps"
        raise UsageError(
            f"--stream prints the text as it arrives, without speakers or times, so it "
            f"cannot be used with {asked}",
            hint=f"drop --stream to get what {asked} asks for",
        )
    if output_format != "text":
        raise UsageError(f"--stream prints text; it cannot write {output_format}")
    if flags.split_minutes is not None:
        raise UsageError(
            "--stream sends the recording in one request, so it cannot be split "
            "with --split-minutes",
            hint="drop --stream to have the parts sent in parallel and merged, "
            "or drop --split-minutes",
        )


def bias_file_texts(paths: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Read the ``--bias-file`` files (the only reading the request needs)."""
    from voxcli.textfiles import read_flag_text

    return tuple((path, read_flag_text(path, "--bias-file")) for path in paths)
