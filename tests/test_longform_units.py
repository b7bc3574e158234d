"""Unit tests for voxcli.longform (planning, merging) and voxcli.cache."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxcli.api import TranscriptionParams
from voxcli.audio import AudioInfo
from voxcli.commands.transcribe.request import TranscribeFlags, build_request
from voxcli.config import resolve_settings
from voxcli.engine import longform
from voxcli.engine.cache import PartCache, part_key
from voxcli.engine.longform import SplitOptions, plan_split
from voxcli.engine.merge import merge_parts
from voxcli.env import MAX_UPLOAD_BYTES
from voxcli.errors import InputError, UsageError
from voxcli.paths import cache_dir
from voxcli.transcript import Segment, Transcript, Usage, Word

PARAMS = TranscriptionParams(model="voxtral-mini-latest")


def info(fmt: str = "WAV", seconds: float = 3600.0, size: int = 10_000_000) -> AudioInfo:
    decodable = fmt not in ("MP4", "WEBM", "AAC")
    return AudioInfo(
        path=Path("talk.x"),
        format=fmt,
        subtype=None,
        samplerate=44100 if decodable else None,
        channels=2 if decodable else None,
        frames=round(seconds * 44100) if decodable else None,
        duration=seconds if decodable else None,
        size=size,
        decodable=decodable,
    )


# --- planning ------------------------------------------------------------------------------------


def test_no_split_by_default_under_the_limit():
    assert (
        plan_split(info(seconds=3 * 3600), "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES)
        is None
    )


def test_split_minutes_splits_longer_recordings_only():
    options = SplitOptions(split_minutes=10, explicit=True)
    plan = plan_split(info(seconds=3600), "auto", PARAMS, options, limit=MAX_UPLOAD_BYTES)
    assert plan is not None
    assert plan.part_seconds == 600 and plan.search_seconds == 5.0
    assert "--split-minutes 10" in plan.reason
    # within the search window past the target: one request
    assert plan_split(info(seconds=604), "auto", PARAMS, options, limit=MAX_UPLOAD_BYTES) is None


def test_reencoded_upload_splits_only_beyond_the_flac_bound():
    # 16 kHz mono FLAC takes at most ~32 kB/s: 512 MB is ~4.4 hours of audio
    hours = (MAX_UPLOAD_BYTES - longform.FLAC_HEADER_BYTES) / 32_320 / 3600
    assert 4.3 < hours < 4.5
    assert (
        plan_split(info(seconds=4.3 * 3600), "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES)
        is None
    )
    plan = plan_split(
        info(seconds=5 * 3600), "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES
    )
    assert plan is not None and "512 MB" in plan.reason
    assert longform.flac_upper_bound(plan.part_seconds + plan.search_seconds) <= (MAX_UPLOAD_BYTES)


def test_original_upload_splits_on_the_file_size():
    big_mp3 = info("MP3", seconds=3600, size=MAX_UPLOAD_BYTES + 1)
    assert plan_split(big_mp3, "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES) is not None
    small_mp3 = info("MP3", seconds=3600, size=MAX_UPLOAD_BYTES)
    assert plan_split(small_mp3, "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES) is None
    wav = info("WAV", seconds=3600, size=MAX_UPLOAD_BYTES + 1)
    assert plan_split(wav, "original", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES) is not None
    assert (
        plan_split(wav, "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES) is None
    )  # its FLAC fits


def test_both_reasons_take_the_shorter_part(monkeypatch):
    options = SplitOptions(split_minutes=10, explicit=True)
    plan = plan_split(info(seconds=3600), "auto", PARAMS, options, limit=1_000_000)
    assert plan is not None
    assert plan.part_seconds < 31
    assert longform.flac_upper_bound(plan.part_seconds + plan.search_seconds) <= 1_000_000


@pytest.mark.parametrize("limit", [20_000, 100_000, 600_000, 10**7, 512 * 10**6])
def test_max_part_seconds_keeps_the_longest_part_under_the_limit(limit):
    part = longform.max_part_seconds(limit)
    longest = part + longform.search_seconds_for(part)
    assert longform.flac_upper_bound(longest) <= limit
    assert longform.flac_upper_bound(longest * 1.01) > limit * 0.9  # and is not wasteful


def test_diarize_does_not_stop_a_needed_split():
    diarize = TranscriptionParams(model="m", diarize=True)
    for options in (SplitOptions(), SplitOptions(split_minutes=60, explicit=False)):
        plan = plan_split(info(seconds=5 * 3600), "auto", diarize, options, limit=MAX_UPLOAD_BYTES)
        assert plan is not None


def test_a_recording_longer_than_one_request_holds_is_split_to_fit():
    params = TranscriptionParams(model="voxtral-mini-transcribe-latest")
    holds = SplitOptions(request_seconds=3600.0)
    assert plan_split(info(seconds=3500), "auto", params, holds, limit=MAX_UPLOAD_BYTES) is None
    plan = plan_split(info(seconds=2 * 3600), "auto", params, holds, limit=MAX_UPLOAD_BYTES)
    assert plan is not None
    assert plan.part_seconds + plan.search_seconds <= 3600
    assert "one voxtral-mini-transcribe-latest request holds about 1:00:00" in plan.reason
    both = SplitOptions(split_minutes=10, explicit=True, request_seconds=3600.0)
    plan = plan_split(info(seconds=2 * 3600), "auto", params, both, limit=MAX_UPLOAD_BYTES)
    assert plan is not None and plan.part_seconds == 600  # --split-minutes stays an upper bound


def test_undecodable_container_over_the_limit_is_an_input_error():
    with pytest.raises(InputError, match="cannot cut MP4"):
        plan_split(
            info("MP4", size=MAX_UPLOAD_BYTES + 1),
            "auto",
            PARAMS,
            SplitOptions(),
            limit=MAX_UPLOAD_BYTES,
        )
    assert (
        plan_split(info("MP4", size=1000), "auto", PARAMS, SplitOptions(), limit=MAX_UPLOAD_BYTES)
        is None
    )


@pytest.mark.parametrize("minutes", [0.0, -1.0, float("nan"), float("inf")])
def test_split_minutes_must_be_positive_and_finite(minutes):
    with pytest.raises(UsageError):
        build_request(
            TranscribeFlags(sources=("a.wav",), split_minutes=minutes),
            resolve_settings(env={}),
        )


# --- merging -------------------------------------------------------------------------------------


def part(text, segments=(), words=(), language="en", usage=None, model="voxtral-mini-2602"):
    return Transcript(
        text=text,
        language=language,
        model=model,
        segments=tuple(Segment(t, s, e) for t, s, e in segments),
        words=tuple(Word(t, s, e) for t, s, e in words),
        usage=usage,
    )


def test_merge_offsets_segments_and_words():
    merged = merge_parts(
        [
            (0.0, 10.0, part("one two", [("one two", 0.5, 9.0)], [("one", 0.5, 1), ("two", 8, 9)])),
            (10.0, 25.0, part("three", [("three", 1.0, 2.0)], [("three", 1.0, 2.0)])),
        ],
        source="talk.wav",
        duration=25.0,
    )
    assert merged.text == "one two three"
    assert [(s.text, s.start, s.end) for s in merged.segments] == [
        ("one two", 0.5, 9.0),
        ("three", 11.0, 12.0),
    ]
    assert [(w.text, w.start, w.end) for w in merged.words] == [
        ("one", 0.5, 1.0),
        ("two", 8.0, 9.0),
        ("three", 11.0, 12.0),
    ]
    assert merged.duration == 25.0 and merged.source == "talk.wav"
    assert merged.model == "voxtral-mini-2602"


def test_merge_clamps_overlaps_and_times_past_the_part():
    merged = merge_parts(
        [
            # the model claims speech past the part's end, and overlapping segments
            (0.0, 10.0, part("a b", [("a", 0.0, 6.0), ("b", 5.0, 12.0)])),
            (10.0, 20.0, part("c", [("c", 0.0, 3.0)])),
        ]
    )
    spans = [(s.start, s.end) for s in merged.segments]
    assert spans == [(0.0, 6.0), (6.0, 10.0), (10.0, 13.0)]


def test_merge_keeps_untimed_segments_in_place():
    merged = merge_parts(
        [(0.0, 5.0, part("x", [("x", None, None)])), (5.0, 9.0, part("y", [("y", 1.0, 2.0)]))]
    )
    assert [(s.text, s.start, s.end) for s in merged.segments] == [
        ("x", None, None),
        ("y", 6.0, 7.0),
    ]


def test_merge_sums_usage_and_votes_the_language():
    merged = merge_parts(
        [
            (0.0, 10.0, part("a", language="fr", usage=Usage(10, 2, 12, 10.0))),
            (10.0, 40.0, part("b", language="en", usage=Usage(30, 3, 33, 30.0))),
            (40.0, 50.0, part("c", language="fr", usage=None)),
        ]
    )
    assert merged.language == "en"  # 30 s of English beats 20 s of French
    assert merged.usage == Usage(40, 5, 45, 40.0)
    assert merge_parts([(0.0, 1.0, part("a", usage=None))]).usage is None


@pytest.mark.parametrize(
    ("texts", "joined"),
    [
        (["Hello.", "  World.  "], "Hello. World."),
        (["", "alone"], "alone"),
        (["今日は", "晴れです。"], "今日は晴れです。"),
        (["东京", "Tokyo"], "东京 Tokyo"),
    ],
)
def test_merge_joins_texts_sensibly(texts, joined):
    parts = [(float(i), float(i + 1), part(t)) for i, t in enumerate(texts)]
    assert merge_parts(parts).text == joined


spans = st.lists(
    st.tuples(st.floats(0, 30, allow_nan=False), st.floats(0, 30, allow_nan=False)),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 20), spans, spans), min_size=1, max_size=5))
def test_merged_times_are_ordered_and_inside_the_recording(raw_parts):
    parts, offset, part_of = [], 0.0, {}
    for length, segs, words in raw_parts:
        names = [f"s{len(part_of) + n}" for n in range(len(segs))]
        part_of.update((name, len(parts)) for name in names)
        transcript = part(
            "x",
            [(name, min(a, b), max(a, b)) for name, (a, b) in zip(names, segs, strict=True)],
            sorted(("w", min(a, b), max(a, b)) for a, b in words),
        )
        parts.append((offset, offset + length, transcript))
        offset += length
    merged = merge_parts(parts)
    for items in (merged.segments, merged.words):
        flat = [t for item in items for t in (item.start, item.end)]
        assert flat == sorted(flat)
        assert all(0.0 <= t <= offset for t in flat)
    # each segment stays inside its own part, or the parts of the pieces joined at their
    # boundaries (tests/test_merge_boundaries.py)
    for s in merged.segments:
        names = s.text.split()
        assert parts[part_of[names[0]]][0] <= s.start <= s.end <= parts[part_of[names[-1]]][1]
    in_time_order = [
        x.text for _, _, p in parts for x in sorted(p.segments, key=lambda x: (x.start, x.end))
    ]
    assert [name for s in merged.segments for name in s.text.split()] == in_time_order


# --- cache ---------------------------------------------------------------------------------------


def test_user_cache_dir_follows_xdg(tmp_path):
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "voxcli"
    assert cache_dir({}) == Path.home() / ".cache" / "voxcli"


def test_part_key_depends_on_everything_that_changes_the_answer():
    base = part_key("a" * 64, PARAMS, 0.0, 600.0, "flac")
    variants = [
        part_key("b" * 64, PARAMS, 0.0, 600.0, "flac"),
        part_key("a" * 64, PARAMS, 0.0, 600.5, "flac"),
        part_key("a" * 64, PARAMS, 0.1, 600.0, "flac"),
        part_key("a" * 64, PARAMS, 0.0, 600.0, "wav"),
        *(
            part_key(
                "a" * 64, TranscriptionParams(model="voxtral-mini-latest", **change), 0, 600, "flac"
            )
            for change in (
                {"language": "en"},
                {"temperature": 0.0},
                {"diarize": True},
                {"context_bias": ("Mistral",)},
                {"timestamp_granularities": ("segment",)},
                {"timestamp_granularities": ("segment", "word")},
            )
        ),
        part_key("a" * 64, TranscriptionParams(model="voxtral-mini-2602"), 0.0, 600.0, "flac"),
    ]
    assert base == part_key("a" * 64, PARAMS, 0.0, 600.0, "flac")
    assert len({base, *variants}) == len(variants) + 1


def test_cache_round_trip_is_private_and_atomic(tmp_path):
    cache = PartCache(tmp_path / "voxcli")
    key = "ab" + "0" * 62
    assert cache.load(key) is None
    cache.store(key, {"text": "bonjour", "segments": []})
    assert cache.load(key) == {"text": "bonjour", "segments": []}
    path = cache.path_for(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "voxcli").stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


@pytest.mark.parametrize(
    "content",
    ["", "{", "[]", '{"version": 1, "key": "other", "response": {}}', '{"version": 99}'],
)
def test_cache_ignores_damaged_or_foreign_entries(tmp_path, content):
    cache = PartCache(tmp_path)
    key = "cd" + "1" * 62
    cache.path_for(key).parent.mkdir(parents=True)
    cache.path_for(key).write_text(content)
    assert cache.load(key) is None


def test_cache_store_failure_leaves_nothing(tmp_path, monkeypatch):
    cache = PartCache(tmp_path)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", broken)
    with pytest.raises(OSError):
        cache.store("ef" + "2" * 62, {"text": "x"})
    assert list(cache.path_for("ef" + "2" * 62).parent.iterdir()) == []


def test_prune_removes_only_old_entries(tmp_path):
    cache = PartCache(tmp_path)
    old, new = "aa" + "3" * 62, "aa" + "4" * 62
    cache.store(old, {"text": "old"})
    cache.store(new, {"text": "new"})
    month_ago = time.time() - 31 * 86400
    os.utime(cache.path_for(old), (month_ago, month_ago))
    assert cache.prune() == 1
    assert cache.load(old) is None and cache.load(new) == {"text": "new"}
    assert PartCache(tmp_path / "missing").prune() == 0
