"""Walk the command tree Typer builds into a :class:`CommandSpec`.

Only duck typing on the command and parameter objects: Typer vendors Click privately,
and its parameter classes change between releases (0.29 describes types with a
``type_descriptor``; Click proper with ``param.type``). Both are read.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable
from typing import Any

from voxcli.catalog.kinds import COMMAND_KINDS, KINDS, KNOWN_MODELS, Kind
from voxcli.completion.spec import ArgumentSpec, CommandSpec, OptionSpec, ValueKind
from voxcli.completion.words import path_key

AUDIO_NAMES = frozenset({"SOURCE", "SOURCES", "AUDIO", "AUDIO_FILE", "FILE_OR_URL"})
"""Argument names/metavars that mean "an audio file" (completed by extension)."""
MODEL_OPTIONS = frozenset({"--model"})
"""Options whose value is a model name: completed from ``KNOWN_MODELS`` of the command's
kind (``COMMAND_KINDS`` in :mod:`voxcli.catalog.kinds`), and the local models cache."""
DIR_METAVARS = frozenset({"DIR", "DIRECTORY"})
FILE_METAVARS = frozenset({"PATH", "FILE", "FILENAME"})


def app_spec(command: Any) -> CommandSpec:
    """The spec of the whole voxcli app, from its root Click *command*."""
    return command_spec(command, "voxcli")


def command_spec(
    command: Any, name: str, path: tuple[str, ...] = (), parent_ctx: Any = None
) -> CommandSpec:
    """The spec of *command* (a Click-style command or group) and everything below it."""
    ctx = command.context_class(
        command, info_name=name, parent=parent_ctx, **(command.context_settings or {})
    )
    markup = getattr(command, "rich_markup_mode", None) == "rich"
    options: list[OptionSpec] = []
    arguments: list[ArgumentSpec] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if getattr(param, "param_type_name", "") == "argument":
            arguments.append(_argument_spec(param))
        else:
            options.extend(_option_specs(param, markup, path))
    subcommands = []
    for sub_name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            subcommands.append(command_spec(sub, sub_name, (*path, sub_name), ctx))
    return CommandSpec(
        name=name,
        path=path,
        help=_short_help(command, markup),
        options=tuple(options),
        arguments=tuple(arguments),
        subcommands=tuple(subcommands),
    )


def value_kind(param: Any, path: tuple[str, ...] = ()) -> tuple[ValueKind, tuple[str, ...]]:
    """What the value of *param* (of the command at *path*) completes to, and its fixed
    words if any.

    Precedence, first match wins:
    1. takes no value (a flag or a counter)                 -> NONE
    2. has fixed choices (Choice, Enum, Literal)            -> CHOICE with them
    3. is ``--model``                                       -> MODEL with the known models
       of the command's kind (:func:`model_kind`); of a command of no known kind, CHOICE
       with every known model
    4. is named or shown as SOURCE/AUDIO (``--audio`` too)  -> AUDIO
    5. a path that must be a directory, or metavar DIR      -> DIR
    6. any other path, or metavar PATH/FILE                 -> FILE
    7. anything else (numbers, codes, URLs, terms)          -> TEXT
    """
    if _is_flag(param):
        return ValueKind.NONE, ()
    choices = _choices(param)
    if choices:
        return ValueKind.CHOICE, choices
    if MODEL_OPTIONS.intersection(getattr(param, "opts", ())):
        kind = model_kind(path)
        if kind is None:
            every = (name for each in KINDS for name in KNOWN_MODELS[each])
            return ValueKind.CHOICE, tuple(dict.fromkeys(every))
        return ValueKind.MODEL, KNOWN_MODELS[kind]
    metavar = (getattr(param, "metavar", None) or "").upper()
    name = (getattr(param, "name", None) or "").upper()
    if metavar in AUDIO_NAMES or name in AUDIO_NAMES:
        return ValueKind.AUDIO, ()
    path_kind = _path_kind(param)
    if path_kind == "dir" or (path_kind is None and metavar in DIR_METAVARS):
        return ValueKind.DIR, ()
    if path_kind is not None or metavar in FILE_METAVARS:
        return ValueKind.FILE, ()
    return ValueKind.TEXT, ()


def model_kind(path: tuple[str, ...]) -> Kind | None:
    """The kind of model the ``--model`` of the command at *path* names, if known."""
    return COMMAND_KINDS.get(path_key(path))


def _option_specs(param: Any, markup: bool, path: tuple[str, ...]) -> Iterable[OptionSpec]:
    kind, choices = value_kind(param, path)
    help_text = _first_sentence(getattr(param, "help", None) or "", markup)
    metavar = str(getattr(param, "metavar", None) or (param.name or "value")).upper()
    repeatable = bool(getattr(param, "multiple", False) or getattr(param, "count", False))
    yield OptionSpec(
        names=_ordered(param.opts),
        kind=kind,
        choices=choices,
        help=help_text,
        metavar=metavar,
        repeatable=repeatable,
        model_kind=model_kind(path) if kind is ValueKind.MODEL else None,
    )
    # The "off" side of a --flag/--no-flag pair.
    if getattr(param, "secondary_opts", None):
        yield OptionSpec(
            names=_ordered(param.secondary_opts),
            kind=ValueKind.NONE,
            help=help_text,
            metavar=metavar,
            repeatable=repeatable,
        )


def _ordered(names: Iterable[str]) -> tuple[str, ...]:
    """Long names first, each group sorted: stable output (Click builds --help's from a set)."""
    return tuple(sorted(names, key=lambda name: (not name.startswith("--"), name)))


def _argument_spec(param: Any) -> ArgumentSpec:
    kind, choices = value_kind(param)
    shown = getattr(param, "metavar", None) or param.name or "arg"
    return ArgumentSpec(
        name=shown.strip("[]").removesuffix("...").upper(),
        kind=kind,
        choices=choices,
        required=bool(getattr(param, "required", False)),
        variadic=getattr(param, "nargs", 1) == -1,
    )


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _is_flag(param: Any) -> bool:
    if _is_argument(param):
        return False
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _choices(param: Any) -> tuple[str, ...]:
    raw = getattr(getattr(param, "type", None), "choices", None)
    if raw is None:
        raw = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if not raw:
        return ()
    words = tuple(str(c.value if isinstance(c, enum.Enum) else c) for c in raw)
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"cannot complete choice {word!r} of {param.name}")
    return words


def _path_kind(param: Any) -> str | None:
    """'dir' for a directory-only path, 'file' for other paths, None when not a path."""
    click_type = getattr(param, "type", None)
    if click_type is not None and hasattr(click_type, "dir_okay"):
        return _okay_kind(click_type.file_okay, click_type.dir_okay)
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and (descriptor.is_path or descriptor.is_file):
        info = descriptor.parameter_info
        return _okay_kind(info.file_okay, info.dir_okay)
    return None


def _okay_kind(file_okay: bool, dir_okay: bool) -> str:
    return "dir" if dir_okay and not file_okay else "file"


def _short_help(command: Any, markup: bool) -> str:
    text = getattr(command, "short_help", None) or getattr(command, "help", None) or ""
    return _first_sentence(text, markup)


def _first_sentence(text: str, markup: bool = False) -> str:
    """The first paragraph up to its first full stop, on one line, as ``--help`` shows it
    (Rich markup such as ``[bold]`` removed when the command uses it)."""
    if markup and "[" in text:
        from rich.errors import MarkupError
        from rich.markup import render

        with contextlib.suppress(MarkupError):
            text = render(text).plain
    line = " ".join(text.strip().split("\n\n")[0].split())
    return line.split(". ", 1)[0].rstrip(".")
