"""SRT and WebVTT: one writer, and a typed table of what differs (whisper's idea).

A :class:`SubtitleFormat` holds the few things that differ (header, decimal
marker, numbering, how text is escaped and how a speaker is marked) as data
and small functions; :func:`render_subtitles` does the rest for both, from
one build of the cues, and reports on exactly the cues it wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voxcli.render.cues import (
    Cue,
    bracketed,
    build_cues,
    highlight_words,
    require_times,
    require_words,
)
from voxcli.render.options import RenderOptions
from voxcli.render.quality import CueReport, measure
from voxcli.render.timefmt import format_millis
from voxcli.transcript import Transcript


@dataclass(frozen=True)
class SubtitleFormat:
    """What distinguishes one subtitle format from another."""

    name: str
    header: str  # written before the first cue
    empty_file: str  # the whole file when there is no cue
    decimal_marker: str  # between seconds and milliseconds
    numbered: bool  # a counter line (from 1) before each timing line
    escape: Callable[[str], str]  # a word of cue text -> the format's markup
    speaker_mark: Callable[[str], str]  # a speaker -> the markup opening the cue's first line
    speaker_shown: bool  # the mark is text on screen, taking room on the first line


def _without_arrows(text: str) -> str:
    while "-->" in text:
        text = text.replace("-->", "->")
    return text


def _srt_speaker(speaker: str) -> str:
    return bracketed(_without_arrows(speaker))


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_voice(speaker: str) -> str:
    return f"<v {speaker.replace('&', '&amp;').replace('>', '&gt;')}>"


SRT = SubtitleFormat(
    name="srt",
    header="",
    empty_file="",
    decimal_marker=",",
    numbered=True,
    escape=_without_arrows,  # SubRip has no escaping; only a cue's timing line may hold -->
    speaker_mark=_srt_speaker,
    speaker_shown=True,
)
VTT = SubtitleFormat(
    name="vtt",
    header="WEBVTT\n\n",
    empty_file="WEBVTT\n",
    decimal_marker=".",
    numbered=False,
    escape=_vtt_escape,
    speaker_mark=_vtt_voice,
    speaker_shown=False,
)


def cue_text(fmt: SubtitleFormat, cue: Cue) -> str:
    """The cue's lines, escaped, highlighted and marked with its speaker."""
    lines = []
    index = 0
    for words in cue.line_words:
        parts = []
        for word in words:
            escaped = fmt.escape(word)
            parts.append(f"<u>{escaped}</u>" if index == cue.highlight else escaped)
            index += 1
        lines.append(" ".join(parts))
    if cue.speaker:
        lines[0] = fmt.speaker_mark(cue.speaker) + lines[0]
    return "\n".join(lines)


def write_cues(fmt: SubtitleFormat, cues: list[Cue]) -> str:
    """The whole file: header, then each cue as a block, blocks separated by a blank line."""
    if not cues:
        return fmt.empty_file
    blocks = []
    for number, cue in enumerate(cues, start=1):
        timing = (
            f"{format_millis(cue.start_ms, fmt.decimal_marker)} --> "
            f"{format_millis(cue.end_ms, fmt.decimal_marker)}"
        )
        head = f"{number}\n{timing}" if fmt.numbered else timing
        blocks.append(f"{head}\n{cue_text(fmt, cue)}\n")
    return fmt.header + "\n".join(blocks)


def render_subtitles(
    transcript: Transcript, fmt: SubtitleFormat, options: RenderOptions
) -> tuple[str, CueReport]:
    """The file's text and a report on the very cues written to it."""
    require_times(transcript, fmt.name)
    if options.highlight_words:
        require_words(transcript)
    subtitles = build_cues(transcript, options, speaker_prefix=fmt.speaker_shown, highlight=False)
    cues = highlight_words(subtitles) if options.highlight_words else subtitles
    report = measure(
        subtitles,
        options,
        written=len(cues),
        highlighted=options.highlight_words,
        shown_speaker=fmt.speaker_mark if fmt.speaker_shown else None,
    )
    return write_cues(fmt, cues), report
