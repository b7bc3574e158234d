"""Output renderers: pure functions from a :class:`~voxcli.transcript.Transcript` to text.

Import-light (standard library only). The entry point is :func:`render`::

    render(transcript, "srt", RenderOptions(max_line_width=37))

and :func:`render_with_report` gives the text together with a
:class:`CueReport` on the very cues written (for ``--verbose``)::

    text, report = render_with_report(transcript, "srt", options)

Formats: ``text``, ``json``, ``jsonl``, ``srt``, ``vtt`` and ``tsv``. The
subtitle formats share one cue builder (:mod:`voxcli.render.cues`), whose
module docs describe how cues are cut and timed.
"""

from __future__ import annotations

import os

from voxcli.errors import UsageError
from voxcli.render.cues import Cue, build_cues
from voxcli.render.json_ import render_json, render_jsonl, transcript_to_dict
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.quality import CueReport
from voxcli.render.subtitles import SRT, VTT, render_subtitles
from voxcli.render.text import render_text
from voxcli.render.tsv import render_tsv
from voxcli.transcript import Transcript

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "SUBTITLE_FORMATS",
    "TIMED_FORMATS",
    "Cue",
    "CueReport",
    "RenderOptions",
    "build_cues",
    "cue_report",
    "format_for_path",
    "render",
    "render_with_report",
    "transcript_to_dict",
]

FORMATS: tuple[str, ...] = ("text", "json", "jsonl", "srt", "vtt", "tsv")
TIMED_FORMATS: frozenset[str] = frozenset({"srt", "vtt", "tsv"})
SUBTITLE_FORMATS: frozenset[str] = frozenset({"srt", "vtt"})
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".srt": "srt",
    ".vtt": "vtt",
    ".tsv": "tsv",
}


def extension_of(fmt: str) -> str:
    """The file extension of a format's files (``.txt`` for text)."""
    return next(ext for ext, name in EXTENSIONS.items() if name == fmt)


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for by its extension (case-insensitive), else None."""
    _, ext = os.path.splitext(os.fspath(path))
    return EXTENSIONS.get(ext.lower())


def render(transcript: Transcript, fmt: str, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """Render ``transcript`` as ``fmt``; the result ends with one newline (or is "").

    Raises :class:`~voxcli.errors.UsageError` for an unknown format, a timed
    format on a transcript without timestamps, or ``highlight_words`` (srt and
    vtt only; ignored elsewhere) without word timestamps.
    """
    return render_with_report(transcript, fmt, options)[0]


def render_with_report(
    transcript: Transcript, fmt: str, options: RenderOptions = DEFAULT_OPTIONS
) -> tuple[str, CueReport | None]:
    """Like :func:`render`, with a report on the cues written (None for formats without cues).

    The report comes from the same build of the cues as the text, so its
    counts are those of the file (``[Speaker 1] `` prefixes included for SRT).
    """
    if fmt == "srt":
        return render_subtitles(transcript, SRT, options)
    if fmt == "vtt":
        return render_subtitles(transcript, VTT, options)
    if fmt == "text":
        return render_text(transcript, options), None
    if fmt == "json":
        return render_json(transcript), None
    if fmt == "jsonl":
        return render_jsonl(transcript), None
    if fmt == "tsv":
        return render_tsv(transcript, options), None
    raise UsageError(f"unknown --format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")


def cue_report(
    transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS, fmt: str = "vtt"
) -> CueReport:
    """The report :func:`render_with_report` gives for ``fmt`` (``srt`` or ``vtt``).

    Prefer :func:`render_with_report`, which renders once. Raises UsageError
    like :func:`render` for a transcript without timestamps, and ValueError
    for a format without cues.
    """
    if fmt not in SUBTITLE_FORMATS:
        raise ValueError(f"the {fmt} format has no cues")
    report = render_with_report(transcript, fmt, options)[1]
    assert report is not None
    return report
