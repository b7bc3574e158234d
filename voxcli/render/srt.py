"""SubRip (``.srt``) output."""

from __future__ import annotations

from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.subtitles import SRT
from voxcli.transcript import Transcript


def render_srt(transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """Numbered cues, ``HH:MM:SS,mmm`` times, speakers as a ``[Speaker 1]`` prefix."""
    return SRT.render(transcript, options)
