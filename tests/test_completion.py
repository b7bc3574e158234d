"""Completion: the spec walk, the value-kind rules, the committed scripts, show and install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal

import pytest
import typer
import typer.main

from tests.cli_runner import run_cli
from voxcli.audio.formats import AUDIO_EXTENSIONS
from voxcli.catalog.kinds import COMMAND_KINDS, DEFAULT_MODELS, KINDS, KNOWN_MODELS
from voxcli.completion import SCRIPT_NAMES, SHELLS, render, scripts
from voxcli.completion.generate import app_spec, command_spec, value_kind
from voxcli.completion.install import script_path
from voxcli.completion.scripts import live_command
from voxcli.completion.spec import ValueKind
from voxcli.completion.words import safe_word

COMPLETIONS = Path(__file__).resolve().parents[1] / "completions"


# -- value_kind: one rule per parameter, first match wins ------------------------------------


def param(**fields):
    defaults = {
        "param_type_name": "option",
        "opts": ["--thing"],
        "name": "thing",
        "metavar": None,
        "is_flag": False,
        "count": False,
        "type": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def path_type(file_okay=True, dir_okay=True):
    return SimpleNamespace(file_okay=file_okay, dir_okay=dir_okay)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"is_flag": True}, ValueKind.NONE),
        ({"count": True}, ValueKind.NONE),
        # a flag wins over anything else it might look like
        ({"is_flag": True, "metavar": "PATH"}, ValueKind.NONE),
        ({"type": SimpleNamespace(choices=["a", "b"])}, ValueKind.CHOICE),
        # choices win over the name --model and over a path-like metavar
        ({"opts": ["--model"], "type": SimpleNamespace(choices=["x"])}, ValueKind.CHOICE),
        ({"metavar": "PATH", "type": SimpleNamespace(choices=["x"])}, ValueKind.CHOICE),
        ({"opts": ["--model", "-m"], "metavar": "NAME"}, ValueKind.CHOICE),
        ({"param_type_name": "argument", "name": "source", "opts": ["source"]}, ValueKind.AUDIO),
        ({"param_type_name": "argument", "metavar": "AUDIO", "opts": ["x"]}, ValueKind.AUDIO),
        # audio wins over a plain path type
        ({"metavar": "SOURCE", "type": path_type()}, ValueKind.AUDIO),
        ({"opts": ["--audio"], "name": "audio", "metavar": "PATH"}, ValueKind.AUDIO),
        ({"type": path_type(file_okay=False)}, ValueKind.DIR),
        ({"metavar": "DIR"}, ValueKind.DIR),
        # a path type decides before the metavar does
        ({"metavar": "DIR", "type": path_type(dir_okay=False)}, ValueKind.FILE),
        ({"type": path_type()}, ValueKind.FILE),
        ({"type": path_type(dir_okay=False)}, ValueKind.FILE),
        ({"metavar": "PATH"}, ValueKind.FILE),
        ({"metavar": "FILE"}, ValueKind.FILE),
        ({"metavar": "URL"}, ValueKind.TEXT),
        ({"metavar": "N"}, ValueKind.TEXT),
        ({}, ValueKind.TEXT),
    ],
)
def test_value_kind_precedence(fields, expected):
    assert value_kind(param(**fields))[0] is expected


def test_value_kind_returns_choices_and_the_models_of_the_commands_kind():
    assert value_kind(param(type=SimpleNamespace(choices=["srt", "vtt"]))) == (
        ValueKind.CHOICE,
        ("srt", "vtt"),
    )
    model = param(opts=["--model", "-m"])
    assert value_kind(model, ("transcribe",)) == (ValueKind.MODEL, KNOWN_MODELS["offline"])
    assert value_kind(model, ("detect-lang",)) == (ValueKind.MODEL, KNOWN_MODELS["offline"])
    assert value_kind(model, ("batch", "submit")) == (ValueKind.MODEL, KNOWN_MODELS["offline"])
    assert value_kind(model, ("chat",)) == (ValueKind.MODEL, KNOWN_MODELS["chat"])
    assert value_kind(model, ("live",)) == (ValueKind.MODEL, KNOWN_MODELS["realtime"])
    # A command of no known kind: every known model, once each.
    kind, every = value_kind(model, ("something-new",))
    assert kind is ValueKind.CHOICE
    assert sorted(every) == sorted({name for names in KNOWN_MODELS.values() for name in names})


def test_known_models_are_todays_per_kind_with_the_default_first():
    for kind in KINDS:
        names = KNOWN_MODELS[kind]
        assert names[0] == DEFAULT_MODELS[kind]
        assert len(set(names)) == len(names)
        for name in names:
            safe_word(name)  # fit for a script unquoted
    assert "voxtral-mini-transcribe-latest" in KNOWN_MODELS["offline"]
    assert "voxtral-small-latest" not in KNOWN_MODELS["offline"]
    assert KNOWN_MODELS["chat"] == ("voxtral-small-latest", "voxtral-small-2507")
    assert "voxtral-mini-transcribe-realtime-latest" in KNOWN_MODELS["realtime"]
    assert set(COMMAND_KINDS.values()) <= set(KINDS)


def test_every_model_option_of_the_app_has_a_kind():
    """A new command with --model must say (COMMAND_KINDS) which models it takes."""
    found = {}
    for command in app_spec(live_command()).walk():
        for option in command.options:
            if "--model" in option.names:
                assert option.kind is ValueKind.MODEL, command.path
                assert option.model_kind == COMMAND_KINDS[" ".join(command.path)]
                assert option.choices == KNOWN_MODELS[option.model_kind]
                found[" ".join(command.path)] = option.model_kind
    assert found["transcribe"] == "offline"
    assert found["detect-lang"] == "offline"
    assert found["chat"] == "chat"
    assert "models" not in found


def test_scripts_look_for_the_name_lists_where_the_cache_writes_them():
    from voxcli import paths
    from voxcli.catalog.cache import names_path
    from voxcli.completion.words import NAMES_FILE

    env = {"XDG_CACHE_HOME": "/c", "HOME": "/h"}
    for kind in KINDS:
        expected = Path("/c") / NAMES_FILE.format(kind=kind)
        assert names_path(paths.cache_dir(env), kind) == expected
    home_only = {"HOME": "/h"}
    assert names_path(paths.cache_dir(home_only), "chat") == Path("/h/.cache") / (
        NAMES_FILE.format(kind="chat")
    )
    for shell in SHELLS:
        script = render(shell, live_command())
        assert "XDG_CACHE_HOME" in script and "names-" in script, shell
        assert "python" not in script.lower().replace("python -m voxcli.completion", ""), shell


def test_value_kind_reads_typers_own_type_descriptions():
    """Typer 0.29 has no ``param.type``: choices and paths come from ``type_descriptor``."""
    demo = typer.Typer()

    @demo.command()
    def main(
        where: Annotated[Path | None, typer.Option("--where", file_okay=False)] = None,
        out: Annotated[Path | None, typer.Option("--out")] = None,
        mode: Annotated[Literal["fast", "slow"], typer.Option("--mode")] = "fast",
        verbose: Annotated[bool, typer.Option("--verbose/--no-verbose")] = False,
        secret: Annotated[str, typer.Option("--secret", hidden=True)] = "",
    ) -> None:
        pass

    spec = command_spec(typer.main.get_command(demo), "demo")
    kinds = {option.names[0]: (option.kind, option.choices) for option in spec.options}
    assert kinds["--where"] == (ValueKind.DIR, ())
    assert kinds["--out"] == (ValueKind.FILE, ())
    assert kinds["--mode"] == (ValueKind.CHOICE, ("fast", "slow"))
    assert kinds["--verbose"] == (ValueKind.NONE, ())
    assert kinds["--no-verbose"] == (ValueKind.NONE, ())
    assert "--secret" not in kinds  # hidden options are not completed


def test_help_texts_lose_rich_markup_and_keep_the_first_sentence():
    demo = typer.Typer(rich_markup_mode="rich")

    @demo.command()
    def main(
        speed: Annotated[
            int, typer.Option("--speed", help="How [bold]fast[/bold] to go. More words here.")
        ] = 1,
    ) -> None:
        """Do [italic]one[/italic] thing.

        A longer paragraph."""

    spec = command_spec(typer.main.get_command(demo), "demo")
    assert spec.help == "Do one thing"
    assert spec.options[0].help == "How fast to go"


# -- the spec of voxcli itself ---------------------------------------------------------------


def test_app_spec_covers_every_command_and_option():
    spec = app_spec(live_command())
    from voxcli.cli import app

    group = typer.main.get_command(app)
    assert {sub.name for sub in spec.subcommands} == {
        name for name, cmd in group.commands.items() if not cmd.hidden
    }
    transcribe = next(sub for sub in spec.subcommands if sub.name == "transcribe")
    options = {name: option for option in transcribe.options for name in option.names}
    for param in group.commands["transcribe"].params:
        if param.param_type_name == "option" and not param.hidden:
            assert set(param.opts) <= set(options), param.opts
    assert options["-f"].choices == options["--format"].choices
    assert {"srt", "vtt", "json", "text"} <= set(options["--format"].choices)
    assert options["--output-dir"].kind is ValueKind.DIR
    assert options["--output"].kind is ValueKind.FILE
    assert options["--bias-file"].kind is ValueKind.FILE
    assert options["--api-key-file"].kind is ValueKind.FILE
    assert options["--timestamps"].repeatable
    assert options["--language"].kind is ValueKind.TEXT
    assert transcribe.arguments[0].kind is ValueKind.AUDIO
    assert transcribe.arguments[0].variadic
    assert {"-h", "--help"} <= set(options)


def _click_commands(command, path=()):
    """(path, command) for the Click-style tree Typer builds, hidden commands left out."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield from _click_commands(sub, (*path, name))


