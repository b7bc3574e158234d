"""Rendering options, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from voxcli.errors import UsageError


def _check(ok: bool, flag: str, requirement: str, value: object) -> None:
    if not ok:
        raise UsageError(f"{flag} must be {requirement} (got {value!r})")


@dataclass(frozen=True)
class RenderOptions:
    """How subtitles are shaped and plain text is wrapped.

    The defaults follow Netflix's English timed-text guidelines: 42 characters
    per line, 2 lines per cue, cues from 5/6 s to 7 s, 17 characters per
    second. ``max_chars_per_second`` is reported (see :func:`cue_report`),
    never enforced. ``text_width`` wraps the ``text`` format at that many
    characters (80, a terminal's width); 0 turns wrapping off, one paragraph
    per line. A word longer than a width is never broken.
    """

    max_line_width: int = 42
    max_lines: int = 2
    max_cue_duration: float = 7.0
    min_cue_duration: float = 0.833
    max_chars_per_second: float = 17.0
    highlight_words: bool = False
    text_width: int = 80

    def __post_init__(self) -> None:
        _check(self.max_line_width >= 10, "--max-line-width", "at least 10", self.max_line_width)
        _check(self.max_lines >= 1, "--max-lines", "at least 1", self.max_lines)
        _check(
            math.isfinite(self.max_cue_duration) and self.max_cue_duration >= 0.001,
            "--max-cue-duration",
            "a positive number of seconds",
            self.max_cue_duration,
        )
        _check(
            math.isfinite(self.min_cue_duration) and self.min_cue_duration >= 0,
            "--min-cue-duration",
            "zero or a positive number of seconds",
            self.min_cue_duration,
        )
        if self.min_cue_duration > self.max_cue_duration:
            raise UsageError(
                f"--min-cue-duration ({self.min_cue_duration:g}) must not exceed "
                f"--max-cue-duration ({self.max_cue_duration:g})"
            )
        _check(
            math.isfinite(self.max_chars_per_second) and self.max_chars_per_second > 0,
            "--max-chars-per-second",
            "a positive number",
            self.max_chars_per_second,
        )
        _check(
            self.text_width == 0 or self.text_width >= 10,
            "--text-width",
            "0 (no wrapping) or at least 10",
            self.text_width,
        )


DEFAULT_OPTIONS = RenderOptions()
"""The defaults, shared (the options are immutable)."""
