"""``voxcli models``: the models the server offers and what each can do."""

from typing import Annotated, Literal

import typer

from voxcli.commands import common
from voxcli.env import Environment
from voxcli.options import (
    OUTPUT,
    ApiKeyFileOpt,
    DebugOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    TimeoutOpt,
)


def models(
    ctx: typer.Context,
    fmt: Annotated[
        Literal["text", "json"],
        typer.Option(
            "--format",
            "-f",
            help="text: an aligned table, one model a line; json: a list of objects.",
            rich_help_panel=OUTPUT,
        ),
    ] = "text",
    include_all: Annotated[
        bool,
        typer.Option(
            "--all", "-a", help="Include models that take no audio.", rich_help_panel=OUTPUT
        ),
    ] = False,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the audio models the server offers: uses, timestamps, diarization, bias,
    languages, the longest audio one request holds, deprecation."""
    env: Environment = ctx.obj
    settings = common.connection_settings(env, common.ConnectionFlags.of(ctx.params))
    from voxcli.commands.models.run import list_models

    list_models(env, settings, fmt=fmt, include_all=include_all)
