"""The one registry of output formats: name, extension, what each needs, how it renders.

Options, extension inference, shell completion and the renderers all read :data:`REGISTRY`;
adding a format is adding one :class:`Format` here. Import-light: each render function
imports its renderer when it first runs, so ``--help`` does not pay for the cue builder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voxcli.errors import UsageError

if TYPE_CHECKING:
    from voxcli.render.options import RenderOptions
    from voxcli.render.quality import CueReport
    from voxcli.transcript import Transcript

Rendered = tuple[str, "CueReport | None"]
Renderer = Callable[["Transcript", "RenderOptions"], Rendered]


@dataclass(frozen=True)
class Format:
    """One output format.

    ``needs_timestamps``: the transcript must carry segment times. ``shares_stdout``:
    several documents back to back on stdout are still one valid stream (text, JSON
    Lines); a JSON document or a subtitle file is not. ``has_cues``: subtitles, which
    ``--highlight-words`` and the reading-speed report apply to.
    """

    name: str
    extension: str
    render: Renderer
    needs_timestamps: bool = False
    shares_stdout: bool = False
    has_cues: bool = False


def _text(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.text import render_text

    return render_text(transcript, options), None


def _json(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.json_ import render_json

    return render_json(transcript), None


def _jsonl(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.json_ import render_jsonl

    return render_jsonl(transcript), None


def _srt(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.subtitles import SRT, render_subtitles

    return render_subtitles(transcript, SRT, options)


def _vtt(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.subtitles import VTT, render_subtitles

    return render_subtitles(transcript, VTT, options)


def _tsv(transcript: Transcript, options: RenderOptions) -> Rendered:
    from voxcli.render.tsv import render_tsv

    return render_tsv(transcript, options), None


REGISTRY: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        Format("text", ".txt", _text, shares_stdout=True),
        Format("json", ".json", _json),
        Format("jsonl", ".jsonl", _jsonl, shares_stdout=True),
        Format("srt", ".srt", _srt, needs_timestamps=True, has_cues=True),
        Format("vtt", ".vtt", _vtt, needs_timestamps=True, has_cues=True),
        Format("tsv", ".tsv", _tsv, needs_timestamps=True),
    )
}

FORMATS: tuple[str, ...] = tuple(REGISTRY)
"""Every format's name, in the order help and completion list them."""

EXTENSIONS: dict[str, str] = {fmt.extension: fmt.name for fmt in REGISTRY.values()}
TIMED_FORMATS: frozenset[str] = frozenset(f.name for f in REGISTRY.values() if f.needs_timestamps)
SUBTITLE_FORMATS: frozenset[str] = frozenset(f.name for f in REGISTRY.values() if f.has_cues)


def format_named(name: str, *, source: str = "--format") -> Format:
    """The format called ``name``; a usage error naming ``source`` for an unknown one."""
    fmt = REGISTRY.get(name)
    if fmt is None:
        raise UsageError(
            f"unknown format {name!r} in {source}", hint=f"choose one of: {', '.join(FORMATS)}"
        )
    return fmt


def extension_of(name: str) -> str:
    """The file extension of a format's files (``.txt`` for text)."""
    return REGISTRY[name].extension


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for by its extension (case-insensitive), else None."""
    _, ext = os.path.splitext(os.fspath(path))
    return EXTENSIONS.get(ext.lower())
