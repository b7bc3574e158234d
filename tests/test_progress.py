"""The progress display on a terminal (issue 15, item 25), asserting on what Rich writes."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from voxcli.output.progress import RichProgress

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


@pytest.fixture(autouse=True)
def _a_real_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")  # Rich draws nothing on a dumb one


def _display(width: int, total: int) -> tuple[RichProgress, io.StringIO]:
    stream = io.StringIO()
    console = Console(
        file=stream, force_terminal=True, width=width, color_system=None, highlight=False
    )
    progress = RichProgress(console)
    progress.start(total)
    return progress, stream


def _frame(progress: RichProgress, stream: io.StringIO) -> list[str]:
    """The lines of the last frame drawn."""
    stream.seek(0)
    stream.truncate()
    progress._bar.refresh()  # type: ignore[union-attr]
    lines = [line.rstrip() for line in _CONTROL.sub("\n", stream.getvalue()).split("\n")]
    progress.stop()
    return [line for line in lines if line.strip()]


def test_a_split_recording_counts_its_parts():
    progress, stream = _display(100, 1)
    progress.begin(0, "talk.wav")
    progress.parts(0, 2, 5, 1)
    [line] = _frame(progress, stream)
    assert "2/5 parts" in line and "talk.wav" in line
    assert "files" not in line


def test_a_split_recording_among_others_gets_a_parts_row():
    progress, stream = _display(100, 3)
    progress.begin(0, "talk.wav")
    progress.parts(0, 2, 5, 1)
    lines = _frame(progress, stream)
    assert "0/3 files" in lines[0]
    assert any("2/5 parts" in line and "talk.wav" in line for line in lines[1:])


def test_waiting_for_the_api_once_the_upload_is_complete():
    progress, stream = _display(100, 1)
    progress.begin(0, "big.wav")
    progress.uploaded(0, 5_000_000, 10_000_000)
    progress.uploaded(0, 10_000_000, 10_000_000)
    lines = _frame(progress, stream)
    assert "big.wav waiting for the API" in lines[0]
    assert not any("uploading" in line for line in lines)


def test_a_small_upload_also_says_waiting_for_the_api():
    progress, stream = _display(100, 1)
    progress.begin(0, "small.wav")
    progress.uploaded(0, 1000, 1000)
    [line] = _frame(progress, stream)
    assert "small.wav waiting for the API" in line


def test_a_long_name_is_cut_in_the_middle_and_the_counter_stays():
    name = "a-very-long-recording-name-from-the-studio-session-2024-final-mix.wav"
    progress, stream = _display(60, 12)
    progress.begin(0, name)
    [line] = _frame(progress, stream)
    assert "0/12 files" in line
    assert len(line) <= 60
    shown = line.split()[-1]
    assert "…" in shown
    head, tail = shown.split("…")
    assert name.startswith(head) and name.endswith(tail) and len(head) > 2 and len(tail) > 2


def test_more_counts_requests_in_flight_not_inputs_being_prepared():
    progress, stream = _display(100, 20)
    for index in range(8):  # eight inputs handed to workers (decoding, probing...)
        progress.begin(index, f"{index}.wav")
    for index in (2, 4, 6):  # three of them are sending
        progress.uploaded(index, 10, 100)
    [line] = _frame(progress, stream)
    assert "2.wav (+2 more)" in line


def test_parts_in_flight_count_as_requests():
    progress, stream = _display(100, 4)
    for index in range(4):
        progress.begin(index, f"{index}.wav")
    progress.uploaded(0, 10, 100)
    progress.parts(1, 0, 6, 3)  # a split recording with three parts being sent
    lines = _frame(progress, stream)
    assert "0.wav (+3 more)" in lines[0]
