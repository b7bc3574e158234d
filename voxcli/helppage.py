"""Typer's group and command classes for voxcli, made cheap to start.

Three costs of ``--help`` and ``--version`` that buy nothing here:

* Every command's module imported, and its Click command built from its signature, on
  every run. :class:`Group` takes :class:`LazyCommand` entries, which import and build a
  command when it is looked up: ``voxcli --version`` builds none, ``voxcli transcribe
  --help`` one, ``voxcli --help`` (which lists them all) all of them.
* Typer renders help pages with ``typer.rich_utils``, which imports ``rich.markdown``
  (and with it ``markdown_it``, ~70 ms) and ``rich.traceback`` (``rich.syntax`` and
  Pygments) at module level. voxcli's help is in Rich markup mode, so neither is used:
  :func:`rich_utils` imports the module with both names standing in for the real
  classes, which are imported if ever called (Markdown mode, pretty tracebacks).
  The page itself is Typer's own, byte for byte.
* An eager ``--help`` flag without a default comes to Typer's parameter processing as
  ``None``, which Typer coerces through a pydantic ``TypeAdapter`` (pydantic costs
  ~65 ms to import). ``voxcli transcribe --help`` processes the root group's ``--help``
  that way. A ``False`` default is a bool, which Typer passes through untouched.
"""

import importlib
import sys
import types
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar

import typer.core
import typer.main
from typer import _click

from voxcli import startup


def _markdown(*args: Any, **kwargs: Any) -> Any:
    from rich.markdown import Markdown

    return Markdown(*args, **kwargs)


def _traceback_from_exception(*args: Any, **kwargs: Any) -> Any:
    from rich.traceback import Traceback

    return Traceback.from_exception(*args, **kwargs)


