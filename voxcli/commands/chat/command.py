"""``voxcli chat``: ask a Voxtral chat model a question about one or more audio clips."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from voxcli.api import ChatParams
from voxcli.commands import common
from voxcli.commands.chat.messages import (
    DEFAULT_UPLOAD_THRESHOLD,
    answer_json,
    audio_refs,
    build_messages,
    parse_clips,
    read_prompt,
    write_answer,
)
from voxcli.config import CHAT_MODEL_SETTING
from voxcli.env import Environment
from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    DebugOpt,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TemperatureOpt,
    TimeoutOpt,
    VerboseOpt,
)
from voxcli.output.sinks import write_stdout
from voxcli.sizes import parse_size


def _size(value: str | int) -> int:
    if isinstance(value, int):  # the default, passed through the parser too
        return value
    try:
        return parse_size(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def chat(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="AUDIO",
            help="Audio files, '-' for audio on stdin, or http(s):// URLs, sent in this order.",
            show_default=False,
        ),
    ],
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt",
            "-p",
            metavar="TEXT",
            help="The question. Without it, read from stdin when stdin is not a terminal "
            "and carries no audio.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(
            "--system",
            "-s",
            metavar="TEXT",
            help="A system message: how the model should answer.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    model: ModelOpt = None,
    temperature: TemperatureOpt = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            min=1,
            metavar="N",
            help="Stop the answer after N tokens.",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    upload_threshold: Annotated[
        int,
        typer.Option(
            "--upload-threshold",
            metavar="SIZE",
            parser=_size,
            help="Local audio bigger than SIZE (after re-encoding) is uploaded through the "
            "Files API and deleted afterwards instead of sent inline (e.g. 10MB, 512KB, "
            "2MiB, or bytes; default 10MB).",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = DEFAULT_UPLOAD_THRESHOLD,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream/--no-stream",
            help="Print the answer as it arrives, or wait for all of it.",
            rich_help_panel=OUTPUT,
        ),
    ] = True,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object: answer, model, usage, finish_reason.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Ask a question about audio files, stdin or URLs, and print the answer."""
    env: Environment = ctx.obj
    console = env.console
    parsed = parse_clips(sources)
    audio_on_stdin = common.check_stdin_sources(
        env, parsed, api_key_file, example="cat talk.mp3 | voxcli chat - -p 'Summarize'"
    )
    question = read_prompt(
        prompt,
        stdin=env.stdin,
        stdin_busy=audio_on_stdin or api_key_file == "-",
        stdin_isatty=env.stdin_isatty,
    )
    settings = common.connection_settings(
        env,
        api_key_file=api_key_file,
        server_url=server_url,
        timeout=timeout,
        retries=retries,
        model=model,
        model_setting=CHAT_MODEL_SETTING,
        quiet=quiet,
    )
    params = ChatParams(model=settings.model, temperature=temperature, max_tokens=max_tokens)
    report = console.info if verbose and not quiet else None

    with (
        common.open_api(settings, jobs=1) as api,
        audio_refs(
            api,
            parsed,
            stdin=env.stdin_bytes if audio_on_stdin else None,
            upload_threshold=upload_threshold,
            temp_dir=env.temp_dir,
            report=report,
            warn=console.warn,
        ) as refs,
    ):
        messages = build_messages(question, refs, system)
        if as_json:
            result = api.chat(params, messages)
            write_stdout(json.dumps(answer_json(result), ensure_ascii=False) + "\n", env.stdout)
            return
        if stream:
            with api.chat_stream(params, messages) as answer:
                write_answer(answer, env.stdout)
            result = answer.result
        else:
            result = api.chat(params, messages)
            write_answer([result.text], env.stdout)
    if not quiet and (warning := _CUT_OFF.get(result.finish_reason or "")):
        console.warn(warning)


_CUT_OFF = {
    "length": "the answer was cut off at the token limit (finish reason: length); "
    "raise --max-tokens",
    "model_length": "the answer was cut off: the model's context is full "
    "(finish reason: model_length)",
}
