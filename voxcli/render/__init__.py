"""Output renderers: pure functions from a :class:`~voxcli.transcript.Transcript` to text.

The entry point is :func:`render`::

    render(transcript, "srt", RenderOptions(max_line_width=37))

and :func:`render_with_report` gives the text together with a
:class:`~voxcli.render.quality.CueReport` on the very cues written (for ``--verbose``)::

    text, report = render_with_report(transcript, "srt", options)

The formats (``text``, ``json``, ``jsonl``, ``srt``, ``vtt``, ``tsv``) are listed once,
in :mod:`voxcli.render.formats`. The subtitle formats share one cue builder
(:mod:`voxcli.render.cues`), whose module docs describe how cues are cut and timed.
Importing this package is cheap: renderers are imported when they first run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxcli.errors import UsageError
from voxcli.render.formats import (
    EXTENSIONS,
    FORMATS,
    REGISTRY,
    SUBTITLE_FORMATS,
    TIMED_FORMATS,
    Format,
    extension_of,
    format_for_path,
    format_named,
)
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions

if TYPE_CHECKING:
    from voxcli.render.quality import CueReport
    from voxcli.transcript import Transcript

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "REGISTRY",
    "SUBTITLE_FORMATS",
    "TIMED_FORMATS",
    "Format",
    "RenderOptions",
    "cue_report",
    "extension_of",
    "format_for_path",
    "format_named",
    "render",
    "render_with_report",
]


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
    counts are those of the file (SRT's ``[Speaker 1] `` labels included where shown).
    """
    entry = REGISTRY.get(fmt)
    if entry is None:
        raise UsageError(f"unknown --format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    return entry.render(transcript, options)


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
