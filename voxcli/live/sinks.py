"""Where a live session's events go: lines or subtitles on stdout, a view on a terminal,
a file checkpointed while the session runs.

Every sink has ``on_event(event)``, ``tick()`` (called now and then, events or not) and
``close()``. They are driven from one thread. Text from the network is cleaned of
control characters before it is written anywhere.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

from voxcli.console import Say, printable, silent
from voxcli.errors import UsageError, VoxcliError
from voxcli.live.types import (
    ConnectionState,
    LanguageDetected,
    LiveEvent,
    SegmentDone,
    TextDelta,
    TurnEvent,
)
from voxcli.output.sinks import write_atomic, write_stdout
from voxcli.render.clean import clean_text, utf8_safe
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.timefmt import round_seconds
from voxcli.transcript import Segment, Transcript, speaker_label

if TYPE_CHECKING:
    from voxcli.live.transcript import LiveTranscript
    from voxcli.render.cues import Cue
    from voxcli.render.subtitles import SubtitleFormat

Clock = Callable[[], float]


class LiveSink(Protocol):
    def on_event(self, event: LiveEvent) -> None: ...

    def tick(self) -> None: ...

    def close(self) -> None: ...


def _line_text(segment: SegmentDone) -> str:
    """A finished segment as one clean line, ``Speaker 1: `` first when it has a speaker."""
    text = clean_text(segment.text)
    speaker = clean_text(speaker_label(segment.speaker) or "")
    return f"{speaker}: {text}" if speaker and text else text


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def json_line(data: dict[str, object]) -> str:
    """One compact JSON object on one line; DEL, C1 controls and line separators escaped
    (``json.dumps`` leaves them raw), so no byte of it can steer a terminal."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class LineSink:
    """``-f text``: one line per finished segment; ``-f jsonl``: one object per event
    (``segment``, ``language``, ``turn``). Each is flushed as soon as it is written."""

    def __init__(self, out: TextIO, fmt: Literal["text", "jsonl"]) -> None:
        if fmt not in ("text", "jsonl"):
            raise UsageError(f"the {fmt} format cannot be streamed line by line")
        self._out = out
        self._jsonl = fmt == "jsonl"

    def on_event(self, event: LiveEvent) -> None:
        line = self._jsonl_line(event) if self._jsonl else self._text_line(event)
        if line is not None:
            write_stdout(line + "\n", self._out)

    @staticmethod
    def _text_line(event: LiveEvent) -> str | None:
        if isinstance(event, SegmentDone):
            return _line_text(event) or None
        return None

    @staticmethod
    def _jsonl_line(event: LiveEvent) -> str | None:
        if isinstance(event, SegmentDone):
            text = clean_text(event.text)
            if not text:
                return None
            speaker = speaker_label(event.speaker)
            return json_line(
                {
                    "type": "segment",
                    "start": round_seconds(event.start),
                    "end": round_seconds(event.end),
                    "text": text,
                    "speaker": utf8_safe(speaker) if speaker else None,
                }
            )
        if isinstance(event, LanguageDetected):
            return json_line({"type": "language", "language": utf8_safe(event.language)})
        if isinstance(event, TurnEvent):
            reason = utf8_safe(event.reason) if event.reason else None
            return json_line({"type": "turn", "kind": event.kind, "reason": reason})
        return None

    def tick(self) -> None:
        """Nothing to do between events."""

    def close(self) -> None:
        """Nothing is held back."""


