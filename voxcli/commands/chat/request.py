"""``voxcli chat``'s flags turned into one frozen request, by a pure function.

:func:`build_chat_request` holds every flag rule and reads nothing: when the question is
to come from stdin, the request says so and the runner reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voxcli.api.types import ChatParams
from voxcli.commands.common import check_stdin_sources
from voxcli.config import Settings, check_temperature
from voxcli.errors import UsageError
from voxcli.sources import Source, parse_source

DEFAULT_UPLOAD_THRESHOLD = 10_000_000  # bytes (10 MB)

AnswerMode = Literal["stream", "whole", "json"]


@dataclass(frozen=True)
class ChatFlags:
    """The command line as typed (after Typer's own parsing)."""

    sources: tuple[str, ...] = ()
    prompt: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD
    stream: bool = True
    as_json: bool = False
    api_key_file: str | None = None
    verbose: bool = False
    quiet: bool = False
    stdin_isatty: bool = False


@dataclass(frozen=True)
class ChatRequest:
    """One question about audio clips, validated. ``prompt`` None: read it from stdin."""

    clips: tuple[Source, ...]
    audio_on_stdin: bool
    prompt: str | None
    system: str | None
    params: ChatParams
    upload_threshold: int
    answer: AnswerMode
    verbose: bool
    quiet: bool


def parse_clips(raws: tuple[str, ...] | list[str]) -> list[Source]:
    """The clips in the order given. Unlike transcribe's sources, repeats are kept: the
    question may refer to "the second clip". ``-`` (stdin) may appear only once."""
    clips = [parse_source(raw) for raw in raws]
    if sum(clip.kind == "stdin" for clip in clips) > 1:
        raise UsageError("'-' (stdin) can be given only once")
    return clips


def build_chat_request(flags: ChatFlags, settings: Settings) -> ChatRequest:
    """The request the flags describe; a :class:`UsageError` for any rule they break."""
    clips = parse_clips(flags.sources)
    audio_on_stdin = check_stdin_sources(
        clips,
        api_key_file=flags.api_key_file,
        stdin_isatty=flags.stdin_isatty,
        example="cat talk.mp3 | voxcli chat - -p 'Summarize'",
    )
    stdin_busy = audio_on_stdin or flags.api_key_file == "-"
    prompt = flags.prompt
    if prompt is None and (stdin_busy or flags.stdin_isatty):
        raise no_question(stdin_busy)
    if prompt is not None:
        if not prompt.strip():
            raise no_question(stdin_busy)
        prompt = prompt.strip()
    answer: AnswerMode = "json" if flags.as_json else "stream" if flags.stream else "whole"
    return ChatRequest(
        clips=tuple(clips),
        audio_on_stdin=audio_on_stdin,
        prompt=prompt,
        system=flags.system,
        params=ChatParams(
            model=settings.model,
            temperature=check_temperature(flags.temperature),
            max_tokens=flags.max_tokens,
        ),
        upload_threshold=flags.upload_threshold,
        answer=answer,
        verbose=flags.verbose,
        quiet=flags.quiet,
    )


def no_question(stdin_busy: bool) -> UsageError:
    """The error for a missing or empty question."""
    return UsageError(
        "no question to ask about the audio",
        hint="pass --prompt TEXT"
        if stdin_busy
        else "pass --prompt TEXT, or pipe it in: echo 'Summarize' | voxcli chat talk.mp3",
    )
