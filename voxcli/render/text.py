"""Plain text: the transcript wrapped for reading, one paragraph per speaker turn.

Without speakers, the transcript's text (or, if empty, its segments joined)
is wrapped at ``text_width`` columns, keeping the paragraph breaks it has.
With speakers (``--diarize``), consecutive segments of one speaker form a
turn, printed as ``Speaker 1: ...``, and turns are separated by a blank line.
``text_width`` 0 keeps each paragraph on one line. Words are never broken.
"""

from __future__ import annotations

import re
import textwrap

from voxcli.render.clean import clean_speaker, clean_text, finite_time
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.transcript import Transcript

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _wrap(paragraph: str, width: int) -> str:
    paragraph = clean_text(paragraph)
    if width <= 0 or len(paragraph) <= width:
        return paragraph
    return textwrap.fill(paragraph, width, break_long_words=False, break_on_hyphens=False)


def _turns(transcript: Transcript) -> list[tuple[str | None, str]]:
    """(speaker, text) per speaker turn, in time order when every segment is timed."""
    items: list[tuple[float, str | None, str]]
    segment_speakers = any(s.speaker for s in transcript.segments)
    word_speakers = any(w.speaker for w in transcript.words)
    if transcript.segments and (segment_speakers or not word_speakers):
        items = [
            (finite_time(s.start) or 0.0, s.speaker, s.text)
            for s in transcript.segments
            if clean_text(s.text)
        ]
        if all(finite_time(s.start) is not None for s in transcript.segments):
            items.sort(key=lambda item: item[0])
    else:
        items = [
            (finite_time(w.start) or 0.0, w.speaker, w.text)
            for w in transcript.words
            if clean_text(w.text)
        ]
        items.sort(key=lambda item: item[0])
    turns: list[tuple[str | None, list[str]]] = []
    for _, raw_speaker, text in items:
        speaker = clean_speaker(raw_speaker)
        if turns and turns[-1][0] == speaker:
            turns[-1][1].append(text)
        else:
            turns.append((speaker, [text]))
    return [(speaker, clean_text(" ".join(texts))) for speaker, texts in turns]


def has_speakers(transcript: Transcript) -> bool:
    """True when any segment or word names a speaker."""
    return any(s.speaker for s in transcript.segments) or any(w.speaker for w in transcript.words)


def render_text(transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """Readable plain text; "" when there is nothing to say."""
    width = options.text_width
    if has_speakers(transcript):
        paragraphs = [
            _wrap(f"{speaker}: {text}" if speaker else text, width)
            for speaker, text in _turns(transcript)
        ]
    else:
        text = transcript.text
        if not text.strip():
            text = " ".join(text for _, text in _turns(transcript))
        paragraphs = [_wrap(p, width) for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    if not paragraphs:
        return ""
    return "\n\n".join(paragraphs) + "\n"
