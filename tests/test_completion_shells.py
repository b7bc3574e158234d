"""The committed completion scripts, driven by the real shells: bash always, zsh and fish
when installed (``.ci/run`` installs them from Debian's packages)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voxcli.catalog.kinds import KNOWN_MODELS

COMPLETIONS = Path(__file__).resolve().parents[1] / "completions"
ZSH_HARNESS = Path(__file__).resolve().parent / "shells" / "zsh_complete.zsh"
OFFLINE = set(KNOWN_MODELS["offline"])
CHAT = set(KNOWN_MODELS["chat"])
MODELS = OFFLINE  # what transcribe's --model offers with no models cache
CACHED = "voxtral-from-the-cache"
FORMATS = {"text", "json", "jsonl", "srt", "vtt", "tsv"}


@pytest.fixture
def names_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models cache under a fresh $XDG_CACHE_HOME; tests write names-KIND.txt."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    models = cache / "voxcli" / "models"
    models.mkdir(parents=True)
    return models


def write_names(names_dir: Path, kind: str, *names: str) -> None:
    """A names file as the cache writes it, plus what a damaged or hostile one may hold."""
    (names_dir / f"names-{kind}.txt").write_text("".join(f"{name}\n" for name in names))


HOSTILE = ("$(touch pwned)", "`touch pwned`", "two words", "", "semi;colon", "star*")


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """A working directory with audio files, a text file and directories."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("talk.wav", "Interview.MP3", "podcast.opus", "notes.txt", "clip.m4a"):
        (work / name).write_bytes(b"x")
    (work / "recordings").mkdir()
    (work / "recordings" / "day1.flac").write_bytes(b"x")
    (work / "subs").mkdir()
    return work


# -- bash ------------------------------------------------------------------------------------


def comp_words(line: str) -> list[str]:
    """Split *line* the way bash fills COMP_WORDS (blanks, and '=' as its own word)."""
    words: list[str] = []
    for word in line.split():
        words.extend(part for part in re.split(r"(=)", word) if part)
    if line.endswith(" "):
        words.append("")
    return words


