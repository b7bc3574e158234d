"""Where each shell looks for a user's completion scripts, and installing ours there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from voxcli.completion import SHELLS
from voxcli.errors import UsageError


@dataclass(frozen=True)
class Installed:
    """What :func:`install` did: where the script is, whether it changed, what to do next."""

    shell: str
    path: Path
    changed: bool
    hints: tuple[str, ...] = ()


def detect_shell(env: Mapping[str, str]) -> str:
    """The user's shell from ``$SHELL`` (``/usr/bin/zsh`` -> ``zsh``)."""
    value = env.get("SHELL", "")
    name = Path(value).name
    if name in SHELLS:
        return name
    shown = f"$SHELL is {value!r}" if value else "$SHELL is not set"
    raise UsageError(
        f"cannot tell which shell to install completion for: {shown}",
        hint=f"name it: voxcli completion install {'|'.join(SHELLS)}",
    )


def script_path(shell: str, env: Mapping[str, str]) -> Path:
    """The per-user file that *shell* loads completions for voxcli from."""
    home = Path(env.get("HOME") or Path.home())
    if shell == "bash":
        user_dir = _absolute(env.get("BASH_COMPLETION_USER_DIR"))
        if user_dir is None:
            user_dir = (_absolute(env.get("XDG_DATA_HOME")) or home / ".local/share") / (
                "bash-completion"
            )
        return user_dir / "completions" / "voxcli"
    if shell == "zsh":
        return home / ".zfunc" / "_voxcli"
    if shell == "fish":
        config = _absolute(env.get("XDG_CONFIG_HOME")) or home / ".config"
        return config / "fish" / "completions" / "voxcli.fish"
    raise ValueError(f"unknown shell {shell!r}")


def install(shell: str, script: str, env: Mapping[str, str]) -> Installed:
    """Write *script* where *shell* finds it, unless it is already there, byte for byte."""
    from voxcli.output.sinks import write_atomic

    path = script_path(shell, env)
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    changed = current != script
    if changed:
        write_atomic(path, script)
    return Installed(shell, path, changed, _hints(shell, path, env))


def _hints(shell: str, path: Path, env: Mapping[str, str]) -> tuple[str, ...]:
    if shell == "bash":
        return (
            "new bash shells load it through the bash-completion package; without that "
            f"package, add this line to ~/.bashrc: source {path}",
        )
    if shell == "zsh":
        home = Path(env.get("HOME") or Path.home())
        zshrc = Path(env.get("ZDOTDIR") or home) / ".zshrc"
        try:
            rc = zshrc.read_text(encoding="utf-8", errors="replace")
        except OSError:
            rc = ""
        hints = []
        if ".zfunc" not in rc:
            hints.append(f"add this line to {zshrc}, before compinit runs: fpath+=~/.zfunc")
        if "compinit" not in rc:
            hints.append(
                f"zsh completes only after compinit: add to {zshrc}: "
                "autoload -Uz compinit && compinit"
            )
        hints.append("then start a new shell (run 'rm -f ~/.zcompdump*' if TAB still misses it)")
        return tuple(hints)
    return ("new fish shells pick it up by themselves",)


def _absolute(value: str | None) -> Path | None:
    """An XDG-style directory variable, ignored unless absolute (as the spec says)."""
    if value and os.path.isabs(value):
        return Path(value)
    return None
