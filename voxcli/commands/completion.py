"""``voxcli completion show|install``: static completion scripts for bash, zsh and fish."""

from typing import Annotated, Literal

import typer

from voxcli import helppage
from voxcli.env import Environment
from voxcli.output.sinks import write_stdout

ShellName = Literal["bash", "zsh", "fish"]

app = typer.Typer(
    help="Shell completion for bash, zsh and fish: print or install the script.",
    no_args_is_help=True,
    cls=helppage.Group,
)


@app.command("show", cls=helppage.Command)
def show(
    ctx: typer.Context,
    shell: Annotated[
        ShellName,
        typer.Argument(metavar="SHELL", help="bash, zsh or fish.", show_default=False),
    ],
) -> None:
    """Print the completion script for SHELL on stdout."""
    from voxcli.completion import render

    write_stdout(render(shell, ctx.find_root().command), ctx.find_root().obj.stdout)


@app.command("install", cls=helppage.Command)
def install(
    ctx: typer.Context,
    shell: Annotated[
        ShellName | None,
        typer.Argument(
            metavar="SHELL",
            help="bash, zsh or fish (default: the shell in $SHELL).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Install the completion script where SHELL looks for your own completions."""
    from voxcli.completion import install as installer
    from voxcli.completion import render

    env: Environment = ctx.find_root().obj
    console = env.console
    name = shell or installer.detect_shell(env.environ)
    done = installer.install(name, render(name, ctx.find_root().command), env.environ)
    if done.changed:
        console.info(f"installed {name} completion: {done.path}")
    else:
        console.info(f"{name} completion already up to date: {done.path}")
    for hint in done.hints:
        console.info(hint)
