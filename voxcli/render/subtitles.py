r"""SRT and WebVTT: one writer, and a typed table of what differs (whisper's idea).

A :class:`SubtitleFormat` holds the few things that differ (header, decimal
marker, numbering, how text is escaped and how a speaker is marked) as data
and small functions; :func:`render_subtitles` does the rest for both, from
one build of the cues, and reports on exactly the cues it wrote.

Speakers: SRT shows ``[Speaker 1] `` as text, only where the speaker changes
(and on the first cue); WebVTT marks every cue with a voice span, which is
markup, not text.

SRT text is protected from markup. SubRip has no escaping, and players read
HTML-like tags (``<b>``, ``<font>``: ffmpeg drops anything that looks like
a tag, so ``x<y and z>w`` shows as ``xw``), ASS override blocks (``{\an8}``,
``{anything}`` is hidden) and ASS escapes (``\N``, ``\h``) in it. So that
what was said is what is shown, :func:`srt_escape` puts an invisible WORD
JOINER (U+2060) after each ``<`` and each backslash (no tag or escape can
start there, and the character still shows as itself), and writes braces as
their full-width forms (U+FF5B, U+FF5D): an ASS-based player
(ffmpeg, mpv, anything on libass) takes any ``{...}`` for an override block,
whatever follows the brace, and there is no escape every SRT reader knows.
``-->`` (the timing line's arrow) becomes ``->``. Checked with ffmpeg (SRT to
ASS and back to SRT), pysubs2 and the ``srt`` parser.
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
    speaker_shown: bool  # the mark is text on screen: only where the speaker changes


WORD_JOINER = "\u2060"
"""Invisible, no break opportunity: put after ``<`` and ``\\`` in SRT text (see module docs)."""

_SRT_TABLE = str.maketrans(
    {
        "<": "<" + WORD_JOINER,
        "\\": "\\" + WORD_JOINER,
        "{": "\uff5b",
        "}": "\uff5d",
    }
)


def _without_arrows(text: str) -> str:
    while "-->" in text:
        text = text.replace("-->", "->")
    return text


def srt_escape(text: str) -> str:
    """SRT cue text shown as it is by every player (see the module docs)."""
    return _without_arrows(text).translate(_SRT_TABLE)


def _srt_speaker(speaker: str) -> str:
    return bracketed(srt_escape(speaker))


def _vtt_escape(text: str) -> str:
    # The WORD JOINER after a backslash keeps ffmpeg from reading ``\N`` or ``\h`` as
    # ASS escapes when it converts WebVTT; it is invisible in any WebVTT player.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\" + WORD_JOINER)


def _vtt_voice(speaker: str) -> str:
    return f"<v {speaker.replace('&', '&amp;').replace('>', '&gt;')}>"


SRT = SubtitleFormat(
    name="srt",
    header="",
    empty_file="",
    decimal_marker=",",
    numbered=True,
    escape=srt_escape,
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
    """The cue's lines, escaped, highlighted and marked with its speaker (a shown mark
    only on a cue where the speaker changes, ``cue.show_speaker``)."""
    lines = []
    index = 0
    for words in cue.line_words:
        parts = []
        for word in words:
            escaped = fmt.escape(word)
            parts.append(f"<u>{escaped}</u>" if index == cue.highlight else escaped)
            index += 1
        lines.append(" ".join(parts))
    if cue.speaker and (cue.show_speaker or not fmt.speaker_shown):
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
        shown_speaker=bracketed if fmt.speaker_shown else None,
    )
    return write_cues(fmt, cues), report
