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

from voxcli.audio.formats import MEDIA_EXTENSIONS
from voxcli.errors import UsageError, VoxcliError
from voxcli.sources import Source, parse_source
from voxcli.textfiles import read_capped, read_flag_file

AUDIO_SUFFIXES = frozenset(MEDIA_EXTENSIONS)
"""Extensions taken from a directory with ``--recursive`` (case-insensitive)."""
FILES_FROM_MAX_BYTES = 256_000_000
"""The most a ``--files-from`` list may hold (millions of paths; /dev/zero is refused)."""


@dataclass(frozen=True)
class InputItem:
    """One input of a run; ``base`` is the directory it was found in with ``-r``, if any.

    ``listed``: it came from ``--files-from``. ``error``: why it cannot be processed (a
    directory without ``-r`` among other inputs); it then fails on its own.
    """

    source: Source
    base: Path | None = None
    listed: bool = False
    error: VoxcliError | None = None

    @property
    def unattended(self) -> bool:
        """Found by voxcli (in a directory, or in a list) rather than named by the user:
        it may still be being written by whatever put it there."""
        return self.base is not None or self.listed


def read_files_from(spec: str, stdin: BinaryIO | None) -> list[str]:
    """The sources listed in ``--files-from`` (``-`` for stdin): one per line, or NUL-separated.

    Only line ends are stripped (names may start or end with spaces); empty lines are skipped.
    NUL separators (``find -print0``) are used when the list contains any.
    """
    if spec == "-":
        if stdin is None:
            raise UsageError("--files-from - needs the list on stdin")
        data = read_capped(stdin, FILES_FROM_MAX_BYTES, what="--files-from: the list on stdin")
    else:
        data = read_flag_file(spec, "--files-from", max_bytes=FILES_FROM_MAX_BYTES)
    text = os.fsdecode(data)
    if "\0" in text:
        entries = text.split("\0")
    else:
        entries = [line.rstrip("\r") for line in text.split("\n")]
    return [entry for entry in entries if entry]


def expand_inputs(
    raws: Iterable[str],
    *,
    recursive: bool,
    listed: Iterable[str] = (),
    keep_going: bool = False,
) -> list[InputItem]:
    """Parse sources, expand directories (with ``recursive``) and drop duplicates, in order.

    ``listed`` are more sources, from ``--files-from`` (after ``raws``). A directory
    without ``recursive`` is a usage error; with ``keep_going`` it becomes an item that
    fails on its own, unless no other input is left.
    """
    items: list[InputItem] = []
    entries = [(raw, False) for raw in raws] + [(raw, True) for raw in listed]
    for raw, from_list in entries:
        source = parse_source(raw)
        if source.path is not None and source.path.is_dir():
            if not recursive:
                error = UsageError(
                    f"{raw} is a directory",
                    hint="add --recursive (-r) to transcribe the audio files inside it",
                )
                if not keep_going:
                    raise error
                items.append(InputItem(source, listed=from_list, error=error))
                continue
            items.extend(
                InputItem(found, source.path, listed=from_list)
                for found in _audio_files(source.path)
            )
        else:
            items.append(InputItem(source, listed=from_list))
    if sum(item.source.kind == "stdin" for item in items) > 1:
        raise UsageError("'-' (stdin) can be given only once")
    refused = [item.error for item in items if item.error is not None]
    if refused and len(refused) == len(items):  # nothing else to do: a usage error, as alone
        raise refused[0]
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
