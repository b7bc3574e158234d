"""Every XDG lookup in one place: the config file, the cache and the state directories."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP = "voxcli"


def home(environ: Mapping[str, str]) -> Path:
    """``$HOME``, else the password database's idea of it."""
    return Path(environ["HOME"]) if environ.get("HOME") else Path.home()


def _xdg(environ: Mapping[str, str], variable: str, fallback: str) -> Path:
    base = environ.get(variable) or str(home(environ) / fallback)
    return Path(base).expanduser() / APP


def config_file(environ: Mapping[str, str]) -> Path:
    """``$VOXCLI_CONFIG``, else ``$XDG_CONFIG_HOME/voxcli/config.toml``."""
    if environ.get("VOXCLI_CONFIG"):
        return Path(environ["VOXCLI_CONFIG"]).expanduser()
    return _xdg(environ, "XDG_CONFIG_HOME", ".config") / "config.toml"


def cache_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/voxcli``, else ``~/.cache/voxcli``."""
    return _xdg(environ, "XDG_CACHE_HOME", ".cache")


def state_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/voxcli``, else ``~/.local/state/voxcli``."""
    return _xdg(environ, "XDG_STATE_HOME", ".local/state")
