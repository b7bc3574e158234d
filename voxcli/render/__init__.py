"""Output renderers: pure functions from a :class:`~voxcli.transcript.Transcript` to text.

Import-light (standard library only). The entry point is :func:`render`::

    render(transcript, "srt", RenderOptions(max_line_width=37))

Formats: ``text``, ``json``, ``jsonl``, ``srt``, ``vtt`` and ``tsv``. The
subtitle formats share one cue builder (:mod:`voxcli.render.cues`), whose
module docs describe how cues are cut and timed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from voxcli.errors import UsageError
from voxcli.render.cues import Cue, build_cues, require_times
from voxcli.render.json_ import render_json, render_jsonl, transcript_to_dict
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.srt import render_srt
from voxcli.render.text import render_text
from voxcli.render.timefmt import to_millis
from voxcli.render.tsv import render_tsv
from voxcli.render.vtt import render_vtt
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
    if fmt == "text":
        return render_text(transcript, options)
    if fmt == "json":
        return render_json(transcript)
    if fmt == "jsonl":
        return render_jsonl(transcript)
    if fmt == "srt":
        return render_srt(transcript, options)
    if fmt == "vtt":
        return render_vtt(transcript, options)
    if fmt == "tsv":
        return render_tsv(transcript, options)
    raise UsageError(f"unknown --format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")


@dataclass(frozen=True)
class CueReport:
    """Facts about the cues a transcript makes, for the ``--verbose`` summary."""

    cues: int
    too_fast: int  # cues faster than max_chars_per_second
    max_chars_per_second: float  # the fastest cue's reading speed (0 without cues)
    too_short: int  # cues under min_cue_duration (the next cue left no room)
    overlong_lines: int  # lines wider than max_line_width (a single word too long)

    def summary(self, options: RenderOptions) -> str:
        """One line for humans."""
        text = f"{self.cues} cues"
        if self.too_fast:
            text += (
                f", {self.too_fast} faster than {options.max_chars_per_second:g} characters/s"
                f" (fastest {self.max_chars_per_second:.1f})"
            )
        if self.too_short:
            text += f", {self.too_short} shorter than {options.min_cue_duration:g} s"
        if self.overlong_lines:
            text += f", {self.overlong_lines} lines wider than {options.max_line_width}"
        return text


def cue_report(transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS) -> CueReport:
    """Count the cues (as VTT shapes them) and those that read too fast.

    Reading speed counts every character of the cue, spaces included, lines
    joined by one space. Raises UsageError like :func:`render` for a
    transcript without timestamps.
    """
    require_times(transcript, "srt")
    cues = build_cues(transcript, options, highlight=False)
    speeds = [len(c.text) / max(c.end - c.start, 0.001) for c in cues]
    min_ms = to_millis(options.min_cue_duration)
    return CueReport(
        cues=len(cues),
        too_fast=sum(speed > options.max_chars_per_second for speed in speeds),
        max_chars_per_second=max(speeds, default=0.0),
        too_short=sum(c.end_ms - c.start_ms < min_ms for c in cues),
        overlong_lines=sum(len(line) > options.max_line_width for c in cues for line in c.lines),
    )
