"""SRT and WebVTT writers: one writer, a few typed attributes apart (whisper's idea)."""

from __future__ import annotations

from dataclasses import dataclass

from voxcli.render.cues import Cue, build_cues, require_times
from voxcli.render.options import RenderOptions
from voxcli.render.timefmt import format_millis
from voxcli.transcript import Transcript


@dataclass(frozen=True)
class SubtitleFormat:
    """What distinguishes one subtitle format from another."""

    name: str
    header: str
    decimal_marker: str
    numbered: bool
    speaker_prefix: bool  # "[Speaker 1] " in the text (SRT); else a voice span (VTT)

    def escape(self, text: str) -> str:
        raise NotImplementedError

    def speaker_mark(self, speaker: str) -> str:
        raise NotImplementedError

    def cue_text(self, cue: Cue) -> str:
        """The cue's lines, escaped, highlighted and marked with its speaker."""
        lines = []
        index = 0
        for words in cue.line_words:
            parts = []
            for word in words:
                escaped = self.escape(word)
                parts.append(f"<u>{escaped}</u>" if index == cue.highlight else escaped)
                index += 1
            lines.append(" ".join(parts))
        if cue.speaker:
            lines[0] = self.speaker_mark(cue.speaker) + lines[0]
        return "\n".join(lines)

    def render_cues(self, cues: list[Cue]) -> str:
        blocks = []
        for number, cue in enumerate(cues, start=1):
            timing = (
                f"{format_millis(cue.start_ms, self.decimal_marker)} --> "
                f"{format_millis(cue.end_ms, self.decimal_marker)}"
            )
            head = f"{number}\n{timing}" if self.numbered else timing
            blocks.append(f"{head}\n{self.cue_text(cue)}\n")
        return self.header + "\n".join(blocks)

    def render(self, transcript: Transcript, options: RenderOptions) -> str:
        require_times(transcript, self.name)
        cues = build_cues(transcript, options, speaker_prefix=self.speaker_prefix)
        return self.render_cues(cues)


def _without_arrows(text: str) -> str:
    while "-->" in text:
        text = text.replace("-->", "->")
    return text


@dataclass(frozen=True)
class SrtFormat(SubtitleFormat):
    """SubRip: numbered cues, ``HH:MM:SS,mmm``, no escaping but never ``-->`` in text."""

    def escape(self, text: str) -> str:
        return _without_arrows(text)

    def speaker_mark(self, speaker: str) -> str:
        return f"[{_without_arrows(speaker)}] "


@dataclass(frozen=True)
class VttFormat(SubtitleFormat):
    """WebVTT: header, ``HH:MM:SS.mmm``, ``&``/``<``/``>`` escaped, voice spans."""

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def speaker_mark(self, speaker: str) -> str:
        annotation = speaker.replace("&", "&amp;").replace(">", "&gt;")
        return f"<v {annotation}>"

    def render_cues(self, cues: list[Cue]) -> str:
        body = super().render_cues(cues)
        return body if cues else self.header.rstrip("\n") + "\n"


SRT = SrtFormat(name="srt", header="", decimal_marker=",", numbered=True, speaker_prefix=True)
VTT = VttFormat(
    name="vtt", header="WEBVTT\n\n", decimal_marker=".", numbered=False, speaker_prefix=False
)