class SubtitleSink:
    """SRT or WebVTT on stdout while the session runs.

    A segment's cues are written when the next segment arrives (the cue builder times
    a cue's end by the next one's start) or at :meth:`close`. Cues come from the same
    builder as ``transcribe``'s subtitles; numbering runs on across segments.
    """

    def __init__(
        self, out: TextIO, fmt: Literal["srt", "vtt"], options: RenderOptions = DEFAULT_OPTIONS
    ) -> None:
        from voxcli.render.subtitles import SRT, VTT

        formats = {"srt": SRT, "vtt": VTT}
        if fmt not in formats:
            raise UsageError(f"the {fmt} format is not a subtitle format")
        self._out = out
        self._format: SubtitleFormat = formats[fmt]
        self._options = options
        self._held: Segment | None = None
        self._previous_speaker: str | None = None  # labels show only where it changes
        self._language: str | None = None  # line breaks follow the language's grammar
        self._number = 0
        self._last_start = -1
        self._last_end = 0
        self._closed = False

    def on_event(self, event: LiveEvent) -> None:
        if isinstance(event, LanguageDetected):
            self._language = event.language
        if not isinstance(event, SegmentDone) or not clean_text(event.text):
            return
        segment = Segment(
            text=event.text,
            start=event.start,
            end=event.end,
            speaker=speaker_label(event.speaker),
            speaker_id=event.speaker,
        )
        if self._held is not None:
            self._write(self._cues(self._held, segment))
        self._held = segment

    def tick(self) -> None:
        """Nothing to do between events."""

    def close(self) -> None:
        """Write the held segment's cues (an empty WebVTT file is its header alone)."""
        if self._closed:
            return
        self._closed = True
        if self._held is not None:
            held, self._held = self._held, None
            self._write(self._cues(held, None))
        if self._number == 0 and self._format.empty_file:
            write_stdout(self._format.empty_file, self._out)

    def _cues(self, segment: Segment, following: Segment | None) -> list[Cue]:
        from voxcli.render.cues import build_cues

        def build(*segments: Segment) -> list[Cue]:
            transcript = Transcript(
                text=" ".join(s.text for s in segments),
                language=self._language,
                segments=segments,
            )
            return build_cues(
                transcript,
                self._options,
                speaker_prefix=self._format.speaker_shown,
                highlight=False,
                previous_speaker=self._previous_speaker,
            )

        if following is None:
            return build(segment)
        # The segment's own cues come first; their ends now respect the next start.
        return build(segment, following)[: len(build(segment))]

    def _write(self, cues: list[Cue]) -> None:
        from dataclasses import replace

        if cues:
            self._previous_speaker = cues[-1].speaker

        from voxcli.render.subtitles import cue_text
        from voxcli.render.timefmt import format_millis

        fmt = self._format
        parts = []
        for cue in cues:
            # Across segments, keep starts in order and cues apart (degenerate API times).
            start = max(cue.start_ms, self._last_end, self._last_start + 1)
            cue = replace(cue, start_ms=start, end_ms=max(cue.end_ms, start + 1))
            self._last_start, self._last_end = cue.start_ms, cue.end_ms
            self._number += 1
            timing = (
                f"{format_millis(cue.start_ms, fmt.decimal_marker)} --> "
                f"{format_millis(cue.end_ms, fmt.decimal_marker)}"
            )
            head = f"{self._number}\n{timing}" if fmt.numbered else timing
            lead = fmt.header if self._number == 1 else "\n"
            parts.append(f"{lead}{head}\n{cue_text(fmt, cue)}\n")
        if parts:
            write_stdout("".join(parts), self._out)


# --------------------------------------------------------------------------- terminal

_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"
_STATE_COLORS = {
    "connecting": "\x1b[33m",
    "connected": "\x1b[32m",
    "reconnecting": "\x1b[33m",
    "closed": "\x1b[31m",
}


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _tail(text: str, width: int) -> str:
    """The end of ``text`` that fits in ``width`` terminal cells (``…`` marking a cut)."""
    from rich.cells import get_character_cell_size

    if _cells(text) <= width:
        return text
    used = 1
    start = len(text)
    while start > 0 and used + get_character_cell_size(text[start - 1]) <= width:
        start -= 1
        used += get_character_cell_size(text[start])
    return "…" + text[start:]


def _head(text: str, width: int) -> str:
    """The start of ``text`` that fits in ``width`` terminal cells."""
    from rich.cells import set_cell_size

    return text if _cells(text) <= width else set_cell_size(text, width)


def _terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


