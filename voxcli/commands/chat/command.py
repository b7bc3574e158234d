"""``voxcli chat``: ask a Voxtral chat model a question about one or more audio clips."""

from typing import Annotated

import typer

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
from voxcli.sizes import parse_size


def _size(value: str) -> int:
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
        int | None,
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
    ] = None,  # the request's default: its module imports the API layer, not needed for --help
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
    from voxcli.commands import common
    from voxcli.commands.chat.request import (
        DEFAULT_UPLOAD_THRESHOLD,
        ChatFlags,
        build_chat_request,
    )
    from voxcli.config import CHAT_MODEL_SETTING

    env: Environment = ctx.obj
    flags = ChatFlags(
        sources=tuple(sources),
        prompt=prompt,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        upload_threshold=DEFAULT_UPLOAD_THRESHOLD if upload_threshold is None else upload_threshold,
        stream=stream,
        as_json=as_json,
        api_key_file=api_key_file,
        verbose=verbose,
        quiet=quiet,
        stdin_isatty=env.stdin_isatty,
    )
    settings = common.connection_settings(
        env, common.ConnectionFlags.of(ctx.params), model_setting=CHAT_MODEL_SETTING
    )
    request = build_chat_request(flags, settings)
    from voxcli.commands.chat.run import ask

    ask(env, request, settings)
