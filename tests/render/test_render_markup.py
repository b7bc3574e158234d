"""What was said is what is shown: tricky text through ffmpeg, pysubs2 and the ``srt`` and
``webvtt-py`` parsers, in SRT and WebVTT.

SubRip has no escaping, and its readers interpret HTML-like tags (``<b>``, ``<font>``),
ASS override blocks (``{\\an8}``) and ASS escapes (``\\N``). voxcli's SRT puts a WORD JOINER
(U+2060, invisible) after each ``<`` and backslash, and writes braces full-width; every
reader must then show the text itself: the same cue count, times and text (WORD JOINERs
removed; braces full-width, by design). ffmpeg tests are skipped without ffmpeg.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pysubs2
import pytest
import srt
import webvtt

from voxcli.render import RenderOptions, render
from voxcli.render.cues import Cue, build_cues
from voxcli.transcript import Segment, Transcript, Word

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
WJ = "\u2060"

TRICKY = Transcript(
    text="",
    segments=(
        Segment("<b>bold</b> and <i>it</i>, x<y but z>w.", 0.0, 3.0, "Speaker 1"),
        Segment(
            "{\\an8}top, c{d}e, back\\N slash\\h &amp; a & b <font color=red>red</font>",
            3.5,
            7.0,
            "Speaker 1",
        ),
        Segment("1<2 --> <3 [x] {y} \\", 7.5, 9.0, "Tom <b>&</b> {Jerry}"),
        Segment("<u>under</u> <s>struck</s> </i> <", 9.5, 11.0, "Speaker 2"),
    ),
)


def displayed(text: str) -> str:
    """What SRT must show for raw text: braces full-width, arrows shortened, else as is."""
    while "-->" in text:
        text = text.replace("-->", "->")
    return text.replace("{", "\uff5b").replace("}", "\uff5d")


def expected_srt(t: Transcript) -> list[tuple[int, int, str]]:
    """(start ms, end ms, shown text) for each cue, from the cue builder."""
    out = []
    for cue in build_cues(t, speaker_prefix=True):
        lines = [displayed(line) for line in cue.lines]
        if cue.show_speaker and cue.speaker:
            lines[0] = f"[{displayed(cue.speaker)}] " + lines[0]
        out.append((cue.start_ms, cue.end_ms, "\n".join(lines)))
    return out


def ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def ffmpeg(source: Path, *args: str) -> str:
    assert FFMPEG is not None
    result = subprocess.run(
        [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def ass_events(path: Path) -> list[tuple[int, int, str]]:
    """(start, end, text) of an ASS file's Dialogue lines (centiseconds to ms; ``\\N``
    becomes a line break, libass's ``\\{`` ``\\}`` escapes their brace)."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("Dialogue:"):
            continue
        fields = line.split(",", 9)

        def stamp(value: str) -> int:
            h, m, s = value.split(":")
            return round(((int(h) * 60 + int(m)) * 60 + float(s)) * 1000)

        text = fields[9].replace("\\N", "\n").replace("\\{", "{").replace("\\}", "}")
        events.append((stamp(fields[1]), stamp(fields[2]), text))
    return events


def test_srt_text_is_protected_from_markup() -> None:
    out = render(TRICKY, "srt")
    assert "<b>" not in out and "{" not in out and "}" not in out
    assert not re.search(f"[<\\\\](?!{WJ})", out)
    assert f"<{WJ}b>bold<{WJ}/b>" in out and f"back\\{WJ}N" in out
    assert "\uff5b\\" + WJ + "an8\uff5dtop" in out


def test_the_srt_parser_shows_what_was_said() -> None:
    parsed = list(srt.parse(render(TRICKY, "srt")))
    got = [(ms(s.start), ms(s.end), s.content.replace(WJ, "")) for s in parsed]
    assert got == expected_srt(TRICKY)
    assert got[0][2].startswith("[Speaker 1] <b>bold</b>")
    assert not got[1][2].startswith("[")  # the same speaker: no label


def test_pysubs2_shows_what_was_said_in_srt() -> None:
    subs = pysubs2.SSAFile.from_string(render(TRICKY, "srt"), format_="srt")
    got = [(e.start, e.end, e.plaintext.replace(WJ, "")) for e in subs]
    assert got == expected_srt(TRICKY)


