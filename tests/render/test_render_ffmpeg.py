"""ffmpeg, an independent consumer, accepts our subtitles (skipped without ffmpeg)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import srt

from voxcli.render import RenderOptions, render
from voxcli.transcript import Segment, Transcript, Word

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")

SAMPLE = Transcript(
    text="",
    segments=(
        Segment("Hello & welcome to <the> show --> tonight.", 0.0, 2.5, "Speaker 1"),
        Segment(
            "Thanks!\nGlad to be here, really glad, it has been a long time.", 2.5, 9.0, "Speaker 2"
        ),
        Segment("Zero length.", 9.5, 9.5, "Speaker 1"),
        Segment("Much later: café, 漢字, 😀.", 30 * 3600 + 0.9995, 30 * 3600 + 3.0),
    ),
)


def ffmpeg(source: Path, target: Path) -> None:
    assert FFMPEG is not None
    result = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(source),
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert target.stat().st_size > 0


def test_ffmpeg_converts_our_srt_to_ass(tmp_path: Path) -> None:
    source = tmp_path / "out.srt"
    source.write_text(render(SAMPLE, "srt"), encoding="utf-8")
    ffmpeg(source, tmp_path / "out.ass")
    ass = (tmp_path / "out.ass").read_text(encoding="utf-8")
    assert ass.count("Dialogue:") == render(SAMPLE, "srt").count(" --> ")
    assert "Dialogue: 0,0:00:00.00,0:00:02.42,Default,,0,0,0,,[Speaker 1] Hello & welcome" in ass
    # ASS itself cannot go past 9:59:59.99, so ffmpeg clamps our 30-hour cue: not our bug.


def test_ffmpeg_converts_our_vtt_to_srt(tmp_path: Path) -> None:
    source = tmp_path / "out.vtt"
    vtt = render(SAMPLE, "vtt")
    source.write_text(vtt, encoding="utf-8")
    ffmpeg(source, tmp_path / "out.srt")
    converted = list(srt.parse((tmp_path / "out.srt").read_text(encoding="utf-8")))
    assert len(converted) == vtt.count(" --> ")
    assert "Much later" in converted[-1].content


def test_ffmpeg_accepts_karaoke_cues(tmp_path: Path) -> None:
    words = tuple(Word(w, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(["one", "&", "<two>"]))
    t = Transcript(text="", words=words)
    options = RenderOptions(highlight_words=True)
    for fmt, target in (("srt", "k.ass"), ("vtt", "k.srt")):
        source = tmp_path / f"k.{fmt}"
        source.write_text(render(t, fmt, options), encoding="utf-8")
        ffmpeg(source, tmp_path / target)
