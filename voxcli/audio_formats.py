"""File extensions voxcli treats as audio; a light module (no numpy) so completion can use it."""

from __future__ import annotations

AUDIO_EXTENSIONS = (
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".oga",
    ".opus",
    ".m4a",
    ".mp4",
    ".aac",
    ".webm",
    ".aiff",
    ".aif",
)
"""Lower-case suffixes of the audio files voxcli reads (decoded, or sent as they are)."""
