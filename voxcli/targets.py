"""Where each input's output goes under ``--output-dir``, and which inputs collide.

:func:`output_paths` maps each input onto a file under the output directory by rules
that only depend on how the input was named, so they are the same from run to run (what
``--skip-existing`` relies on). Inputs that would still share an output fail on their
own (:func:`collisions`); the rest of the run goes ahead.

:func:`unwritable` checks, before anything is sent, that each output can be written:
not a directory, in a folder we may write to, replaceable by us, and not reached
through a symbolic link planted inside the output directory (mirroring never leaves it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePath

from voxcli.errors import InputError
from voxcli.inputs import InputItem


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


def unwritable(targets: list[Path], root: Path | None) -> dict[int, InputError]:
    """The outputs that can never be written, by index, with why (see :func:`check_output`)."""
    errors: dict[int, InputError] = {}
    for index, target in enumerate(targets):
        try:
            check_output(target, root)
        except InputError as exc:
            errors[index] = exc
    return errors


def check_output(target: Path, root: Path | None = None) -> None:
    """Raise InputError if ``target`` can never be written: it is a directory, its folder
    (or the nearest existing one) is not a writable directory, another user's file in a
    sticky folder (``/tmp``), or a folder between ``root`` (``--output-dir``, the user's
    own choice even if a link) and it is a symbolic link."""
    if root is not None:
        _check_no_links(target, root)
    try:  # lstat: renaming over a symlink replaces the link, wherever it points
        st: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise InputError(f"cannot write {target}: a part of its path is a file") from None
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{target} is a directory", hint="move it away, or write into another --output-dir"
        )
    folder = _nearest_existing(target.parent)
    if not folder.is_dir():
        raise InputError(f"cannot write {target}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write {target}: no permission to write in {folder}",
            hint="choose an output you may write, or check the folder's permissions",
        )
    if st is not None and folder == target.parent:
        _check_replaceable(target, folder, st)


def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    return folder


def _check_replaceable(target: Path, folder: Path, st: os.stat_result) -> None:
    """Renaming over ``target`` fails in a sticky folder unless we own the file or the
    folder (or are root), whatever the file's own permissions."""
    uid = os.geteuid()
    folder_st = os.stat(folder)
    if (
        folder_st.st_mode & stat.S_ISVTX
        and uid != 0
        and st.st_uid != uid
        and folder_st.st_uid != uid
    ):
        raise InputError(
            f"cannot replace {target}: another user's file in a shared folder",
            hint="write to another path (-o) or folder (-d)",
        )


def _check_no_links(target: Path, root: Path) -> None:
    """No folder between ``root`` and ``target`` is a symlink (``target`` itself may be:
    replacing a link replaces the link, inside the folder)."""
    try:
        inside = target.relative_to(root)
    except ValueError:
        return
    current = root
    for part in inside.parts[:-1]:
        current = current / part
        if os.path.islink(current):
            raise InputError(
                f"{current} is a symbolic link; voxcli does not write through links "
                "inside the output directory",
                hint="remove the link, or write into another --output-dir",
            )


NAME_FIELDS = ("stem", "ext", "lang", "model", "date")
"""The fields of ``--name TEMPLATE``."""
UNKNOWN_LANGUAGE = "und"
"""``{lang}`` when the language is neither given nor detected (ISO 639-2 "undetermined")."""


def check_name_template(template: str, formats: int) -> None:
    """A :class:`~voxcli.errors.UsageError` for a ``--name`` that cannot name files: an
    unknown field, a path separator, or several formats without ``{ext}``."""
    import string

    from voxcli.errors import UsageError

    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise UsageError(f"--name {template!r}: {exc}") from None
    unknown = [name for name in fields if name not in NAME_FIELDS]
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in NAME_FIELDS)
        raise UsageError(f"--name {template!r}: unknown field {{{unknown[0]}}} (known: {known})")
    if "/" in template or os.sep in template or template in ("", ".", ".."):
        raise UsageError(f"--name {template!r} must be a file name, without a directory")
    if formats > 1 and "ext" not in fields:
        raise UsageError(f"--name {template!r} needs {{ext}} to name one file per format")


def named_path(path: Path, template: str, fields: dict[str, str]) -> Path:
    """``path`` (an output under -d) renamed by ``template``: its folder is kept."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    values = {"stem": stem, "ext": path.suffix.lstrip("."), **fields}
    return path.with_name(template.format(**values))
