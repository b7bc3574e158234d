"""``voxcli batch``: transcription through Mistral's Batch API (submit now, collect later).

:class:`LazyGroup` lets the root group list ``batch`` without importing its module until
it is named (or listed by ``--help``), as :class:`~voxcli.helppage.LazyCommand` does for
single commands.
"""

import importlib

import typer.main
from typer import _click

from voxcli import helppage


class LazyGroup(helppage.LazyCommand):
    """A subcommand group named by where its Typer app lives (``module``, ``app``)."""

    def load(self, name: str, group: typer.core.TyperGroup) -> _click.Command:
        app = getattr(importlib.import_module(self.module), self.function)
        command = typer.main.get_command(app)
        command.name = name
        return command
