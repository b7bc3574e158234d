"""Messages for people, on stderr: errors, warnings, hints and progress.

Colour only when stderr is a terminal and ``NO_COLOR`` is unset; Rich checks
both. Data never goes through here: it goes to stdout via :mod:`voxcli.output`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from voxcli.redact import redact

if TYPE_CHECKING:
    from rich.console import Console


Say = Callable[[str], None]
"""Where a piece of library code sends a line meant for the user (a warning, a --verbose note)."""

_debug = {"enabled": False}


def set_debug(enabled: bool) -> None:
    """Turn on tracebacks for errors (``--debug`` or ``VOXCLI_DEBUG=1``)."""
    _debug["enabled"] = enabled


def debug_enabled() -> bool:
    return _debug["enabled"]


@lru_cache(maxsize=1)
def stderr_console() -> Console:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR")) or not sys.stderr.isatty()
    return Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)


def _say(prefix: str, style: str, message: str) -> None:
    from rich.text import Text

    line = Text(f"voxcli: {prefix}", style=style)
    line.append(redact(message))
    stderr_console().print(line)


def error(message: str, hint: str | None = None) -> None:
    _say("error: ", "bold red", message)
    if hint:
        _say("hint: ", "cyan", hint)


def input_error(source: object, message: str, hint: str | None = None) -> None:
    """One input's failure in a multi-input run, named once (most messages name it already)."""
    name = str(source)
    error(message if name in message else f"{name}: {message}", hint)


def warn(message: str) -> None:
    _say("warning: ", "yellow", message)


def info(message: str) -> None:
    _say("", "dim", message)
