"""Static shell completion scripts, generated from the Typer command tree.

:mod:`.generate` walks the tree into a neutral :class:`.spec.CommandSpec`; one renderer
per shell (:mod:`.bash`, :mod:`.zsh`, :mod:`.fish`) turns that into a script that runs
without starting Python. ``python -m voxcli.completion generate`` writes them to
``completions/``; ``voxcli completion show|install`` serves them to users.
"""

from __future__ import annotations

from typing import Any

SHELLS = ("bash", "zsh", "fish")

SCRIPT_NAMES = {"bash": "voxcli.bash", "zsh": "_voxcli", "fish": "voxcli.fish"}
"""File name of each shell's script in ``completions/``."""


def render(shell: str, command: Any) -> str:
    """The completion script for *shell*, generated from the root Click *command*."""
    import importlib

    from voxcli.completion.generate import app_spec

    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}")
    renderer = importlib.import_module(f"voxcli.completion.{shell}")
    return str(renderer.render(app_spec(command)))
