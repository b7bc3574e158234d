"""--help, --version and completion stay instant: no SDK, numpy, soundfile, pydantic or
Markdown stack imported, and no command module that is not asked for; the help pages keep
everything they show (panels, epilogs, metavars, colours)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Top-level packages: the SDK and the audio stack, pydantic (Typer coerces through it),
# markdown_it and Pygments (what rich.markdown and rich.traceback pull in).
HEAVY = (
    "mistralai",
    "numpy",
    "soundfile",
    "soxr",
    "httpx2",
    "pydantic",
    "pydantic_core",
    "markdown_it",
    "pygments",
)
# Single modules: Rich's Markdown and traceback renderers, and voxcli's own machinery.
HEAVY_MODULES = (
    "rich.markdown",
    "rich.traceback",
    "rich.syntax",
    "voxcli.api",
    "voxcli.audio",
    "voxcli.engine",
)
COMMAND_MODULES = {
    "transcribe": "voxcli.commands.transcribe.command",
    "chat": "voxcli.commands.chat.command",
    "detect-lang": "voxcli.commands.detect_lang.command",
}

PROBE = """
import sys
from voxcli.cli import run
code = run({argv!r})
heavy = sorted(
    m for m in sys.modules
    if m.split('.')[0] in {heavy!r} or m in {modules!r} or m.startswith({prefixes!r})
)
sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')
loaded = sorted(name for name, module in {commands!r}.items() if module in sys.modules)
sys.stderr.write('COMMANDS=' + ','.join(loaded) + '\\n')
sys.exit(code)
"""


def _probe(argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = PROBE.format(
        argv=argv,
        heavy=HEAVY,
        modules=HEAVY_MODULES,
        prefixes=tuple(f"{name}." for name in HEAVY_MODULES),
        commands=COMMAND_MODULES,
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("argv", "commands"),
    [
        (["--help"], "chat,detect-lang,transcribe"),
        (["--version"], ""),
        (["transcribe", "--help"], "transcribe"),
        ([], "chat,detect-lang,transcribe"),
        (["chat", "--help"], "chat"),
        (["detect-lang", "--help"], "detect-lang"),
        (["completion", "--help"], ""),
        (["completion", "show", "--help"], ""),
        (["batch", "--help"], ""),
        (["batch", "submit", "--help"], ""),
    ],
    ids=[
        "help",
        "version",
        "transcribe-help",
        "no-args",
        "chat-help",
        "detect-lang-help",
        "completion-help",
        "completion-show-help",
        "batch-help",
        "batch-submit-help",
    ],
)
def test_help_and_version_do_not_import_heavy_modules(argv, commands):
    result = _probe(argv)
    assert result.returncode in (0, 2), result.stderr
    assert "HEAVY=\n" in result.stderr, result.stderr
    # Only the commands the page lists (all, for the root's help) or is about are loaded.
    assert f"COMMANDS={commands}\n" in result.stderr, result.stderr
    assert "voxcli" in result.stdout or "Usage" in result.stdout


def _help(*argv: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(COLUMNS="100", TERM="xterm-256color", **env)
    result = subprocess.run(
        [sys.executable, "-m", "voxcli", *argv, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_root_help_shows_its_panels_and_every_command():
    out = _help()
    assert "Usage: voxcli [OPTIONS] COMMAND [ARGS]..." in out
    for panel in ("─ Options ─", "─ Output ─", "─ Commands ─"):
        assert panel in out, out
    assert "--version  -V" in out and "Show the version and exit." in out
    listed = [
        line.split()[1] for line in out.splitlines() if line.startswith("│ ") and "  " in line
    ]
    commands = [name for name in listed if name in {*COMMAND_MODULES, "completion"}]
    assert commands == ["transcribe", "chat", "detect-lang", "completion"], out
    assert "Transcribe audio files, stdin or URLs" in out


def test_transcribe_help_shows_its_option_groups_metavars_and_epilog():
    out = _help("transcribe")
    for panel in (
        "─ Arguments ─",
        "─ Options ─",
        "─ Request ─",
        "─ Output ─",
        "─ Subtitles and text layout ─",
        "─ Connection ─",
        "─ Many files ─",
    ):
        assert panel in out, out
    assert "Usage: voxcli transcribe [OPTIONS] [SOURCE]..." in out
    assert "--model" in out and "NAME" in out and "[default: auto]" in out
    assert "Exit codes: 0 ok, 1 API/network failure or some inputs failed" in out


@pytest.mark.parametrize("command", ["chat", "detect-lang"])
def test_other_command_helps_keep_their_epilog(command):
    out = _help(command)
    assert "─ Request ─" in out and "─ Connection ─" in out
    assert "Exit codes: 0 ok" in out


def test_help_is_coloured_on_a_terminal():
    # Typer's help console treats FORCE_COLOR as a terminal, as it does a real one.
    out = _help("transcribe", FORCE_COLOR="1")
    assert "\x1b[" in out
    assert "Request" in out
    assert "\x1b[" not in _help("transcribe")  # piped


RENDER = """
import sys
{prelude}
from voxcli.cli import run
sys.exit(run({argv!r}))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["transcribe", "--help"], ["chat", "--help"], ["completion", "--help"]],
    ids=["help", "transcribe-help", "chat-help", "completion-help"],
)
def test_help_is_the_same_as_with_the_markdown_stack_loaded(argv):
    """The stand-ins for rich.markdown and rich.traceback change nothing on the page."""

    def render(prelude: str) -> str:
        environ = dict(os.environ, COLUMNS="100", TERM="xterm-256color", FORCE_COLOR="1")
        result = subprocess.run(
            [sys.executable, "-c", RENDER.format(prelude=prelude, argv=argv)],
            capture_output=True,
            text=True,
            timeout=60,
            env=environ,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert render("") == render("import rich.markdown, rich.traceback")


def test_stand_ins_build_the_real_markdown_and_traceback():
    from rich.markdown import Markdown
    from rich.traceback import Traceback

    from voxcli import helppage

    rich_utils = helppage.rich_utils()
    assert isinstance(rich_utils.Markdown("*hi*"), Markdown)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        config = type("Config", (), {"pretty_exceptions_show_locals": False})()
        assert isinstance(rich_utils.get_traceback(exc, config, []), Traceback)


FALLBACK = """
import sys
from voxcli import helppage
helppage._STAND_INS = {"rich.markdown": ("SomethingElse", helppage._Markdown)}
import rich.markdown
del sys.modules["rich.markdown"]  # as if never imported: the stand-in lacks 'Markdown'
rich_utils = helppage.rich_utils()
assert rich_utils.Markdown.__module__ == "rich.markdown", rich_utils.Markdown
print("ok")
"""


def test_a_typer_wanting_more_than_the_stand_ins_gets_the_real_modules():
    result = subprocess.run(
        [sys.executable, "-c", FALLBACK], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "ok\n", result.stderr


def test_every_command_is_in_the_click_tree():
    """The lazy commands are there for whoever walks the tree (the completion generator)."""
    import typer.main

    from voxcli.cli import app

    group = typer.main.get_command(app)
    known = ["transcribe", "chat", "detect-lang", "completion"]
    assert [name for name in group.commands if name in known] == known
    assert all(command.name == name for name, command in group.commands.items())
    assert "--upload-threshold" in {
        opt for param in group.commands["chat"].params for opt in param.opts
    }


def test_console_script_and_module_entry_points():
    result = subprocess.run(
        [sys.executable, "-m", "voxcli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("voxcli ")