def _clock_text(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class TerminalView:
    """Live captions on a terminal.

    Finished segments are committed as ordinary lines (``Speaker 1: ...``). Below them a
    live region of at most two lines is redrawn in place: the unfinished text (dimmed,
    its end when it is longer than the screen is wide) and, with ``status``, a status
    line (elapsed time, input level, connection state). Region lines never wrap, so the
    region is rewritten by moving the cursor up and clearing to the end of the screen.
    ``level`` gives the input level in dBFS; ``width`` the terminal's width.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        color: bool,
        status: bool = True,
        level: Callable[[], float | None] | None = None,
        clock: Clock = time.monotonic,
        width: Callable[[], int] | None = None,
    ) -> None:
        self._stream = stream
        self._color = color
        self._status = status
        self._level = level
        self._clock = clock
        self._width = width or (lambda: _terminal_width(stream))
        self._started = clock()
        self._pending = ""
        self._state: ConnectionState = ConnectionState("connecting")
        self._language: str | None = None
        self._drawn = 0
        self._closed = False

    def on_event(self, event: LiveEvent) -> None:
        committed: list[str] = []
        if isinstance(event, TextDelta):
            self._pending += event.text
        elif isinstance(event, SegmentDone):
            self._pending = ""
            line = self._committed_line(event)
            if line:
                committed.append(line)
        elif isinstance(event, ConnectionState):
            self._state = event
        elif isinstance(event, LanguageDetected):
            self._language = event.language
        else:
            return
        self._redraw(committed)

    def tick(self) -> None:
        """Refresh the status line (elapsed time and level change without events)."""
        if self._status:
            self._redraw([])

    def close(self) -> None:
        """Keep any unfinished text as a line; remove the live region."""
        if self._closed:
            return
        self._closed = True
        text = printable(clean_text(self._pending))
        self._pending = ""
        self._status = False
        self._redraw([text] if text else [])

    def _style(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self._color and text else text

    def _committed_line(self, event: SegmentDone) -> str:
        text = printable(clean_text(event.text))
        if not text:
            return ""
        speaker = printable(clean_text(speaker_label(event.speaker) or ""))
        return f"{self._style(_BOLD, speaker + ':')} {text}" if speaker else text

    def _status_line(self, width: int) -> str:
        state = self._state
        parts = [_clock_text(self._clock() - self._started)]
        level = self._level() if self._level is not None else None
        if level is not None and math.isfinite(level):
            parts.append(f"input {level:4.0f} dB")
        if self._language:
            parts.append(printable(self._language))
        label: str = state.state
        if state.detail:
            label += f" ({printable(clean_text(state.detail))})"
        if state.dropped_seconds > 0:
            label += f", {state.dropped_seconds:.1f} s of audio dropped"
        plain = "  ".join(parts)
        label = _head(label, max(0, width - _cells(plain) - 2))
        colour = _STATE_COLORS.get(state.state, "")
        return f"{plain}  {self._style(colour, label)}" if label else plain

    def _region(self) -> list[str]:
        width = max(10, self._width() - 1)
        lines = []
        pending = printable(clean_text(self._pending))
        if pending:
            lines.append(self._style(_DIM, _tail(pending, width)))
        if self._status:
            lines.append(self._status_line(width))
        return lines

    def _redraw(self, committed: list[str]) -> None:
        parts = []
        if self._drawn > 1:
            parts.append(f"\x1b[{self._drawn - 1}A")
        if self._drawn:
            parts.append("\r\x1b[J")
        parts.extend(line + "\n" for line in committed)
        region = self._region()
        parts.append("\n".join(region))
        self._drawn = len(region)
        write_stdout("".join(parts), self._stream)


# --------------------------------------------------------------------------- checkpoints


class Checkpointer:
    """Keeps ``path`` holding the whole transcript so far, rendered as ``fmt``.

    Rewritten atomically (a temporary file, then a rename) at most every ``interval``
    seconds when the transcript has changed, checked on each event and :meth:`tick`,
    and once more on :meth:`close`; so a crash loses at most the last ``interval``
    seconds, and the file is always a complete document. The unfinished text is
    included as a last segment unless ``include_pending`` is False. A failed write
    during the session is reported through ``say`` and retried at the next interval;
    on :meth:`close` it raises.
    """

    def __init__(
        self,
        path: Path,
        fmt: str,
        transcript: LiveTranscript,
        options: RenderOptions = DEFAULT_OPTIONS,
        *,
        interval: float = 5.0,
        clock: Clock = time.monotonic,
        include_pending: bool = True,
        duration: Callable[[], float | None] | None = None,
        say: Say = silent,
    ) -> None:
        from voxcli.render.formats import format_named

        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(f"interval must be a number of seconds >= 0, not {interval!r}")
        self.path = Path(path)
        self.format = format_named("text" if fmt == "txt" else fmt).name
        self._transcript = transcript
        self._options = options
        self._interval = interval
        self._clock = clock
        self._include_pending = include_pending
        self._duration = duration
        self._say = say
        self._written = transcript.version  # nothing new yet: no file until there is
        self._last_try: float | None = None
        self.writes = 0

    def on_event(self, event: LiveEvent) -> None:
        self.tick()

    def tick(self) -> None:
        """Write if the transcript changed and the interval has passed since the last try."""
        if self._transcript.version == self._written:
            return
        now = self._clock()
        if self._last_try is not None and now - self._last_try < self._interval:
            return
        self._last_try = now
        try:
            self._write()
        except VoxcliError as exc:
            self._say(f"checkpoint of {self.path} failed, will retry: {exc.message}")

    def close(self) -> None:
        """The final write (also of an empty transcript, so the file exists)."""
        if self.writes == 0 or self._transcript.version != self._written:
            self._write()

    def _write(self) -> None:
        from voxcli.render import render

        version = self._transcript.version
        snapshot = self._transcript.snapshot(
            include_pending=self._include_pending,
            duration=self._duration() if self._duration is not None else None,
        )
        write_atomic(self.path, render(snapshot, self.format, self._options))
        self._written = version
        self.writes += 1
