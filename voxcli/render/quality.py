"""Cue quality facts (reading speed, short cues, wide lines) for the ``--verbose`` summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voxcli.render.cues import Cue
from voxcli.render.options import RenderOptions
from voxcli.render.timefmt import to_millis


@dataclass(frozen=True)
class CueReport:
    """What the viewer of one subtitle file gets.

    ``cues`` counts the cues written to the file. The other counts are per
    subtitle, as the viewer reads it: with ``--highlight-words`` a subtitle is
    written as one cue per word (``highlighted`` says how many subtitles were),
    and its reading speed and duration are those of the whole subtitle.
    """

    cues: int
    too_fast: int  # subtitles faster than max_chars_per_second
    max_chars_per_second: float  # the fastest subtitle's reading speed (0 without cues)
    too_short: int  # subtitles under min_cue_duration (the next cue left no room)
    overlong_lines: int  # lines wider than max_line_width (a single word too long)
    highlighted: int = 0  # subtitles written word by word (--highlight-words)

    def summary(self, options: RenderOptions) -> str:
        """One line for humans."""
        text = f"{self.cues} cues"
        if self.highlighted:
            text += f" ({self.highlighted} subtitles highlighted word by word)"
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


def measure(
    subtitles: Sequence[Cue],
    options: RenderOptions,
    *,
    written: int,
    highlighted: bool = False,
    shown_speaker: Callable[[str], str] | None = None,
) -> CueReport:
    """Report on ``subtitles`` (the cues before highlighting), written as ``written`` cues.

    ``shown_speaker`` gives the on-screen text a format puts before the first
    line of a cue where the speaker changes (SRT's ``[Speaker 1] ``); it counts
    toward that line's width and the reading speed. Reading speed counts every
    character shown, spaces included, lines joined by one space.
    """

    def shown_lines(cue: Cue) -> list[str]:
        lines = list(cue.lines)
        if shown_speaker is not None and cue.speaker and cue.show_speaker:
            lines[0] = shown_speaker(cue.speaker) + lines[0]
        return lines

    shown = [shown_lines(cue) for cue in subtitles]
    speeds = [
        len(" ".join(lines)) / (max(cue.end_ms - cue.start_ms, 1) / 1000)
        for cue, lines in zip(subtitles, shown, strict=True)
    ]
    min_ms = to_millis(options.min_cue_duration)
    return CueReport(
        cues=written,
        too_fast=sum(speed > options.max_chars_per_second for speed in speeds),
        max_chars_per_second=max(speeds, default=0.0),
        too_short=sum(c.end_ms - c.start_ms < min_ms for c in subtitles),
        overlong_lines=sum(len(line) > options.max_line_width for ls in shown for line in ls),
        highlighted=len(subtitles) if highlighted else 0,
    )