def test_every_option_of_every_command_is_in_the_spec_and_in_each_script():
    from voxcli.cli import app

    specs = {spec.path: spec for spec in app_spec(live_command()).walk()}
    rendered = {shell: render(shell, live_command()) for shell in SHELLS}
    for path, command in _click_commands(typer.main.get_command(app)):
        assert path in specs, path
        names = {name for option in specs[path].options for name in option.names}
        for param in command.params:
            if param.param_type_name != "option" or param.hidden:
                continue
            for name in (*param.opts, *param.secondary_opts):
                assert name in names, (path, name)
                assert name in rendered["bash"], ("bash", path, name)
                assert name in rendered["zsh"], ("zsh", path, name)
                fish_flag = f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}"
                assert fish_flag in rendered["fish"], ("fish", path, name)
        for sub_name in getattr(command, "commands", {}):
            for shell in SHELLS:
                assert sub_name in rendered[shell], (shell, path, sub_name)


def test_audio_extensions_cover_the_pass_through_containers():
    from voxcli.audio import PASSTHROUGH_SUFFIXES

    assert set(PASSTHROUGH_SUFFIXES) <= set(AUDIO_EXTENSIONS)
    assert {".wav", ".flac", ".mp3", ".ogg", ".opus"} <= set(AUDIO_EXTENSIONS)


