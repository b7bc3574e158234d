"""A shell-neutral description of the command tree: what each word may complete to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from voxcli.catalog.kinds import Kind


class ValueKind(str, Enum):
    """What a value (of an option or argument) completes to."""

    NONE = "none"  # a flag: takes no value
    CHOICE = "choice"  # one of fixed words (``choices``)
    MODEL = "model"  # a model name: ``choices``, plus the cached names of ``model_kind``
    AUDIO = "audio"  # audio files, and directories to descend into
    DIR = "dir"  # directories only
    FILE = "file"  # any file
    TEXT = "text"  # free text: nothing to offer


@dataclass(frozen=True)
class OptionSpec:
    """One option: all its names (``--format``, ``-f``), and what its value completes to.

    A :attr:`ValueKind.MODEL` value completes to ``choices`` (the known models of
    ``model_kind``) and to the names the local models cache lists for ``model_kind``."""

    names: tuple[str, ...]
    kind: ValueKind
    choices: tuple[str, ...] = ()
    help: str = ""
    metavar: str = ""
    repeatable: bool = False
    model_kind: Kind | None = None

    @property
    def takes_value(self) -> bool:
        return self.kind is not ValueKind.NONE

    @property
    def long_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name.startswith("--"))

    @property
    def short_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if not name.startswith("--"))


@dataclass(frozen=True)
class ArgumentSpec:
    """One positional argument; ``variadic`` ones take every remaining word."""

    name: str
    kind: ValueKind
    choices: tuple[str, ...] = ()
    required: bool = True
    variadic: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """A command or a group of commands, with everything that may follow its name."""

    name: str
    path: tuple[str, ...]  # subcommand names from the root: () for voxcli itself
    help: str = ""
    options: tuple[OptionSpec, ...] = ()
    arguments: tuple[ArgumentSpec, ...] = ()
    subcommands: tuple[CommandSpec, ...] = ()

    @property
    def is_group(self) -> bool:
        return bool(self.subcommands)

    def walk(self) -> list[CommandSpec]:
        """This command and every command below it, parents first."""
        found = [self]
        for sub in self.subcommands:
            found.extend(sub.walk())
        return found

    def argument_at(self, index: int) -> ArgumentSpec | None:
        """The argument that the *index*-th positional word (from 0) fills, if any."""
        for position, argument in enumerate(self.arguments):
            if position == index or (argument.variadic and index >= position):
                return argument
        return None
