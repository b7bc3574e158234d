"""Which inputs a run processes, and where each one's output goes.

Arguments, ``--files-from`` lines and (with ``-r``) the audio files inside
directories become one ordered, de-duplicated list of :class:`InputItem`.
:func:`output_paths` then maps each onto a file under ``--output-dir`` by rules
that only depend on how the input was named, so they are the same from run to
run (what ``--skip-existing`` relies on). Inputs that would still share an output
fail on their own (:func:`collisions`); the rest of the run goes ahead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from voxcli.audio.formats import AUDIO_EXTENSIONS
from voxcli.errors import InputError, UsageError
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
        source = item.source
        key = os.path.realpath(source.path) if source.path is not None else source.raw
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def output_paths(items: list[InputItem], output_dir: Path, extension: str) -> list[Path]:
    """Each item's output file under ``output_dir`` (see :func:`collisions`)."""
    cwd = Path.cwd()
    return [output_dir / relative_output(item, extension, cwd) for item in items]


def collisions(items: list[InputItem], targets: list[Path]) -> dict[int, InputError]:
    """The inputs that share an output file with another input, by index, with their error.

    Every input of such a group fails (which one would win could change from run to
    run); the others are not affected.
    """
    groups: dict[str, list[int]] = {}
    for index, target in enumerate(targets):
        groups.setdefault(os.path.normcase(os.path.normpath(target)), []).append(index)
    errors: dict[int, InputError] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        for index in group:
            other = items[group[1] if index == group[0] else group[0]]
            errors[index] = InputError(
                f"{items[index].source} and {other.source} would both be written to "
                f"{targets[index]}",
                hint=_collision_hint(items[index], other),
            )
    return errors


def _folder(path: Path) -> str:
    return os.path.dirname(os.path.abspath(path))


def _collision_hint(item: InputItem, other: InputItem) -> str:
    one, two = item.source.path, other.source.path
    if one is not None and two is not None and _folder(one) == _folder(two):
        return "they differ only in their extension: transcribe one into another --output-dir"
    if item.base is not None and other.base is not None:
        return "give their common parent directory to -r instead, so outputs keep its folders"
    return (
        "run voxcli from a common parent directory and name the inputs by paths inside it "
        "(find . ...), so outputs keep their folders"
    )


def relative_output(item: InputItem, extension: str, cwd: Path) -> PurePath:
    """The output's path inside the output dir, with the input's suffix replaced.

    - found in a directory given with ``-r``: its path relative to that directory;
    - given as a relative path that stays inside the current directory: that path;
    - otherwise a path inside the current directory: relative to it; else the name only.
    URLs and stdin use their file name (``stdin`` for ``-``).
    """
    source = item.source
    if source.path is None:
        return PurePath(f"{source.stem}{extension}")
    if item.base is not None:
        relative = PurePath(os.path.relpath(source.path, item.base))
    else:
        relative = _relative_to_cwd(source.path, cwd)
    return relative.with_name(f"{source.stem}{extension}")


def _relative_to_cwd(path: Path, cwd: Path) -> PurePath:
    if not path.is_absolute():
        normal = PurePath(os.path.normpath(path))
        if normal.parts and normal.parts[0] != os.pardir:
            return normal
        path = cwd / path
    for candidate, base in (
        (Path(os.path.normpath(path)), cwd),
        (path.resolve(), cwd.resolve()),
    ):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return PurePath(path.name)