# -- the committed scripts -------------------------------------------------------------------


def test_committed_scripts_are_up_to_date():
    stale = scripts.stale(COMPLETIONS)
    assert not stale, (
        f"completion scripts out of date: {', '.join(p.name for p in stale)}; "
        f"regenerate them with: {scripts.REGENERATE}"
    )


def test_generate_writes_then_check_passes(tmp_path):
    from voxcli.completion.__main__ import main

    assert main(["generate", "--check", "--dir", str(tmp_path)]) == 1
    assert main(["generate", "--dir", str(tmp_path)]) == 0
    assert main(["generate", "--check", "--dir", str(tmp_path)]) == 0
    for shell in SHELLS:
        assert (tmp_path / SCRIPT_NAMES[shell]).read_text() == render(shell, live_command())
    (tmp_path / "_voxcli").write_text("stale\n")
    assert main(["generate", "--check", "--dir", str(tmp_path)]) == 1
    assert (tmp_path / "_voxcli").read_text() == "stale\n"  # --check writes nothing


def test_generator_runs_as_a_module(tmp_path):
    out = tmp_path / "completions"
    result = subprocess.run(
        [sys.executable, "-m", "voxcli.completion", "generate", "--dir", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(SCRIPT_NAMES.values())
    assert "wrote" in result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_show_prints_the_committed_script(shell):
    result = run_cli("completion", "show", shell)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (COMPLETIONS / SCRIPT_NAMES[shell]).read_text()
    assert result.stderr == ""


def test_show_rejects_an_unknown_shell():
    result = run_cli("completion", "show", "tcsh")
    assert result.exit_code == 2
    assert "tcsh" in result.stderr


@pytest.mark.parametrize(
    ("shell", "relative"),
    [
        ("bash", ".local/share/bash-completion/completions/voxcli"),
        ("zsh", ".zfunc/_voxcli"),
        ("fish", ".config/fish/completions/voxcli.fish"),
    ],
)
def test_install_writes_the_script_where_the_shell_looks_and_is_idempotent(shell, relative):
    home = Path(os.environ["HOME"])
    target = home / relative
    first = run_cli("completion", "install", shell)
    assert first.exit_code == 0, first.stderr
    assert target.read_text() == (COMPLETIONS / SCRIPT_NAMES[shell]).read_text()
    assert f"installed {shell} completion: {target}" in first.stderr
    assert first.stdout == ""
    mtime = target.stat().st_mtime_ns
    second = run_cli("completion", "install", shell)
    assert second.exit_code == 0
    assert "already up to date" in second.stderr
    assert target.stat().st_mtime_ns == mtime
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp files left


def test_install_replaces_an_outdated_script():
    home = Path(os.environ["HOME"])
    target = home / ".config/fish/completions/voxcli.fish"
    target.parent.mkdir(parents=True)
    target.write_text("# old\n")
    result = run_cli("completion", "install", "fish")
    assert result.exit_code == 0
    assert "installed fish completion" in result.stderr
    assert target.read_text() == render("fish", live_command())


def test_install_detects_the_shell_from_SHELL(monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    result = run_cli("completion", "install")
    assert result.exit_code == 0, result.stderr
    home = Path(os.environ["HOME"])
    assert (home / ".zfunc/_voxcli").is_file()


def test_install_zsh_prints_the_fpath_line_and_edits_no_rc_file():
    home = Path(os.environ["HOME"])
    result = run_cli("completion", "install", "zsh")
    assert "fpath+=~/.zfunc" in result.stderr
    assert not (home / ".zshrc").exists()
    (home / ".zshrc").write_text("fpath+=~/.zfunc\nautoload -Uz compinit && compinit\n")
    again = run_cli("completion", "install", "zsh")
    assert "fpath+=" not in again.stderr


@pytest.mark.parametrize("value", ["/bin/tcsh", ""])
def test_install_without_a_known_shell_is_a_usage_error(monkeypatch, value):
    monkeypatch.setenv("SHELL", value)
    result = run_cli("completion", "install")
    assert result.exit_code == 2
    assert "cannot tell which shell" in result.stderr
    assert "voxcli completion install bash|zsh|fish" in result.stderr


def test_install_paths_follow_xdg_variables():
    env = {"HOME": "/home/u", "XDG_DATA_HOME": "/data", "XDG_CONFIG_HOME": "/conf"}
    assert script_path("bash", env) == Path("/data/bash-completion/completions/voxcli")
    assert script_path("fish", env) == Path("/conf/fish/completions/voxcli.fish")
    assert script_path("zsh", env) == Path("/home/u/.zfunc/_voxcli")
    relative = {"HOME": "/home/u", "XDG_DATA_HOME": "rel", "XDG_CONFIG_HOME": "rel"}
    assert script_path("bash", relative) == Path(
        "/home/u/.local/share/bash-completion/completions/voxcli"
    )
    assert script_path("fish", relative) == Path("/home/u/.config/fish/completions/voxcli.fish")
    custom = {"HOME": "/home/u", "BASH_COMPLETION_USER_DIR": "/bc"}
    assert script_path("bash", custom) == Path("/bc/completions/voxcli")


HEAVY_PROBE = """
import sys
from voxcli.cli import run
code = run({argv!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in
               {{'mistralai', 'numpy', 'soundfile', 'soxr', 'httpx2'}})
sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')
sys.exit(code)
"""


@pytest.mark.parametrize(
    "argv", [["completion", "show", "bash"], ["completion", "install", "fish"]]
)
def test_completion_commands_import_no_sdk_numpy_or_soundfile(argv):
    result = subprocess.run(
        [sys.executable, "-c", HEAVY_PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stderr, result.stderr


def test_the_model_lists_cost_nothing_at_start_up():
    """``voxcli.catalog.kinds`` is imported at start-up: standard library only."""
    probe = (
        "import sys; before = set(sys.modules); import voxcli.catalog.kinds; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    outside = {
        name for name in result.stdout.split() if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == {"voxcli", "voxcli.catalog", "voxcli.catalog.kinds"}


def test_typers_dynamic_completion_options_stay_off():
    result = run_cli("--help")
    assert "--install-completion" not in result.stdout
    assert "--show-completion" not in result.stdout
    assert "completion" in result.stdout
