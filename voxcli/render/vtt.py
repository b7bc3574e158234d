"""WebVTT (``.vtt``) output."""

from __future__ import annotations

from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.subtitles import VTT
from voxcli.transcript import Transcript


def render_vtt(transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """``WEBVTT`` header, ``HH:MM:SS.mmm`` times, escaped text, ``<v Speaker 1>`` voices."""
    return VTT.render(transcript, options)
