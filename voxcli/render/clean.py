"""Cleaning of the API's text and times, shared by every renderer.

Text from the API may hold any character: line breaks of every kind, control
characters and lone surrogates (which cannot be written as UTF-8). Times may
be missing, negative or not finite. These helpers make both safe to print.
"""

from __future__ import annotations

import math
import re

# Control characters that are not whitespace (whitespace is collapsed separately).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """Replace lone surrogates (never valid in UTF-8) with U+FFFD; nothing else changes."""
    return _SURROGATE.sub("\ufffd", text)


def clean_text(text: str) -> str:
    """Collapse all whitespace (line breaks of every kind included) to single spaces.

    Control characters are dropped and lone surrogates become U+FFFD, so the
    result is always safe to write.
    """
    return " ".join(utf8_safe(_CONTROL.sub("", text)).split())


def clean_speaker(speaker: str | None) -> str | None:
    """A speaker label cleaned like text; None when nothing is left."""
    return clean_text(speaker) or None if speaker else None


def finite_time(value: float | None) -> float | None:
    """A usable time in seconds, or None for a missing, negative or non-finite one."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return float(value)
