"""``voxcli live``'s flags turned into one frozen request, by a pure function.

Every flag rule is here and nothing is read: bias files arrive as text, speaker clips are
loaded by the runner. The rules that need the model's card (``--delay`` inside its
``streaming_delays_ms``, turn detection) are :func:`settle_with_card`'s, run after the
card is looked up and before anything connects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from voxcli.audio.references import SpeakerFlag, check_speakers, parse_speaker
from voxcli.catalog.card import ModelCard
from voxcli.catalog.check import ModelMismatch, Needs
from voxcli.config import Settings
from voxcli.errors import UsageError
from voxcli.live.types import ENCODINGS, LiveSettings, PcmFormat, TurnSettings
from voxcli.params import (
    bias_terms_from_text,
    check_audio_track,
    collect_bias_terms,
    normalise_language,
    split_bias_values,
)
from voxcli.render.formats import REGISTRY, format_for_path

STDOUT_FORMATS = ("text", "jsonl", "srt", "vtt")
"""What stdout can show while the session runs (json and tsv are whole documents: -o)."""
API_DELAYS_MS = ((80, 1200), (2400, 2400))
"""``target_streaming_delay_ms`` values the API takes when the card does not say."""
RATE_RANGE = (8_000, 96_000)


@dataclass(frozen=True)
class LiveFlags:
    """The command line as typed (after Typer's own parsing), plus flag files' text."""

    source: str | None = None
    device: str | None = None
    rate: int = 16_000
    encoding: str = "pcm_s16le"
    pace: float = 1.0
    audio_track: int | None = None
    language: str | None = None
    diarize: bool = False
    speakers: tuple[str, ...] = ()
    bias: tuple[str, ...] = ()
    bias_files: tuple[tuple[str, str], ...] = ()  # (path, its text)
    delay_ms: int | None = None
    end_silence_ms: int | None = None
    no_turns: bool = False
    fmt: str | None = None
    output: Path | None = None
    duration: float | None = None
    api_key_file: str | None = None
    verbose: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class LiveRequest:
    """Everything a live session needs to know, validated."""

    source: str | None  # None: the microphone; "-": stdin; else a path or URL
    device: str | None
    raw_format: PcmFormat  # how raw PCM on stdin is to be read
    pace: float
    settings: LiveSettings
    speakers: tuple[SpeakerFlag, ...]
    stdout_format: str | None  # None: nothing on stdout (-o given)
    output: Path | None
    output_format: str | None
    duration: float | None
    turns_wanted: bool
    end_silence_ms: int | None
    verbose: bool
    quiet: bool
    audio_track: int | None = None
    """--audio-track N: the audio stream of a file, URL or stdin container (None: the first)."""

    @property
    def needs(self) -> Needs:
        return Needs(
            kind="realtime",
            diarize=self.settings.diarize,
            bias=len(self.settings.context_bias),
            language=self.settings.language,
            speakers=len(self.speakers),
        )


def build_live_request(flags: LiveFlags, settings: Settings) -> LiveRequest:
    """The request the flags describe; a :class:`UsageError` for any rule they break."""
    if flags.encoding not in ENCODINGS:
        raise UsageError(
            f"unknown --encoding {flags.encoding!r}", hint=f"choose one of: {', '.join(ENCODINGS)}"
        )
    low, high = RATE_RANGE
    if not low <= flags.rate <= high:
        raise UsageError(f"--rate must be {low} to {high} Hz, not {flags.rate}")
    if not (math.isfinite(flags.pace) and flags.pace >= 0):
        raise UsageError(f"--pace must be 0 (as fast as possible) or more, not {flags.pace:g}")
    if flags.duration is not None and not (math.isfinite(flags.duration) and flags.duration > 0):
        raise UsageError(f"--duration must be a positive number of seconds, not {flags.duration:g}")
    if flags.no_turns and flags.end_silence_ms is not None:
        raise UsageError("--end-silence tunes turn detection, which --no-turns leaves off")
    if flags.end_silence_ms is not None and flags.end_silence_ms <= 0:
        raise UsageError(
            f"--end-silence must be a positive number of ms, not {flags.end_silence_ms}"
        )
    if flags.source == "-" and flags.api_key_file == "-":
        raise UsageError("stdin cannot carry both the audio ('-') and the key (--api-key-file -)")
    if flags.device is not None and flags.source is not None:
        raise UsageError("--device picks a microphone; it cannot be used with a SOURCE")
    if flags.audio_track is not None:
        _check_audio_track(flags)
    speakers = tuple(parse_speaker(raw) for raw in flags.speakers)
    check_speakers(speakers, diarize=flags.diarize)
    bias = split_bias_values(flags.bias)
    for _, text in flags.bias_files:
        bias.extend(bias_terms_from_text(text))
    output_format, stdout_format = _formats(flags)
    return LiveRequest(
        source=flags.source,
        device=flags.device,
        raw_format=PcmFormat(flags.encoding, flags.rate),  # narrowed by the check above
        pace=flags.pace,
        settings=LiveSettings(
            model=settings.model,
            language=normalise_language(flags.language),
            diarize=flags.diarize,
            context_bias=collect_bias_terms(bias),
            target_streaming_delay_ms=flags.delay_ms,
        ),
        speakers=speakers,
        stdout_format=stdout_format,
        output=flags.output,
        output_format=output_format,
        duration=flags.duration,
        turns_wanted=not flags.no_turns,
        end_silence_ms=flags.end_silence_ms,
        verbose=flags.verbose,
        quiet=flags.quiet,
        audio_track=flags.audio_track,
    )


def _check_audio_track(flags: LiveFlags) -> None:
    """--audio-track picks a stream of what live decodes (a file, a URL, a container on
    stdin); the microphone has one (raw PCM on stdin is refused once it is recognised)."""
    check_audio_track(flags.audio_track, api_fetched=())  # live decodes URLs itself
    if flags.source is None:
        raise UsageError(
            "--audio-track picks an audio stream of a file, URL or stdin; the microphone "
            "has no streams to pick from",
            hint="drop --audio-track, or name a SOURCE",
        )


def _formats(flags: LiveFlags) -> tuple[str | None, str | None]:
    """(the -o file's format, stdout's format): -f, else -o's extension, else text."""
    if flags.fmt is not None and flags.fmt not in REGISTRY:
        raise UsageError(
            f"unknown --format {flags.fmt!r}", hint=f"choose one of: {', '.join(REGISTRY)}"
        )
    if flags.output is not None:
        fmt = flags.fmt or format_for_path(flags.output) or "text"
        return fmt, None
    fmt = flags.fmt or "text"
    if fmt not in STDOUT_FORMATS:
        raise UsageError(
            f"-f {fmt} is one document written at the end: it needs -o PATH",
            hint=f"on stdout, live shows {', '.join(STDOUT_FORMATS)}",
        )
    return None, fmt


def settle_with_card(request: LiveRequest, card: ModelCard | None) -> LiveRequest:
    """The session settings once the model's card is known (None: not known).

    ``--delay`` must fall in the card's ``streaming_delays_ms`` ranges (the API's own
    ranges when the card is unknown). Turn detection is switched on when the card says the
    model has it (or is unknown) and ``--no-turns`` was not given.
    """
    delay = request.settings.target_streaming_delay_ms
    ranges = card.streaming_delays_ms if card is not None and card.streaming_delays_ms else None
    if delay is not None and not any(lo <= delay <= hi for lo, hi in ranges or API_DELAYS_MS):
        shown = ", ".join(
            f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in ranges or API_DELAYS_MS
        )
        name = request.settings.model
        raise ModelMismatch(
            f"--delay {delay} ms is outside what {name} takes ({shown} ms)",
            hint="pick a delay in those ranges, e.g. --delay 480",
        )
    no_turns = card is not None and card.has_transcription_capabilities and not card.turn_detection
    turns = request.turns_wanted and not no_turns
    if request.end_silence_ms is not None and no_turns:
        raise ModelMismatch(
            f"--end-silence tunes turn detection, which {request.settings.model} does not have"
        )
    settings = replace(
        request.settings,
        turn_detection=TurnSettings(request.end_silence_ms) if turns else None,
    )
    return replace(request, settings=settings)
