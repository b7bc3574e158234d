"""Which inputs a run processes, and where each one's output goes.

Arguments, ``--files-from`` lines and (with ``-r``) the audio files inside
directories become one ordered, de-duplicated list of :class:`InputItem`.
(:mod:`voxcli.targets` maps each onto its output file.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from voxcli.audio.formats import AUDIO_EXTENSIONS
from voxcli.errors import UsageError
from voxcli.sources import Source, parse_source
from voxcli.textfiles import read_flag_file

AUDIO_SUFFIXES = frozenset(AUDIO_EXTENSIONS)
"""Extensions taken from a directory with ``--recursive`` (case-insensitive)."""


@dataclass(frozen=True)
class InputItem:
    """One input of a run; ``base`` is the directory it was found in with ``-r``, if any."""

    source: Source
    base: Path | None = None


def read_files_from(spec: str, stdin: BinaryIO | None) -> list[str]:
    """The sources listed in ``--files-from`` (``-`` for stdin): one per line, or NUL-separated.

    Only line ends are stripped (names may start or end with spaces); empty lines are skipped.
    NUL separators (``find -print0``) are used when the list contains any.
    """
    if spec == "-":
        if stdin is None:
            raise UsageError("--files-from - needs the list on stdin")
        data = stdin.read()
    else:
        data = read_flag_file(spec, "--files-from")
    text = os.fsdecode(data)
    if "\0" in text:
        entries = text.split("\0")
    else:
        entries = [line.rstrip("\r") for line in text.split("\n")]
    return [entry for entry in entries if entry]


def expand_inputs(raws: Iterable[str], *, recursive: bool) -> list[InputItem]:
    """Parse sources, expand directories (with ``recursive``) and drop duplicates, in order."""
    items: list[InputItem] = []
    for raw in raws:
        source = parse_source(raw)
        if source.path is not None and source.path.is_dir():
            if not recursive:
                raise UsageError(
                    f"{raw} is a directory",
                    hint="add --recursive (-r) to transcribe the audio files inside it",
                )
            items.extend(InputItem(found, source.path) for found in _audio_files(source.path))
        else:
            items.append(InputItem(source))
    if sum(item.source.kind == "stdin" for item in items) > 1:
        raise UsageError("'-' (stdin) can be given only once")
    return _unique(items)


def _audio_files(directory: Path) -> Iterable[Source]:
    """Audio files under ``directory`` by extension, in a stable order; hidden ones skipped."""
    for root, dirs, files in os.walk(directory, onerror=_raise_walk_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and PurePath(name).suffix.lower() in AUDIO_SUFFIXES:
                path = Path(root, name)
                yield Source("file", str(path), path)


def _raise_walk_error(exc: OSError) -> None:
    raise UsageError(f"cannot read directory {exc.filename}: {exc.strerror or exc}")


def _unique(items: list[InputItem]) -> list[InputItem]:
    seen: set[str] = set()
    unique: list[InputItem] = []
    for item in items:
        if (key := item.source.identity) not in seen:
            seen.add(key)
            unique.append(item)
    return unique
