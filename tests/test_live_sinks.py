"""``voxcli live`` outputs: the live transcript, lines and JSON Lines, held-back subtitles
(checked by the ``srt`` and ``webvtt-py`` parsers), the terminal view (played on a small
terminal emulator) and the checkpointed file."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from rich.cells import cell_len

from voxcli.errors import InputError
from voxcli.live.sinks import Checkpointer, LineSink, SubtitleSink, TerminalView, json_line
from voxcli.live.transcript import LiveTranscript
from voxcli.live.types import (
    ConnectionState,
    LanguageDetected,
    LiveEvent,
    SegmentDone,
    TextDelta,
    TurnEvent,
)
from voxcli.output.sinks import StdoutClosed
from voxcli.render import FORMATS, render
from voxcli.transcript import Segment, Transcript

SEGMENTS = [
    SegmentDone("Hello there, this is the first segment.", 0.0, 2.5, "speaker_1"),
    SegmentDone(
        "And this one goes on for quite a while, long enough that the cue builder has to "
        "cut it into several cues, each of at most two lines of forty-two characters, "
        "which is what a reader can take in.",
        3.0,
        12.0,
        "speaker_2",
    ),
    SegmentDone("Short one.", 12.5, 14.0, "speaker_1"),
    SegmentDone("After a pause & <tags>.", 20.0, 21.0, None),
]


class Recorder(io.StringIO):
    """A stream that remembers what had been written at each flush (and may be a tty)."""

    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self.tty = tty
        self.flushed: list[str] = []

    def isatty(self) -> bool:
        return self.tty

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def batch_transcript(events: list[SegmentDone]) -> Transcript:
    """What ``transcribe`` would render for the same segments."""
    live = LiveTranscript()
    for event in events:
        live.apply(event)
    return live.snapshot()


# --------------------------------------------------------------------------- transcript


def test_live_transcript_accumulates_deltas_until_a_segment() -> None:
    live = LiveTranscript(model="voxtral-mini-transcribe-realtime-latest", source="-")
    assert live.apply(TextDelta("Hel"))
    assert live.apply(TextDelta("lo"))
    assert live.pending == "Hello"
    assert not live.apply(TextDelta(""))
    assert not live.apply(ConnectionState("connected"))
    assert not live.apply(TurnEvent("end", "silence"))
    assert live.apply(LanguageDetected("en"))
    assert live.apply(SegmentDone(" Hello. ", 0.0, 1.0, "speaker_2"))
    assert live.pending == ""
    live.apply(TextDelta("Wor"))
    snap = live.snapshot()
    assert snap.segments == (Segment("Hello.", 0.0, 1.0, "Speaker 2", speaker_id="speaker_2"),)
    assert (snap.text, snap.language, snap.model, snap.source) == (
        "Hello.",
        "en",
        "voxtral-mini-transcribe-realtime-latest",
        "-",
    )
    with_pending = live.snapshot(include_pending=True, duration=3.0)
    assert with_pending.segments[-1] == Segment("Wor", 1.0, None, None)
    assert with_pending.text == "Hello. Wor"
    assert with_pending.duration == 3.0


def test_live_transcript_version_counts_changes() -> None:
    live = LiveTranscript()
    versions = [live.version]
    for event in (TextDelta("a"), ConnectionState("connected"), SegmentDone("", None, None)):
        live.apply(event)
        versions.append(live.version)
    assert versions == [0, 1, 1, 2]  # an empty segment still clears the unfinished text
    assert live.segment_count == 0 and live.pending == ""


def test_live_transcript_is_safe_across_threads() -> None:
    live = LiveTranscript()
    snapshots: list[Transcript] = []

    def writer(offset: int) -> None:
        for i in range(300):
            live.apply(TextDelta("x"))
            live.apply(SegmentDone(f"s{offset + i}", float(i), float(i) + 0.5))

    threads = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(3)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        snapshots.append(live.snapshot(include_pending=True))
    for thread in threads:
        thread.join()
    assert live.segment_count == 900
    for snap in snapshots:
        assert snap.text == " ".join(s.text for s in snap.segments)


# --------------------------------------------------------------------------- lines


def test_text_lines_are_written_and_flushed_one_per_segment() -> None:
    out = Recorder()
    sink = LineSink(out, "text")
    sink.on_event(TextDelta("Hello"))
    sink.on_event(ConnectionState("connected"))
    assert out.getvalue() == "" and out.flushed == []
    sink.on_event(SegmentDone("Hello\nthere.\x1b[2J\x07", 0.0, 1.0, "speaker_1"))
    assert out.flushed == ["Speaker 1: Hello there.[2J\n"]
    sink.on_event(SegmentDone("  ", 1.0, 2.0))  # nothing to say: no empty line
    sink.on_event(SegmentDone("Next.", 1.0, 2.0, "Alice"))
    sink.on_event(SegmentDone("Last.", 2.0, 3.0))
    sink.close()
    assert out.flushed[1:] == [
        "Speaker 1: Hello there.[2J\nAlice: Next.\n",
        "Speaker 1: Hello there.[2J\nAlice: Next.\nLast.\n",
    ]


def test_jsonl_has_one_object_per_event_flushed_at_once() -> None:
    out = Recorder()
    sink = LineSink(out, "jsonl")
    events: list[LiveEvent] = [
        TextDelta("ignored"),
        LanguageDetected("fr"),
        TurnEvent("start"),
        SegmentDone("Bonjour\u0085 \x9b31m\u2028à tous.", 0.1234, 1.9996, "speaker_1"),
        TurnEvent("end", "silence"),
        ConnectionState("reconnecting", "dropped"),
    ]
    for event in events:
        sink.on_event(event)
    assert len(out.flushed) == 4
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"type": "language", "language": "fr"},
        {"type": "turn", "kind": "start", "reason": None},
        {
            "type": "segment",
            "start": 0.123,
            "end": 2.0,
            "text": "Bonjour 31m à tous.",
            "speaker": "Speaker 1",
        },
        {"type": "turn", "kind": "end", "reason": "silence"},
    ]
    assert all(flushed.endswith("\n") for flushed in out.flushed)


def test_json_line_escapes_what_could_steer_a_terminal() -> None:
    line = json_line({"text": "a\x9bb\x7fc\u2028d\ne"})
    assert re.search("[\x00-\x1f\x7f-\x9f\u2028]", line) is None
    assert json.loads(line) == {"text": "a\x9bb\x7fc\u2028d\ne"}


def test_closed_stdout_becomes_our_error() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    with pytest.raises(StdoutClosed):
        LineSink(Broken(), "text").on_event(SegmentDone("x", 0, 1))


# --------------------------------------------------------------------------- subtitles


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_hold_back_one_segment_and_match_the_batch_renderer(fmt: Any) -> None:
    out = Recorder()
    sink = SubtitleSink(out, fmt)
    sink.on_event(SEGMENTS[0])
    assert out.getvalue() == ""  # its end depends on the next start
    sink.on_event(TextDelta("ignored"))
    sink.on_event(SEGMENTS[1])
    first = out.getvalue()
    assert "Hello there" in first and "goes on" not in first
    for event in SEGMENTS[2:]:
        sink.on_event(event)
    assert "After a pause" not in out.getvalue()
    sink.close()
    sink.close()  # once only
    text = out.getvalue()
    assert text == render(batch_transcript(SEGMENTS), fmt)
    if fmt == "srt":
        cues = list(srt.parse(text))
        assert [c.index for c in cues] == list(range(1, len(cues) + 1))
        assert len(cues) > len(SEGMENTS)  # the long segment made several cues
        assert cues[0].content.startswith("[Speaker 1] Hello")
    else:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
        assert text.startswith("WEBVTT\n\n") and text.count("WEBVTT") == 1
        assert captions[-1].text == "After a pause &amp; &lt;tags&gt;."
        assert [c.voice for c in captions[:1]] == ["Speaker 1"]
    starts = [c.start_ms for c in _cue_times(text, fmt)]
    ends = [c.end_ms for c in _cue_times(text, fmt)]
    assert starts == sorted(starts)
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_label_a_speaker_only_where_it_changes_like_the_batch_renderer(
    fmt: Any,
) -> None:
    same = [
        SegmentDone("One speaker starts here.", 0.0, 2.0, "speaker_1"),
        SegmentDone("The same speaker goes on.", 2.5, 4.0, "speaker_1"),
        SegmentDone("Another one answers.", 4.5, 6.0, "speaker_2"),
    ]
    out = Recorder()
    sink = SubtitleSink(out, fmt)
    for event in same:
        sink.on_event(event)
    sink.close()
    assert out.getvalue() == render(batch_transcript(same), fmt)
    if fmt == "srt":
        assert out.getvalue().count("[Speaker 1]") == 1


class _Times:
    def __init__(self, start_ms: int, end_ms: int) -> None:
        self.start_ms, self.end_ms = start_ms, end_ms


def _cue_times(text: str, fmt: str) -> list[_Times]:
    pattern = r"(\d+):(\d\d):(\d\d)[,.](\d{3}) --> (\d+):(\d\d):(\d\d)[,.](\d{3})"
    times = []
    for m in re.finditer(pattern, text):
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, m.groups())
        times.append(
            _Times(((h1 * 60 + m1) * 60 + s1) * 1000 + ms1, ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2)
        )
    assert times and all(t.end_ms > t.start_ms for t in times)
    return times


def test_subtitle_cue_starting_before_the_last_one_ends_is_kept_apart() -> None:
    out = Recorder()
    sink = SubtitleSink(out, "srt")
    for event in (
        SegmentDone("One.", 1.0, 3.0),
        SegmentDone("Two, overlapping.", 2.0, 4.0),
        SegmentDone("Three, same start.", 2.0, 5.0),
    ):
        sink.on_event(event)
    sink.close()
    cues = list(srt.parse(out.getvalue()))
    assert [c.index for c in cues] == [1, 2, 3]
    for before, after in itertools.pairwise(cues):
        assert before.end <= after.start and after.start < after.end


@pytest.mark.parametrize(("fmt", "empty"), [("srt", ""), ("vtt", "WEBVTT\n")])
def test_subtitles_of_a_silent_session(fmt: Any, empty: str) -> None:
    out = Recorder()
    sink = SubtitleSink(out, fmt)
    sink.on_event(SegmentDone("   ", 0.0, 1.0))
    sink.close()
    assert out.getvalue() == empty


# --------------------------------------------------------------------------- terminal

_CSI = re.compile(r"\x1b\[(\d*)([A-Za-z])")


class Screen:
    """Just enough of a terminal for TerminalView: text, CR, LF (as CR LF, like a tty),
    cursor up, erase to end of screen, SGR (ignored). Anything else fails the test."""

    def __init__(self) -> None:
        self.lines = [""]
        self.row = 0
        self.col = 0

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            m = _CSI.match(text, i)
            if m:
                count, command = int(m.group(1) or 1), m.group(2)
                if command == "A":
                    self.row = max(0, self.row - count)
                elif command == "J":
                    self.lines[self.row] = self.lines[self.row][: self.col]
                    del self.lines[self.row + 1 :]
                else:
                    assert command == "m", f"unexpected escape {m.group()!r}"
                i = m.end()
                continue
            ch = text[i]
            assert ch == "\n" or ch == "\r" or ch >= " ", f"raw control {ch!r} reached the tty"
            if ch == "\n":
                self.row += 1
                self.col = 0
                if self.row == len(self.lines):
                    self.lines.append("")
            elif ch == "\r":
                self.col = 0
            else:
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[: self.col] + ch + line[self.col + 1 :]
                self.col += 1
            i += 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def play(view: TerminalView, out: Recorder, events: list[LiveEvent]) -> Screen:
    for event in events:
        view.on_event(event)
    screen = Screen()
    screen.feed(out.getvalue())
    return screen


def test_terminal_view_rewrites_unfinished_text_in_place_and_commits_lines() -> None:
    out = Recorder(tty=True)
    clock = FakeClock()
    view = TerminalView(out, color=False, level=lambda: -20.4, clock=clock, width=lambda: 60)
    screen = play(view, out, [ConnectionState("connected")])
    assert screen.lines == ["00:00  input  -20 dB  connected"]
    clock.now += 65
    screen = play(view, out, [TextDelta("Hello"), TextDelta(" wor")])
    assert screen.lines == ["Hello wor", "01:05  input  -20 dB  connected"]
    screen = play(view, out, [SegmentDone("Hello world.", 0.0, 1.0, "speaker_1")])
    assert screen.lines == ["Speaker 1: Hello world.", "01:05  input  -20 dB  connected"]
    screen = play(
        view,
        out,
        [LanguageDetected("en"), ConnectionState("reconnecting", "server closed", 1.5)],
    )
    assert (
        screen.lines[-1]
        == ("01:05  input  -20 dB  en  reconnecting (server closed), 1.5 s of audio dropped")[:59]
    )
    screen = play(view, out, [TextDelta("x" * 100), SegmentDone("Second.", 1.0, 2.0)])
    assert screen.lines[:2] == ["Speaker 1: Hello world.", "Second."]
    assert len(screen.lines) == 3  # the region never grew: it was rewritten in place
    # Every redraw starts by going back to the region's first line and clearing from there.
    writes = [b[len(a) :] for a, b in itertools.pairwise(["", *out.flushed])]
    assert len(writes) == 8
    assert all(re.match(r"(\x1b\[1A)?\r\x1b\[J", w) for w in writes[1:])
    assert sum(w.startswith("\x1b[1A") for w in writes) >= 3


def test_terminal_view_keeps_long_and_wide_text_on_one_line() -> None:
    out = Recorder(tty=True)
    view = TerminalView(out, color=False, status=False, width=lambda: 40)
    screen = play(view, out, [TextDelta("word " * 30 + "end")])
    assert len(screen.lines) == 1
    assert screen.lines[0].startswith("…") and screen.lines[0].endswith("word end")
    assert cell_len(screen.lines[0]) <= 39
    view.on_event(SegmentDone("", None, None))
    view.on_event(TextDelta("漢字" * 30))
    screen = Screen()
    screen.feed(out.getvalue())
    assert cell_len(screen.lines[-1]) <= 39 and screen.lines[-1].endswith("漢字")


def test_terminal_view_colours_only_when_asked_and_strips_network_controls() -> None:
    plain, coloured = Recorder(tty=True), Recorder(tty=True)
    events: list[LiveEvent] = [
        TextDelta("\x1b]0;pwned\x07hi"),
        SegmentDone("\x1b[31mred\x1b[0m", 0, 1, "speaker_1"),
    ]
    for out, color in ((plain, False), (coloured, True)):
        play(TerminalView(out, color=color, width=lambda: 50), out, events)
    assert "\x1b[2m" not in plain.getvalue() and "\x1b[0m" not in plain.getvalue()
    assert "\x1b[2m]0;pwnedhi\x1b[0m" in coloured.getvalue()  # the unfinished text is dim
    screens = []
    for out in (plain, coloured):
        screen = Screen()
        screen.feed(out.getvalue())  # fails on any control character from the events
        screens.append(screen.lines)
    assert screens[0] == screens[1]
    assert screens[0][0] == "Speaker 1: [31mred[0m"


def test_terminal_view_close_keeps_unfinished_text_and_clears_the_status() -> None:
    out = Recorder(tty=True)
    view = TerminalView(out, color=True, level=lambda: None, width=lambda: 50)
    view.on_event(SegmentDone("Done.", 0, 1))
    view.on_event(TextDelta("half a"))
    view.tick()
    view.close()
    view.close()
    screen = Screen()
    screen.feed(out.getvalue())
    assert screen.lines == ["Done.", "half a", ""]


# --------------------------------------------------------------------------- checkpoints


def apply_all(live: LiveTranscript, sink: Checkpointer, events: list[LiveEvent]) -> None:
    for event in events:
        live.apply(event)
        sink.on_event(event)


def test_checkpoints_at_the_interval_and_on_close(tmp_path: Path) -> None:
    path = tmp_path / "out" / "live.json"
    live = LiveTranscript(model="m")
    clock = FakeClock()
    checkpoint = Checkpointer(path, "json", live, interval=5.0, clock=clock)
    checkpoint.tick()
    assert not path.exists()  # nothing to say yet

    def segments_on_disk() -> list[str]:
        return [s["text"] for s in json.loads(path.read_text())["segments"]]

    apply_all(live, checkpoint, [SEGMENTS[0]])
    assert segments_on_disk() == ["Hello there, this is the first segment."]  # the first at once
    clock.now += 1
    apply_all(live, checkpoint, [SEGMENTS[1], TextDelta("Sho")])
    clock.now += 3.9
    checkpoint.tick()
    assert len(segments_on_disk()) == 1 and checkpoint.writes == 1
    clock.now += 0.1
    checkpoint.tick()
    assert len(segments_on_disk()) == 3  # two segments and the unfinished text
    assert segments_on_disk()[-1] == "Sho"
    clock.now += 10
    checkpoint.tick()
    assert checkpoint.writes == 2  # nothing changed: no write
    apply_all(live, checkpoint, [SEGMENTS[2]])
    assert checkpoint.writes == 3
    apply_all(live, checkpoint, [SEGMENTS[3]])
    assert checkpoint.writes == 3
    checkpoint.close()
    assert checkpoint.writes == 4
    assert segments_on_disk() == [s.text.strip() for s in SEGMENTS]
    checkpoint.close()
    assert checkpoint.writes == 4
    assert [p.name for p in path.parent.iterdir()] == ["live.json"]  # no temporary left


def test_a_failed_checkpoint_leaves_the_previous_file_and_is_retried(
    tmp_path: Path, mocker: Any
) -> None:
    path = tmp_path / "out" / "live.srt"
    live = LiveTranscript()
    clock = FakeClock()
    said: list[str] = []
    checkpoint = Checkpointer(path, "srt", live, interval=2.0, clock=clock, say=said.append)
    apply_all(live, checkpoint, [SEGMENTS[0]])
    before = path.read_text()
    assert len(list(srt.parse(before))) == 1

    # The rename fails (as if the disk filled up, or the process died just before it).
    replace = mocker.patch("voxcli.output.sinks.os.replace", side_effect=OSError(28, "No space"))
    clock.now += 2
    apply_all(live, checkpoint, [SEGMENTS[1]])
    assert replace.called and said and "will retry" in said[0]
    assert path.read_text() == before
    assert [p.name for p in path.parent.iterdir()] == ["live.srt"]

    clock.now += 1
    checkpoint.tick()
    assert replace.call_count == 1  # the retry waits for the interval too
    with pytest.raises(InputError, match="cannot write"):
        checkpoint.close()
    mocker.stopall()
    checkpoint.close()
    assert len(list(srt.parse(path.read_text()))) > 2


@pytest.mark.parametrize("fmt", [*FORMATS, "txt"])
def test_every_format_checkpoints_a_complete_document(tmp_path: Path, fmt: str) -> None:
    live = LiveTranscript(model="m")
    name = "text" if fmt == "txt" else fmt
    path = tmp_path / f"live.{fmt}"
    clock = FakeClock()
    checkpoint = Checkpointer(path, fmt, live, interval=0.0, clock=clock)
    assert checkpoint.format == name
    apply_all(live, checkpoint, [TextDelta("only unfinished text")])
    assert path.read_text() == render(live.snapshot(include_pending=True), name)
    apply_all(live, checkpoint, [*SEGMENTS[:2], TextDelta("and more")])
    checkpoint.close()
    text = path.read_text()
    assert text == render(live.snapshot(include_pending=True), name)
    assert "and more" in text
    if name == "json":
        assert json.loads(text)["segments"][-1]["text"] == "and more"
    if name == "jsonl":
        assert len([json.loads(line) for line in text.splitlines()]) == 1
    if name == "srt":
        assert list(srt.parse(text))
    if name == "vtt":
        assert webvtt.from_buffer(io.StringIO(text)).captions


def test_close_writes_an_empty_session_so_the_file_exists(tmp_path: Path) -> None:
    path = tmp_path / "live.vtt"
    Checkpointer(path, "vtt", LiveTranscript()).close()
    assert path.read_text() == "WEBVTT\n"


_CHECKPOINT_LOOP = """
import sys
from pathlib import Path
from voxcli.live.sinks import Checkpointer
from voxcli.live.transcript import LiveTranscript
from voxcli.live.types import SegmentDone

live = LiveTranscript()
checkpoint = Checkpointer(Path(sys.argv[1]), "srt", live, interval=0.0)
for i in range(10**6):
    event = SegmentDone("segment number %d " % i * 5, i * 2.0, i * 2.0 + 1.5, "speaker_1")
    live.apply(event)
    checkpoint.on_event(event)
    if i == 3:
        print("ready", flush=True)
"""


def test_kill_9_mid_session_leaves_a_complete_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "out" / "live.srt"
    process = subprocess.Popen(
        [sys.executable, "-c", _CHECKPOINT_LOOP, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(0.3)  # rewriting as fast as it can
    finally:
        process.kill()
        process.wait(10)
    cues = list(srt.parse(path.read_text()))
    assert len(cues) >= 4
    assert [c.index for c in cues] == list(range(1, len(cues) + 1))
    assert all("segment number" in c.content for c in cues)
