"""Timestamp rounding and formatting."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxcli.render.timefmt import format_millis, format_timestamp, round_seconds, to_millis


@pytest.mark.parametrize(
    ("seconds", "millis"),
    [
        (0.0, 0),
        (0.0004, 0),
        (0.0005, 1),
        (1.9995, 2000),
        (59.9995, 60000),
        (59.9996, 60000),
        (59.9994, 59999),
        (0.1 + 0.2, 300),
        (3599.9995, 3600000),
        (-1.0, 0),
    ],
)
def test_to_millis_rounds_half_up_on_the_printed_decimal(seconds: float, millis: int) -> None:
    assert to_millis(seconds) == millis


def test_to_millis_rejects_non_finite() -> None:
    with pytest.raises(ValueError):
        to_millis(float("nan"))
    with pytest.raises(ValueError):
        to_millis(float("inf"))


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0, "00:00:00,000", "00:00:00.000"),
        (59.9996, "00:01:00,000", "00:01:00.000"),
        (59.9995, "00:01:00,000", "00:01:00.000"),
        (3599.9999, "01:00:00,000", "01:00:00.000"),
        (3661.001, "01:01:01,001", "01:01:01.001"),
        (30 * 3600 + 0.5, "30:00:00,500", "30:00:00.500"),
        (100 * 3600 + 62.25, "100:01:02,250", "100:01:02.250"),
    ],
)
def test_format_timestamp(seconds: float, srt: str, vtt: str) -> None:
    assert format_timestamp(seconds) == srt
    assert format_timestamp(seconds, ".") == vtt


def test_round_seconds_for_json() -> None:
    assert round_seconds(1.23456) == 1.235
    assert round_seconds(2.0005) == 2.001
    assert round_seconds(None) is None
    assert round_seconds(float("inf")) is None


# No deadline (timings are noisy here); the same examples every run in CI.
SETTINGS = settings(deadline=None, derandomize=bool(os.environ.get("CI")))
_STAMP = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})$")


@SETTINGS
@given(st.floats(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False))
def test_every_timestamp_is_well_formed_and_exact(seconds: float) -> None:
    text = format_timestamp(seconds)
    match = _STAMP.match(text)
    assert match, text
    hours, minutes, secs, millis = map(int, match.groups())
    total = ((hours * 60 + minutes) * 60 + secs) * 1000 + millis
    assert total == to_millis(seconds)
    assert abs(total / 1000 - seconds) <= 0.0005 + 1e-9 * seconds


@SETTINGS
@given(st.integers(min_value=0, max_value=10**11))
def test_format_millis_round_trips(millis: int) -> None:
    hours, minutes, rest = format_millis(millis, ".").split(":")
    secs, ms = rest.split(".")
    assert ((int(hours) * 60 + int(minutes)) * 60 + int(secs)) * 1000 + int(ms) == millis