class _Markdown:
    """Stands in for ``rich.markdown.Markdown`` and builds the real one when called."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _markdown(*args, **kwargs)


class _Traceback:
    """Stands in for ``rich.traceback.Traceback``; ``from_exception`` builds the real one."""

    from_exception = staticmethod(_traceback_from_exception)


_STAND_INS: dict[str, tuple[str, type]] = {
    "rich.markdown": ("Markdown", _Markdown),
    "rich.traceback": ("Traceback", _Traceback),
}


def rich_utils() -> types.ModuleType:
    """``typer.rich_utils``, imported without ``rich.markdown`` and ``rich.traceback``."""
    module = sys.modules.get("typer.rich_utils")
    if module is not None:
        return module
    placed = []
    for name, (attribute, stand_in) in _STAND_INS.items():
        if name not in sys.modules:
            stub = types.ModuleType(name)
            setattr(stub, attribute, stand_in)
            sys.modules[name] = stub
            placed.append(name)
    try:
        with startup.loading():
            return importlib.import_module("typer.rich_utils")
    except ImportError:  # a Typer that takes more from them than the stand-ins offer
        pass
    finally:
        for name in placed:  # the real modules stay importable
            del sys.modules[name]
    return importlib.import_module("typer.rich_utils")


VALUE_ALIASES: Mapping[str, Mapping[str, str]] = {"--format": {"txt": "text"}}
"""Other spellings a single-value option accepts, by option: each is replaced by its real
name before Typer checks the value, so completion and help still offer the real names."""


LIST_OPTIONS: Mapping[str, frozenset[str]] = {"transcribe": frozenset({"--format"})}
"""Single-value options that also take a comma list, by command: ``-f srt,json``. Each
name is checked (and aliased) on its own; Typer sees the first, and the whole list is
left in ``ctx.meta[LIST_KEY.format(dest)]`` for the command to read."""
LIST_KEY = "voxcli.list.{}"


def listed_values(ctx: _click.Context, dest: str) -> tuple[str, ...] | None:
    """The names a comma list gave ``dest`` (see :data:`LIST_OPTIONS`), else None."""
    value = ctx.meta.get(LIST_KEY.format(dest))
    return tuple(value) if value is not None else None


class _Lean(_click.Command):
    def make_parser(self, ctx: _click.Context) -> Any:
        """Click's parser, with every single-value option guarded: given twice with
        different values it is a usage error (not a silent last-wins), and a value in
        :data:`VALUE_ALIASES` is replaced by the name it stands for."""
        parser = super().make_parser(ctx)
        options = {id(o): o for o in (*parser._long_opt.values(), *parser._short_opt.values())}
        for option in options.values():
            if option.action == "store" and not getattr(option.obj, "multiple", False):
                _guard(option, ctx)
        return parser

    def get_help_option(self, ctx: _click.Context) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        rich_utils()
        for param in self.get_params(ctx):
            _plain_metavar(param)
        super().format_help(ctx, formatter)


def _guard(option: Any, ctx: _click.Context) -> None:
    name = (option._long_opts or option._short_opts)[0]
    aliases = next((VALUE_ALIASES[o] for o in option._long_opts if o in VALUE_ALIASES), {})
    listed = set(option._long_opts) & LIST_OPTIONS.get(ctx.info_name or "", frozenset())
    process = option.process

    def guarded(value: Any, state: Any) -> None:
        if isinstance(value, str) and listed and "," in value:
            names = [aliases.get(part.strip(), part.strip()) for part in value.split(",")]
            for part in names:  # each one a valid choice: Click's own message if not
                option.obj.process_value(ctx, part)
            ctx.meta[LIST_KEY.format(option.dest)] = tuple(dict.fromkeys(names))
            value = names[0]
        elif isinstance(value, str):
            value = aliases.get(value, value)
        if option.dest in state.opts and state.opts[option.dest] != value:
            before = state.opts[option.dest]
            raise _click.exceptions.UsageError(
                f"{name} given twice ({before!r}, then {value!r}); give it once", ctx
            )
        process(value, state)

    option.process = guarded


def _plain_metavar(param: _click.Parameter) -> None:
    """Show what a user types, never a Python type: nothing after a flag (``<bool>`` made
    ``--diarize true`` look right), ``segment|word`` for a list of choices, the argument's
    name for an argument (``SOURCE``, not ``<str>``)."""
    if isinstance(param, typer.core.TyperArgument):  # its name says it: no type column
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    if param.metavar is not None:
        return
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""
        return
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if getattr(descriptor, "is_choice", 0) else None
    if choices and getattr(descriptor, "is_list", False):
        param.metavar = "|".join(str(getattr(choice, "value", choice)) for choice in choices)
    elif isinstance(param, typer.core.TyperArgument) and param.name:
        param.metavar = param.name.upper()


class LazyCommand:
    """A subcommand named by where its function lives; ``settings`` are ``app.command``'s."""

    def __init__(self, module: str, function: str, **settings: Any) -> None:
        self.module = module
        self.function = function
        self.settings = settings

    def load(self, name: str, group: typer.core.TyperGroup) -> _click.Command:
        """Import the function and build its command, as ``group``'s Typer app would have."""
        callback = getattr(importlib.import_module(self.module), self.function)
        app = typer.Typer(add_completion=False, rich_markup_mode=group.rich_markup_mode)
        app.command(name, cls=Command, **self.settings)(callback)
        return typer.main.get_command(app)


class _Commands(MutableMapping[str, _click.Command]):
    """A group's subcommands by name, in order; lazy ones are built on first access."""

    def __init__(self, group: typer.core.TyperGroup, entries: Mapping[str, Any]) -> None:
        self._group = group
        self._entries: dict[str, _click.Command | LazyCommand] = dict(entries)

    def __getitem__(self, name: str) -> _click.Command:
        entry = self._entries[name]
        if isinstance(entry, LazyCommand):
            entry = self._entries[name] = entry.load(name, self._group)
        return entry

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class Group(_Lean, typer.core.TyperGroup):
    """voxcli's Typer group: cheap ``--help``, and the subcommands in ``lazy_commands``
    (listed first, in their order) built only when looked up."""

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, *, commands: Mapping[str, _click.Command] | None = None, **attrs: Any):
        super().__init__(**attrs)
        self.commands = _Commands(self, {**self.lazy_commands, **(commands or {})})


class Command(_Lean, typer.core.TyperCommand):
    """voxcli's Typer command: :mod:`voxcli.helppage`'s cheap ``--help``."""


def exit_codes(
    failure: str,
    *,
    ok: str = "0 ok",
    interrupted: str = "130 interrupted (Ctrl-C), 143 terminated (SIGTERM)",
) -> str:
    """One command's epilog: the documented exit codes, in the same words everywhere."""
    return (
        f"Exit codes: {ok}, {failure}, 2 usage or input error, 3 authentication, "
        f"{interrupted}, 141 stdout closed early."
    )
