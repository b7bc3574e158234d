"""Reading the small files flags point at (key file, bias terms, file lists)."""

from __future__ import annotations

from pathlib import Path

from voxcli.errors import InputError


def read_flag_file(path: str, flag: str) -> bytes:
    """The bytes of the file given to ``flag``; a one-line InputError naming both otherwise."""
    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError:
        raise InputError(f"{flag}: no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{flag}: {path} is a directory") from None
    except OSError as exc:
        raise InputError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def read_flag_text(path: str, flag: str) -> str:
    """Like :func:`read_flag_file`, decoded as UTF-8 (a leading BOM is dropped)."""
    try:
        return read_flag_file(path, flag).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{flag}: {path} is not UTF-8 text") from None
