"""Audio file kinds by name and by content: extensions, MIME types, magic bytes.

A light module (standard library only), so completion can use it."""

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
    ".wma",
    ".amr",
    ".mka",
)
VIDEO_EXTENSIONS = (".mkv", ".mov", ".avi", ".m4v", ".ts", ".mts", ".wmv", ".flv", ".3gp")
"""Video containers whose first audio stream voxcli decodes (with PyAV)."""
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS + VIDEO_EXTENSIONS
"""Every suffix ``-r`` picks and completion offers: the one list of what voxcli reads."""

CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
    ".wma": "audio/x-ms-wma",
    ".amr": "audio/amr",
    ".mka": "audio/x-matroska",
}
"""MIME type sent with an upload, by extension."""

PASSTHROUGH_KINDS = {
    ".m4a": frozenset({".m4a"}),
    ".mp4": frozenset({".m4a"}),
    ".webm": frozenset({".webm"}),
    ".aac": frozenset({".aac", ".mp3"}),  # ADTS, possibly behind an ID3 tag
}
"""Containers the API accepts but libsndfile cannot decode (sent as they are), with the
sniffed kinds that are plausible for each extension."""
PASSTHROUGH_SUFFIXES = frozenset(PASSTHROUGH_KINDS)
CONTAINER_NAMES = {".m4a": "MP4", ".mp4": "MP4", ".webm": "WEBM", ".aac": "AAC"}
ISO_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"})


def sniff_suffix(head: bytes) -> str | None:
    """Guess a file suffix from the first bytes of an audio file, or None."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return ".wav"
    if head[:4] == b"fLaC":
        return ".flac"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return ".aiff"
    if head[:4] == b"caff":
        return ".caf"
    if head[:4] == b".snd":
        return ".au"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm"
    if head[4:8] in ISO_BOXES:
        return ".m4a"
    if head[:3] == b"ID3":
        return ".mp3"
    if head[:4] == b"ADIF":
        return ".aac"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # ADTS (AAC) has layer bits 00; MPEG audio layers I-III have 01..11
        return ".aac" if head[1] & 0x06 == 0 else ".mp3"
    return None