def bash_complete(line: str, cwd: Path) -> list[str]:
    """COMPREPLY after TAB at the end of *line*, from the real bash and the real script."""
    words = comp_words(line)
    script = "\n".join(
        [
            f"source {shlex.quote(str(COMPLETIONS / 'voxcli.bash'))}",
            "COMP_WORDS=(" + " ".join(shlex.quote(w) for w in words) + ")",
            f"COMP_CWORD={len(words) - 1}",
            f"COMP_LINE={shlex.quote(line)}",
            f"COMP_POINT={len(line)}",
            '_voxcli voxcli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
            "printf '%s\\n' \"${COMPREPLY[@]}\"",
        ]
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [reply for reply in result.stdout.splitlines() if reply]


def test_bash_completes_subcommands(cwd):
    assert set(bash_complete("voxcli ", cwd)) == {"transcribe", "completion"} | _extra_commands()
    assert bash_complete("voxcli tra", cwd) == ["transcribe"]
    assert set(bash_complete("voxcli completion ", cwd)) == {"show", "install"}


def test_bash_completes_options_long_and_short(cwd):
    assert bash_complete("voxcli transcribe --form", cwd) == ["--format"]
    assert bash_complete("voxcli transcribe --output-", cwd) == ["--output-dir"]
    short = set(bash_complete("voxcli transcribe -", cwd))
    assert {"-f", "-o", "-d", "-m", "-t", "-h", "--help", "--diarize"} <= short
    assert {"--version", "-V", "--debug"} <= set(bash_complete("voxcli -", cwd))


def test_bash_completes_option_values(cwd):
    assert set(bash_complete("voxcli transcribe --format ", cwd)) == FORMATS
    assert set(bash_complete("voxcli transcribe -f j", cwd)) == {"json", "jsonl"}
    assert bash_complete("voxcli transcribe --format=s", cwd) == ["srt"]
    assert set(bash_complete("voxcli transcribe --format=", cwd)) == FORMATS
    assert set(bash_complete("voxcli transcribe --timestamps ", cwd)) == {"segment", "word"}
    assert set(bash_complete("voxcli transcribe --upload ", cwd)) >= {"auto", "original"}
    assert set(bash_complete("voxcli completion show ", cwd)) == {"bash", "zsh", "fish"}


def test_bash_understands_clusters_of_short_options(cwd):
    assert set(bash_complete("voxcli transcribe -vf ", cwd)) == FORMATS
    assert "talk.wav" in bash_complete("voxcli transcribe -vfsrt t", cwd)
    assert "talk.wav" in bash_complete("voxcli transcribe -vq t", cwd)
    assert set(bash_complete("voxcli transcribe -qd ", cwd)) == {"recordings", "subs"}


def test_bash_completes_model_names(cwd):
    assert set(bash_complete("voxcli transcribe --model ", cwd)) == MODELS
    assert set(bash_complete("voxcli transcribe a.wav -m voxtral-small", cwd)) == {
        "voxtral-small-transcribe-latest",
        "voxtral-small-transcribe-3",
    }


def test_bash_offers_the_models_of_each_commands_kind(cwd, names_dir):
    transcribe = bash_complete("voxcli transcribe -m ", cwd)
    assert set(transcribe) == OFFLINE
    assert "voxtral-mini-transcribe-latest" in transcribe
    assert "voxtral-small-latest" not in transcribe
    chat = bash_complete("voxcli chat --model ", cwd)
    assert set(chat) == CHAT
    assert "voxtral-small-latest" in chat
    assert "voxtral-mini-transcribe-latest" not in chat
    assert set(bash_complete("voxcli detect-lang --model=", cwd)) == OFFLINE
    assert bash_complete("voxcli chat --model=voxtral-small-l", cwd) == ["voxtral-small-latest"]


def test_bash_adds_the_names_in_the_models_cache(cwd, names_dir):
    write_names(names_dir, "offline", CACHED, "voxtral-mini-2602", CACHED, *HOSTILE)
    write_names(names_dir, "chat", "chat-from-the-cache")
    offered = bash_complete("voxcli transcribe -m ", cwd)
    assert set(offered) == OFFLINE | {CACHED}
    assert len(offered) == len(set(offered))  # no name twice
    assert bash_complete("voxcli transcribe -m voxtral-f", cwd) == [CACHED]
    assert bash_complete("voxcli transcribe --model=voxtral-f", cwd) == [CACHED]
    assert set(bash_complete("voxcli chat -m ", cwd)) == CHAT | {"chat-from-the-cache"}
    assert not (cwd / "pwned").exists()  # names are never evaluated


def test_bash_reads_the_cache_under_home_without_xdg_cache_home(cwd, tmp_path, monkeypatch):
    home = tmp_path / "somebody"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME")
    (home / ".cache" / "voxcli" / "models").mkdir(parents=True)
    write_names(home / ".cache" / "voxcli" / "models", "offline", CACHED)
    assert set(bash_complete("voxcli transcribe -m ", cwd)) == OFFLINE | {CACHED}


def test_bash_is_silent_without_a_readable_names_file(cwd, names_dir, monkeypatch):
    assert set(bash_complete("voxcli transcribe -m ", cwd)) == OFFLINE  # no file at all
    (names_dir / "names-offline.txt").mkdir()  # not a file
    assert set(bash_complete("voxcli transcribe -m ", cwd)) == OFFLINE
    monkeypatch.setenv("XDG_CACHE_HOME", str(names_dir / "missing"))
    assert set(bash_complete("voxcli chat -m ", cwd)) == CHAT
    # (bash_complete asserts that nothing was written to stderr)


def test_bash_completes_audio_files_and_directories_for_sources(cwd):
    offered = set(bash_complete("voxcli transcribe ", cwd))
    assert offered == {
        "talk.wav",
        "Interview.MP3",
        "podcast.opus",
        "clip.m4a",
        "recordings",
        "subs",
    }
    assert "notes.txt" not in offered
    assert bash_complete("voxcli transcribe recordings/", cwd) == ["recordings/day1.flac"]
    # An option's value is skipped: the next word is a source again.
    assert "talk.wav" in bash_complete("voxcli transcribe --format srt t", cwd)
    assert "talk.wav" in bash_complete("voxcli --debug transcribe -o out.srt ", cwd)


def test_bash_completes_directories_only_for_output_dir(cwd):
    assert set(bash_complete("voxcli transcribe --output-dir ", cwd)) == {"recordings", "subs"}
    assert set(bash_complete("voxcli transcribe -d ", cwd)) == {"recordings", "subs"}
    assert bash_complete("voxcli transcribe --output-dir=r", cwd) == ["recordings"]


def test_bash_completes_any_file_for_path_options(cwd):
    for option in ("--output", "--bias-file", "--api-key-file"):
        assert "notes.txt" in bash_complete(f"voxcli transcribe {option} ", cwd), option
    assert bash_complete("voxcli transcribe --output=n", cwd) == ["notes.txt"]


def test_bash_completes_names_with_blanks_and_a_tilde(cwd, monkeypatch):
    (cwd / "my talk.wav").write_bytes(b"x")
    monkeypatch.setenv("HOME", str(cwd))
    assert bash_complete("voxcli transcribe my", cwd) == ["my talk.wav"]
    assert bash_complete("voxcli transcribe ~/rec", cwd) == ["~/recordings"]


def test_bash_offers_nothing_for_free_text_and_after_double_dash(cwd):
    assert bash_complete("voxcli transcribe --language ", cwd) == []
    assert bash_complete("voxcli transcribe -- --form", cwd) == []


def test_bash_script_keeps_the_callers_shell_options(cwd):
    script = (
        f"source {shlex.quote(str(COMPLETIONS / 'voxcli.bash'))}; shopt -u extglob; "
        "COMP_WORDS=(voxcli transcribe ''); COMP_CWORD=2; _voxcli; shopt -q extglob && echo LEAK"
    )
    result = subprocess.run(
        ["bash", "--norc", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert "LEAK" not in result.stdout


def test_bash_registers_the_completion_function():
    result = subprocess.run(
        ["bash", "--norc", "-c", f"source {COMPLETIONS / 'voxcli.bash'}; complete -p voxcli"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == "complete -o filenames -F _voxcli voxcli"


def test_bash_script_loads_from_completion_show(cwd):
    script = "source <(python -m voxcli completion show bash) && complete -p voxcli"
    result = subprocess.run(
        ["bash", "--norc", "-c", script.replace("python", shlex.quote(sys.executable))],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "-F _voxcli voxcli" in result.stdout, result.stderr


# -- fish ------------------------------------------------------------------------------------

needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")


def fish_complete(line: str, cwd: Path) -> list[str]:
    """What fish offers for *line* (``complete -C``), without the descriptions."""
    script = (
        f"source {shlex.quote(str(COMPLETIONS / 'voxcli.fish'))}; complete -C {shlex.quote(line)}"
    )
    result = subprocess.run(
        ["fish", "--no-config", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [entry.split("\t")[0] for entry in result.stdout.splitlines() if entry]


@needs_fish
def test_fish_completes_subcommands_and_options(cwd):
    assert set(fish_complete("voxcli ", cwd)) == {"transcribe", "completion"} | _extra_commands()
    assert set(fish_complete("voxcli completion ", cwd)) == {"show", "install"}
    assert fish_complete("voxcli transcribe --form", cwd) == ["--format"]
    assert "--version" in fish_complete("voxcli --", cwd)


@needs_fish
def test_fish_completes_option_values(cwd):
    assert set(fish_complete("voxcli transcribe --format ", cwd)) == FORMATS
    assert fish_complete("voxcli transcribe --format=s", cwd) == ["--format=srt"]
    assert set(fish_complete("voxcli transcribe -m ", cwd)) == MODELS
    assert set(fish_complete("voxcli chat -m ", cwd)) == CHAT
    assert set(fish_complete("voxcli completion install ", cwd)) == {"bash", "zsh", "fish"}


@needs_fish
def test_fish_offers_each_commands_models_and_the_cached_names(cwd, names_dir):
    transcribe = fish_complete("voxcli transcribe --model ", cwd)
    assert "voxtral-mini-transcribe-latest" in transcribe
    assert "voxtral-small-latest" not in transcribe
    chat = fish_complete("voxcli chat -m ", cwd)
    assert "voxtral-small-latest" in chat
    assert "voxtral-mini-transcribe-latest" not in chat
    write_names(names_dir, "offline", CACHED, "voxtral-mini-2602", *HOSTILE)
    offered = fish_complete("voxcli transcribe -m ", cwd)
    assert set(offered) == OFFLINE | {CACHED}
    assert len(offered) == len(set(offered))
    assert fish_complete("voxcli detect-lang --model=voxtral-f", cwd) == [f"--model={CACHED}"]
    assert set(fish_complete("voxcli chat -m ", cwd)) == CHAT
    assert not (cwd / "pwned").exists()


@needs_fish
def test_fish_is_silent_without_a_readable_names_file(cwd, names_dir, monkeypatch):
    assert set(fish_complete("voxcli transcribe -m ", cwd)) == OFFLINE
    (names_dir / "names-offline.txt").mkdir()
    assert set(fish_complete("voxcli transcribe -m ", cwd)) == OFFLINE
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(names_dir / "nobody"))
    assert set(fish_complete("voxcli chat -m ", cwd)) == CHAT
    # (fish_complete asserts that nothing was written to stderr)


@needs_fish
def test_fish_completes_audio_files_and_directories(cwd):
    offered = set(fish_complete("voxcli transcribe ", cwd))
    assert offered == {
        "talk.wav",
        "Interview.MP3",
        "podcast.opus",
        "clip.m4a",
        "recordings/",
        "subs/",
    }
    assert set(fish_complete("voxcli transcribe --output-dir ", cwd)) == {"recordings/", "subs/"}
    assert fish_complete("voxcli transcribe --output-dir=r", cwd) == ["--output-dir=recordings/"]
    assert "notes.txt" in fish_complete("voxcli transcribe --bias-file ", cwd)


# -- zsh -------------------------------------------------------------------------------------

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")


def zsh_complete(line: str, cwd: Path, tmp_path: Path) -> list[str]:
    """The matches zsh's completion system adds for TAB after *line* (see zsh_complete.zsh)."""
    out = tmp_path / "zsh-matches"
    result = subprocess.run(
        ["zsh", "-f", str(ZSH_HARNESS), str(COMPLETIONS), str(out), line],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode == 3:
        pytest.skip("zsh has no zsh/zpty module")
    assert result.returncode == 0, result.stderr
    return list(dict.fromkeys(result.stdout.splitlines()))


@needs_zsh
def test_zsh_completes_subcommands_and_options(cwd, tmp_path):
    assert (
        set(zsh_complete("voxcli ", cwd, tmp_path))
        == {
            "transcribe",
            "completion",
        }
        | _extra_commands()
    )
    assert set(zsh_complete("voxcli completion ", cwd, tmp_path)) == {"show", "install"}
    assert zsh_complete("voxcli transcribe --form", cwd, tmp_path) == ["--format"]


@needs_zsh
def test_zsh_completes_option_values(cwd, tmp_path):
    assert set(zsh_complete("voxcli transcribe --format ", cwd, tmp_path)) == FORMATS
    assert zsh_complete("voxcli transcribe --format=s", cwd, tmp_path) == ["srt"]
    assert set(zsh_complete("voxcli transcribe -m ", cwd, tmp_path)) == MODELS
    assert set(zsh_complete("voxcli chat --model=", cwd, tmp_path)) == CHAT


@needs_zsh
def test_zsh_offers_each_commands_models_and_the_cached_names(cwd, tmp_path, names_dir):
    transcribe = zsh_complete("voxcli transcribe --model ", cwd, tmp_path)
    assert "voxtral-mini-transcribe-latest" in transcribe
    assert "voxtral-small-latest" not in transcribe
    chat = zsh_complete("voxcli chat -m ", cwd, tmp_path)
    assert "voxtral-small-latest" in chat
    assert "voxtral-mini-transcribe-latest" not in chat
    write_names(names_dir, "offline", CACHED, "voxtral-mini-2602", *HOSTILE)
    assert set(zsh_complete("voxcli transcribe -m ", cwd, tmp_path)) == OFFLINE | {CACHED}
    assert zsh_complete("voxcli detect-lang --model=voxtral-f", cwd, tmp_path) == [CACHED]
    assert set(zsh_complete("voxcli chat -m ", cwd, tmp_path)) == CHAT
    assert not (cwd / "pwned").exists()


def zsh_model_names(kind: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Call the script's model-name function directly, with compadd printing its words."""
    script = (
        "autoload -Uz compinit && compinit -u -D && "
        f"source {shlex.quote(str(COMPLETIONS / '_voxcli'))} && "
        'compadd() { print -rl -- "${(@P)argv[-1]}" } && expl=() && '
        f"__voxcli_model_names {kind} static-one static-two"
    )
    return subprocess.run(
        ["zsh", "-f", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@needs_zsh
def test_zsh_is_silent_without_a_readable_names_file(cwd, names_dir, monkeypatch):
    result = zsh_model_names("offline", cwd)
    assert (result.returncode, result.stdout, result.stderr) == (0, "static-one\nstatic-two\n", "")
    (names_dir / "names-offline.txt").mkdir()
    result = zsh_model_names("offline", cwd)
    assert (result.stdout, result.stderr) == ("static-one\nstatic-two\n", "")
    write_names(names_dir, "chat", "static-two", CACHED, *HOSTILE)
    result = zsh_model_names("chat", cwd)
    assert (result.stdout, result.stderr) == (f"static-one\nstatic-two\n{CACHED}\n", "")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(names_dir / "nobody"))
    result = zsh_model_names("chat", cwd)
    assert (result.stdout, result.stderr) == ("static-one\nstatic-two\n", "")


@needs_zsh
def test_zsh_completes_audio_files_and_directories(cwd, tmp_path):
    offered = set(zsh_complete("voxcli transcribe ", cwd, tmp_path))
    assert offered == {
        "talk.wav",
        "Interview.MP3",
        "podcast.opus",
        "clip.m4a",
        "recordings",
        "subs",
    }
    assert set(zsh_complete("voxcli transcribe -d ", cwd, tmp_path)) == {"recordings", "subs"}
    assert "notes.txt" in zsh_complete("voxcli transcribe --output ", cwd, tmp_path)


@needs_zsh
def test_zsh_script_registers_itself_when_sourced(tmp_path):
    script = (
        "autoload -Uz compinit && compinit -u -D && "
        f"source {shlex.quote(str(COMPLETIONS / '_voxcli'))} && print -r -- $_comps[voxcli]"
    )
    result = subprocess.run(
        ["zsh", "-f", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "_voxcli", result.stderr


def _extra_commands() -> set[str]:
    """Top-level commands other helpers add: the scripts must offer them too."""
    import typer.main

    from voxcli.cli import app

    group = typer.main.get_command(app)
    return {name for name, cmd in group.commands.items() if not cmd.hidden} - {
        "transcribe",
        "completion",
    }


# -- a richer command tree than voxcli has today ---------------------------------------------


def _rich_tree_scripts(tmp_path: Path) -> dict[str, Path]:
    """Scripts for :mod:`tests.completion_demo_app`, a richer tree than voxcli's today."""
    import typer.main

    from tests.completion_demo_app import demo
    from voxcli.completion import SCRIPT_NAMES, bash, fish, zsh
    from voxcli.completion.generate import command_spec

    spec = command_spec(typer.main.get_command(demo), "voxcli")
    paths = {}
    for shell, module in {"bash": bash, "zsh": zsh, "fish": fish}.items():
        paths[shell] = tmp_path / SCRIPT_NAMES[shell]
        paths[shell].write_text(module.render(spec))
    return paths


def test_scripts_for_a_richer_tree_are_valid_and_complete_it(tmp_path, cwd, monkeypatch):
    scripts = _rich_tree_scripts(tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "COMPLETIONS", tmp_path)
    assert subprocess.run(["bash", "-n", str(scripts["bash"])]).returncode == 0
    assert set(bash_complete("voxcli ", cwd)) == {"detect-lang", "conf"}
    assert set(bash_complete("voxcli -c x conf ", cwd)) == {"set"}
    assert set(bash_complete("voxcli conf set ", cwd)) == {"alpha", "beta"}
    assert bash_complete("voxcli conf set alpha ", cwd) == []
    assert set(bash_complete("voxcli detect-lang -L ", cwd)) == {"low", "high"}
    assert "--secret" not in bash_complete("voxcli detect-lang --", cwd)
    assert "notes.txt" in bash_complete("voxcli detect-lang --report ", cwd)
    assert "talk.wav" in bash_complete("voxcli detect-lang ", cwd)
    assert "notes.txt" in bash_complete("voxcli --config ", cwd)
    if shutil.which("zsh"):
        zsh_n = subprocess.run(["zsh", "-n", str(scripts["zsh"])], capture_output=True)
        assert zsh_n.returncode == 0, zsh_n.stderr
        assert set(zsh_complete("voxcli conf set ", cwd, tmp_path)) == {"alpha", "beta"}
        assert set(zsh_complete("voxcli detect-lang -L ", cwd, tmp_path)) == {"low", "high"}
    if shutil.which("fish"):
        fish_n = subprocess.run(["fish", "-n", str(scripts["fish"])], capture_output=True)
        assert fish_n.returncode == 0, fish_n.stderr
        assert set(fish_complete("voxcli -c x conf ", cwd)) == {"set"}
        assert set(fish_complete("voxcli conf set ", cwd)) == {"alpha", "beta"}
        assert fish_complete("voxcli conf set alpha ", cwd) == []
        assert set(fish_complete("voxcli detect-lang --level ", cwd)) == {"low", "high"}
