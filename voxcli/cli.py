"""The Typer app: composes the commands, the global options and the error handler.

This is the one place that turns errors into a message and an exit code, and the one
place that builds the run's :class:`~voxcli.env.Environment`.

Start-up is kept near ``python -c "import typer"``: a command is listed in
:attr:`Root.lazy_commands` and its module imported only when it is named (or listed by
``--help``), the help renders without Rich's Markdown stack (:mod:`voxcli.helppage`), and the
collector stays off while the modules load (:mod:`voxcli.startup`). ``tests/test_startup.py``
holds the line on what ``--help`` and ``--version`` import.
"""

from voxcli import startup  # isort: split

import contextlib
import os
import sys
import traceback
from typing import Annotated, ClassVar

import typer

from voxcli import __version__, helppage, signals
from voxcli.commands import completion as completion_command
from voxcli.commands.batch import LazyGroup
from voxcli.env import Environment
from voxcli.errors import ExitCode, VoxcliError
from voxcli.options import DebugOpt
from voxcli.output.sinks import StdoutClosed
from voxcli.redact import redact


class Root(helppage.Group):
    """The ``voxcli`` group. Its commands are imported when named (or listed, by ``--help``):
    ``voxcli --version`` imports none of them."""

    lazy_commands: ClassVar[dict[str, helppage.LazyCommand]] = {
        "transcribe": helppage.LazyCommand(
            "voxcli.commands.transcribe.command",
            "transcribe",
            no_args_is_help=True,
            epilog=helppage.exit_codes("1 API/network failure or some inputs failed"),
        ),
        "chat": helppage.LazyCommand(
            "voxcli.commands.chat.command",
            "chat",
            no_args_is_help=True,
            epilog=helppage.exit_codes("1 API/network failure"),
        ),
        "detect-lang": helppage.LazyCommand(
            "voxcli.commands.detect_lang.command",
            "detect_lang",
            no_args_is_help=True,
            epilog=helppage.exit_codes(
                "1 API/network failure, a language not detected or some inputs failed"
            ),
        ),
        "live": helppage.LazyCommand(
            "voxcli.commands.live.command",
            "live",
            epilog=helppage.exit_codes(
                "1 API/network failure after retries",
                ok="0 ok (also after Ctrl-C or SIGTERM: the outputs are written)",
                interrupted="130/143 a second Ctrl-C/SIGTERM",
            ),
        ),
        "models": helppage.LazyCommand(
            "voxcli.commands.models.command",
            "models",
            epilog=helppage.exit_codes("1 API/network failure (or no models endpoint)"),
        ),
        "batch": LazyGroup("voxcli.commands.batch.command", "app"),
    }


app = typer.Typer(
    name="voxcli",
    help="Speech to text from the command line with Mistral's Voxtral models.",
    no_args_is_help=True,
    cls=Root,
    add_completion=False,
    # Rich tracebacks show local variables, the API key among them: never.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(completion_command.app, name="completion")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voxcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Speech to text from the command line with Mistral's Voxtral models."""


def _print_traceback(env: Environment, exc: BaseException) -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    env.stderr.write(redact(text))


def run(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Run the app and return the exit code; every error is handled here."""
    env = Environment.from_process() if env is None else env
    console = env.console
    try:
        with signals.terminate_raises():
            result = app(args=argv, prog_name="voxcli", standalone_mode=False, obj=env)
    except signals.Terminated:
        console.error("terminated")
        return ExitCode.TERMINATED
    except typer.Exit as exc:
        if exc.exit_code == ExitCode.INTERRUPTED:
            console.error("interrupted")
        return exc.exit_code
    except typer.TyperException as exc:  # Click's usage errors (Typer vendors Click)
        if console.debug:
            _print_traceback(env, exc)
        if not exc.format_message():  # no_args_is_help: the help is already printed
            return exc.exit_code
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "voxcli"
        message = _bad_value_message(exc) or exc.format_message()
        console.error(message, hint=f"see '{command} --help'")
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        console.error("interrupted")
        return ExitCode.INTERRUPTED
    except StdoutClosed as exc:
        _silence_stdout(env)
        return exc.exit_code
    except VoxcliError as exc:
        if console.debug:
            _print_traceback(env, exc)
        console.error(exc.message, exc.hint)
        return exc.exit_code
    except Exception as exc:
        if console.debug:
            _print_traceback(env, exc)
        console.error(
            f"unexpected error: {type(exc).__name__}: {exc}",
            hint="run again with --debug for details, and report it if it persists",
        )
        return ExitCode.FAILURE
    if result == ExitCode.INTERRUPTED:  # Typer turns KeyboardInterrupt into a return of 130
        console.error("interrupted")
    return int(result) if isinstance(result, int) else ExitCode.OK


_RANGES = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_KINDS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
}


def _bad_value_message(exc: BaseException) -> str | None:
    """voxcli's one-line wording for a value Typer's validation refused (Typer words it
    as the validator does: "Value error, 'txt' is not one of…", "Input should be…");
    None for every other usage error, whose Click wording is kept."""
    cause = exc.__cause__
    param = getattr(exc, "param", None)
    errors = getattr(cause, "errors", None)
    if param is None or not callable(errors):
        return None
    try:
        first = errors()[0]
    except (IndexError, TypeError, ValueError):
        return None
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
    name = opts[0] if opts else str(getattr(param, "name", "") or "value").upper()
    value = first.get("input")
    shown = repr(value) if isinstance(value, str) else repr(str(value))
    kind, ctx = first.get("type"), first.get("ctx") or {}
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None)
    if choices and kind == "value_error":
        names = ", ".join(str(getattr(choice, "value", choice)) for choice in choices)
        return f"{name} must be one of {names}, not {shown}"
    if kind in _RANGES:
        key, words = _RANGES[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        plain = value if isinstance(value, str) and value.isprintable() else shown
        return f"{name} must be {words} {bound}, not {plain}"
    if kind in _KINDS:
        return f"{name} must be {_KINDS[kind]}, not {shown}"
    return f"{name} cannot be {shown}"


def _silence_stdout(env: Environment) -> None:
    """stdout's reader is gone: point the descriptor at /dev/null, so the interpreter's
    final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, env.stdout.fileno())
    except (OSError, ValueError):
        pass


def main() -> None:
    """Console-script entry point."""
    code = run()
    # Requests abandoned after a signal or an authentication error live on in daemon
    # threads, which do not hold up the exit.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    sys.exit(code)


startup.loaded()