@needs_ffmpeg
def test_ffmpeg_shows_what_was_said_in_srt(tmp_path: Path) -> None:
    source = tmp_path / "tricky.srt"
    source.write_text(render(TRICKY, "srt"), encoding="utf-8")
    ffmpeg(source, str(tmp_path / "tricky.ass"))
    expected = expected_srt(TRICKY)
    events = ass_events(tmp_path / "tricky.ass")
    assert len(events) == len(expected)
    for (start, end, text), (e_start, e_end, e_text) in zip(events, expected, strict=True):
        assert abs(start - e_start) <= 5 and abs(end - e_end) <= 5  # ASS has centiseconds
        assert text.replace(WJ, "") == e_text
    # And ffmpeg writing SRT back: the same cues, the same text.
    again = list(srt.parse(ffmpeg(source, "-f", "srt", "-")))
    assert [(ms(s.start), ms(s.end), s.content.replace(WJ, "")) for s in again] == expected


@needs_ffmpeg
def test_ffmpeg_and_pysubs2_keep_karaoke_underlines_and_nothing_else(tmp_path: Path) -> None:
    words = tuple(
        Word(w, k * 0.5, k * 0.5 + 0.4, "Speaker 1") for k, w in enumerate(["<b>x</b>", "{a}", "z"])
    )
    t = Transcript(text="", words=words)
    out = render(t, "srt", RenderOptions(highlight_words=True))
    source = tmp_path / "k.srt"
    source.write_text(out, encoding="utf-8")
    ffmpeg(source, str(tmp_path / "k.ass"))
    texts = [text for _, _, text in ass_events(tmp_path / "k.ass")]
    assert len(texts) == 3
    for k, text in enumerate(texts):
        assert text.count("{\\u1}") == 1  # the one underline, as ASS
        plain = re.sub(r"\{\\u[01]\}", "", text).replace(WJ, "")
        assert plain == "[Speaker 1] <b>x</b> \uff5ba\uff5d z", k
    for event in pysubs2.SSAFile.from_string(out, format_="srt"):
        assert event.plaintext.replace(WJ, "") == "[Speaker 1] <b>x</b> \uff5ba\uff5d z"


VTT_TRICKY = Transcript(
    text="",
    segments=tuple(
        Segment(s.text, s.start, s.end, "Speaker 1" if k % 2 else "Speaker 2")
        for k, s in enumerate(TRICKY.segments)
    ),
)


def vtt_ms(stamp: str) -> int:
    hours, minutes, rest = stamp.split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def expected_vtt(t: Transcript) -> list[tuple[int, int, str]]:
    return [(c.start_ms, c.end_ms, "\n".join(c.lines)) for c in build_cues(t)]


def test_webvtt_py_shows_what_was_said_in_vtt() -> None:
    captions = webvtt.from_buffer(io.StringIO(render(VTT_TRICKY, "vtt"))).captions
    got = [(vtt_ms(c.start), vtt_ms(c.end), html.unescape(c.text)) for c in captions]
    assert [(a, b, text.replace(WJ, "")) for a, b, text in got] == expected_vtt(VTT_TRICKY)


@needs_ffmpeg
def test_ffmpeg_shows_what_was_said_in_vtt(tmp_path: Path) -> None:
    source = tmp_path / "tricky.vtt"
    source.write_text(render(VTT_TRICKY, "vtt"), encoding="utf-8")
    ffmpeg(source, str(tmp_path / "tricky.ass"))
    events = ass_events(tmp_path / "tricky.ass")
    expected = expected_vtt(VTT_TRICKY)
    assert len(events) == len(expected)
    for (start, end, text), (e_start, e_end, e_text) in zip(events, expected, strict=True):
        assert abs(start - e_start) <= 5 and abs(end - e_end) <= 5
        # The WORD JOINER after a backslash keeps ffmpeg from reading "\N" as a line break.
        assert text.replace(WJ, "") == e_text


def test_pysubs2_reads_our_vtt_cues_and_times() -> None:
    # pysubs2 reads WebVTT like SRT: it does not decode &lt; and friends and takes {...}
    # for ASS overrides, so only the cues and their times are compared.
    subs = pysubs2.SSAFile.from_string(render(VTT_TRICKY, "vtt"), format_="vtt")
    assert [(e.start, e.end) for e in subs] == [(a, b) for a, b, _ in expected_vtt(VTT_TRICKY)]


def test_cue_objects_keep_raw_text() -> None:
    cue: Cue = build_cues(TRICKY)[0]
    assert cue.lines[0].startswith("<b>bold</b>")
