"""Messages for people, on stderr: errors, warnings, hints and notes.

One :class:`Console` per run, made by the :class:`~voxcli.env.Environment` from its
stderr and whether that is a terminal (colour only then, and never with ``NO_COLOR``).
Every message is masked (:func:`voxcli.redact.redact`) and stripped of control
characters, since file names and server text end up in them. Data never goes through
here: it goes to stdout via :mod:`voxcli.output.sinks`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from voxcli.redact import redact

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

Say = Callable[[str], None]
"""Where a piece of library code sends a line meant for the user (a warning, a --verbose note)."""


def silent(message: str) -> None:
    """A :data:`Say` that says nothing (``--verbose`` off)."""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every C0/C1 control but newline and tab, and lone surrogates (not writable as UTF-8).
_DATA_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with control characters (escape sequences, bells, carriage returns) shown
    as ``\\xNN`` and newlines as spaces, so nothing from outside can steer a terminal."""
    text = text.replace("\n", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def server_text(text: str) -> str:
    """Text from the server that is printed as data (a chat answer, ``--stream`` text):
    lines and tabs kept (``\\r\\n`` becomes ``\\n``), every other control character
    (ESC, BEL, CR, C1 controls such as CSI) dropped, lone surrogates replaced, so it
    cannot steer a terminal; the transcript formats are cleaned the same way."""
    text = text.replace("\r\n", "\n")
    return _DATA_CONTROL.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", text)


class Console:
    """Writes voxcli's own lines to one stream (stderr)."""

    def __init__(self, stream: TextIO, *, color: bool, debug: bool = False) -> None:
        self.stream = stream
        self.color = color
        self.debug = debug
        self._rich: RichConsole | None = None

    def rich(self) -> RichConsole:
        """The Rich console on this stream (progress displays share it)."""
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(
                file=self.stream,
                no_color=not self.color,
                force_terminal=self.color or None,
                highlight=False,
                soft_wrap=True,
            )
        return self._rich

    def _say(self, prefix: str, style: str, message: str) -> None:
        line = f"voxcli: {prefix}{printable(redact(message))}"
        if not self.color:
            self.stream.write(line + "\n")
            self.stream.flush()
            return
        from rich.text import Text

        text = Text(f"voxcli: {prefix}", style=style)
        text.append(line[len(f"voxcli: {prefix}") :])
        self.rich().print(text)

    def error(self, message: str, hint: str | None = None) -> None:
        self._say("error: ", "bold red", message)
        if hint:
            self._say("hint: ", "cyan", hint)

    def input_error(self, source: object, message: str, hint: str | None = None) -> None:
        """One input's failure in a multi-input run, named once (most messages name it)."""
        name = str(source)
        self.error(message if name in message else f"{name}: {message}", hint)

    def warn(self, message: str) -> None:
        self._say("warning: ", "yellow", message)

    def info(self, message: str) -> None:
        self._say("", "dim", message)
