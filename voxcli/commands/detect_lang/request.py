"""``voxcli detect-lang``'s flags turned into one frozen request, by a pure function."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from voxcli.commands.common import check_stdin_sources
from voxcli.config import Settings
from voxcli.errors import UsageError
from voxcli.params import check_audio_track
from voxcli.sources import Source, parse_sources

DEFAULT_SAMPLE_SECONDS = 30.0

LineFormat = Literal["text", "json"]


@dataclass(frozen=True)
class DetectFlags:
    """The command line as typed (after Typer's own parsing)."""

    sources: tuple[str, ...] = ()
    sample: float = DEFAULT_SAMPLE_SECONDS
    audio_track: int | None = None
    fmt: LineFormat = "text"
    api_key_file: str | None = None
    quiet: bool = False
    stdin_isatty: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class DetectRequest:
    """Which sources to ask about, how much of each to send, and how to print the answers.

    ``several``: the output names each source, decided by what was typed (two names for
    the same file still print two lines' shape, though the file is sent once).
    """

    sources: tuple[Source, ...]
    audio_on_stdin: bool
    model: str
    sample_seconds: float
    fmt: LineFormat
    several: bool
    quiet: bool
    dry_run: bool = False
    audio_track: int | None = None
    """--audio-track N: the audio stream sampled (None: the first)."""


def build_detect_request(flags: DetectFlags, settings: Settings) -> DetectRequest:
    """The request the flags describe; a :class:`UsageError` for any rule they break."""
    if not flags.sources:
        raise UsageError("no SOURCE given", hint="name audio files, '-' for stdin, or URLs")
    if not (math.isfinite(flags.sample) and flags.sample >= 0):
        raise UsageError(f"--sample must be 0 or a number of seconds, not {flags.sample:g}")
    sources = parse_sources(list(flags.sources))
    check_audio_track(flags.audio_track, flags.sources)
    audio_on_stdin = check_stdin_sources(
        sources,
        api_key_file=flags.api_key_file,
        stdin_isatty=flags.stdin_isatty,
        example="cat talk.mp3 | voxcli detect-lang -",
    )
    return DetectRequest(
        sources=tuple(sources),
        audio_on_stdin=audio_on_stdin,
        model=settings.model,
        sample_seconds=flags.sample,
        fmt=flags.fmt,
        several=len(flags.sources) > 1,
        quiet=flags.quiet,
        dry_run=flags.dry_run,
        audio_track=flags.audio_track,
    )
