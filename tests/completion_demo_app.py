"""A Typer app with what other voxcli commands may bring, for the completion tests:
dashed names, nested groups, repeatable Enum options, a root option with a value,
Path and PATH-metavar options, hidden commands and options."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Literal

import typer


class Level(str, enum.Enum):
    low = "low"
    high = "high"


demo = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]})
nested = typer.Typer()


@demo.callback()
def root(config: Annotated[Path | None, typer.Option("--config", "-c")] = None) -> None:
    """Root."""


@demo.command("detect-lang")
def detect_lang(
    audio: Annotated[list[Path], typer.Argument(metavar="AUDIO")],
    level: Annotated[list[Level] | None, typer.Option("--level", "-L")] = None,
    report: Annotated[str | None, typer.Option("--report", metavar="PATH")] = None,
    secret: Annotated[str, typer.Option("--secret", hidden=True)] = "",
) -> None:
    """Detect: the language's name, in 'quotes' [and brackets] with $dollars."""


@nested.command("set")
def nested_set(
    key: Annotated[Literal["alpha", "beta"], typer.Argument()],
    value: Annotated[str, typer.Argument()],
) -> None:
    """Set a key."""


@demo.command("ghost", hidden=True)
def ghost() -> None:
    """Hidden."""


demo.add_typer(nested, name="conf", help="Configure things.")
