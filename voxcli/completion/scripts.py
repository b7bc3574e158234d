"""The committed scripts in ``completions/``: write them, or check they are up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxcli.completion import SCRIPT_NAMES, SHELLS, render

REGENERATE = "python -m voxcli.completion generate"


def live_command() -> Any:
    """The root Click command of the installed voxcli app."""
    import typer.main

    from voxcli.cli import app

    return typer.main.get_command(app)


def default_directory() -> Path:
    """``completions/`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "completions"


def stale(directory: Path) -> list[Path]:
    """The scripts in *directory* that are missing or differ from what the app generates."""
    found = []
    command = live_command()
    for shell in SHELLS:
        path = directory / SCRIPT_NAMES[shell]
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != render(shell, command).encode("utf-8"):
            found.append(path)
    return found


def write(directory: Path) -> list[Path]:
    """Regenerate every script in *directory*; returns those that changed."""
    from voxcli.output.sinks import write_atomic

    changed = stale(directory)
    by_name = {name: shell for shell, name in SCRIPT_NAMES.items()}
    for path in changed:
        write_atomic(path, render(by_name[path.name], live_command()))
    return changed
