"""``transcribe --dry-run`` and ``detect-lang --dry-run``: what would be sent, nothing sent.

Each local input is probed (headers only) and planned as a run would plan it (as is or
re-encoded, whole or cut into parts); nothing is encoded, so re-encoded sizes are upper
bounds (:func:`voxcli.engine.longform.flac_upper_bound`). No network at all: the model's
card is not fetched, so only ``--split-minutes`` and the upload limit cut recordings.
The estimated cost comes from a per-model price table (USD per audio minute).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voxcli import audio
from voxcli.api import TranscriptionParams
from voxcli.audio.prepare import local_audio_path, probe_source
from voxcli.audio.probe import api_accepts
from voxcli.engine import longform
from voxcli.engine.longform import SplitOptions
from voxcli.errors import VoxcliError
from voxcli.sizes import clock, format_size
from voxcli.sources import Source

PRICES_AS_OF = "2026-11"
"""When :data:`DEFAULT_PRICES` were taken from Mistral's model pages."""

DEFAULT_PRICES: Mapping[str, float] = {
    # listed by Mistral (USD per audio minute)
    "voxtral-mini-2602": 0.003,
    "voxtral-mini-transcribe-realtime-2602": 0.006,
    "voxtral-mini-transcribe-realtime-3-0": 0.008,  # Voxtral Mini Transcribe Realtime 3
    # assumed: the same as the listed model of their kind
    "voxtral-mini-latest": 0.003,
    "voxtral-mini-transcribe-latest": 0.003,
    "voxtral-mini-transcribe-3": 0.003,
    "voxtral-mini-transcribe-3-0": 0.003,
    "voxtral-small-transcribe-latest": 0.003,
    "voxtral-small-transcribe-3": 0.003,
    "voxtral-mini-transcribe-realtime-latest": 0.008,
    "voxtral-mini-transcribe-realtime-3": 0.008,
}
"""Built-in prices in USD per audio minute, as of :data:`PRICES_AS_OF`; the config
file's ``[prices]`` table overrides them."""


def price_of(model: str, overrides: Mapping[str, float]) -> float | None:
    """USD per audio minute for ``model``: the config's price, else the built-in one."""
    if model in overrides:
        return overrides[model]
    return DEFAULT_PRICES.get(model)


@dataclass(frozen=True)
class PlannedSend:
    """One input as a run would send it."""

    label: str
    requests: int = 1
    how: str = ""
    """What is sent: ``as is (mp3)``, ``re-encoded to FLAC``, or the URL note."""
    bytes: int = 0
    upper_bound: bool = False
    seconds: float | None = None
    """The audio the API hears (what it bills), when known."""
    error: str | None = None


def plan_transcribe(
    source: Source,
    label: str,
    *,
    params: TranscriptionParams,
    upload_mode: str,
    split: SplitOptions,
    limit: int,
    stdin: BinaryIO | None,
    temp_dir: Path,
) -> PlannedSend:
    """How ``transcribe`` would send ``source`` (whole, or cut into parts)."""
    if source.is_url:
        return PlannedSend(label, how="fetched by the API from its URL")
    try:
        with local_audio_path(source, stdin, temp_dir) as path:
            info = probe_source(source, path)
        plan = longform.plan_split(info, upload_mode, params, split, limit=limit, label=label)
    except VoxcliError as exc:
        return PlannedSend(label, error=exc.message)
    mode = audio.plan_upload(info, upload_mode)
    requests = 1
    if plan is not None and info.duration is not None:
        requests = max(1, math.ceil(info.duration / plan.part_seconds))
        mode = "reencode"  # parts are cut and sent as FLAC
    if mode == "original":
        return PlannedSend(
            label, requests, f"as is ({info.format})", info.size, False, info.duration
        )
    how = "re-encoded to Opus" if mode == "opus" else "re-encoded to FLAC"
    if requests > 1:
        how += f", cut into {requests} parts"
    size = longform.flac_upper_bound(info.duration or 0.0)
    if requests == 1 and api_accepts(info):  # a larger FLAC is not sent: the file is
        size = min(size, info.size)
    return PlannedSend(label, requests, how, size, True, info.duration)


def plan_detect(
    source: Source,
    label: str,
    *,
    sample_seconds: float,
    stdin: BinaryIO | None,
    temp_dir: Path,
) -> PlannedSend:
    """How ``detect-lang`` would send ``source``: its first ``sample_seconds`` as FLAC."""
    if source.is_url:
        return PlannedSend(label, how="fetched by the API from its URL (all of it)")
    try:
        with local_audio_path(source, stdin, temp_dir) as path:
            info = probe_source(source, path)
    except VoxcliError as exc:
        return PlannedSend(label, error=exc.message)
    longer = info.duration is None or info.duration > sample_seconds
    if sample_seconds > 0 and info.decodable and longer:
        seconds = sample_seconds
        return PlannedSend(
            label,
            1,
            f"its first {sample_seconds:g} s re-encoded to FLAC",
            longform.flac_upper_bound(seconds),
            True,
            seconds,
        )
    if audio.plan_upload(info, "auto") == "original":
        return PlannedSend(label, 1, f"as is ({info.format})", info.size, False, info.duration)
    size = longform.flac_upper_bound(info.duration or 0.0)
    return PlannedSend(label, 1, "re-encoded to FLAC", size, True, info.duration)


def _cost(seconds: float, price: float | None) -> str:
    return f"${seconds / 60 * price:.4f}" if price is not None else "unknown"


def dry_run_text(rows: Sequence[PlannedSend], model: str, prices: Mapping[str, float]) -> str:
    """The lines ``--dry-run`` prints: one per input, then the totals and the cost."""
    price = price_of(model, prices)
    usable = [row for row in rows if row.error is None]
    lines = []
    for row in rows:
        if row.error is not None:
            lines.append(f"{row.label}: left out: {row.error}")
            continue
        what = f"{row.requests} request{'s' if row.requests > 1 else ''}"
        if row.seconds is None and row.bytes == 0:
            lines.append(f"{row.label}: {what}, {row.how}")
            continue
        size = ("at most " if row.upper_bound else "") + format_size(row.bytes)
        length = f", {clock(row.seconds)} of audio" if row.seconds is not None else ""
        cost = f", about {_cost(row.seconds, price)}" if row.seconds is not None else ""
        lines.append(f"{row.label}: {what}, {row.how}, {size}{length}{cost}")
    requests = sum(row.requests for row in usable)
    seconds = sum(row.seconds or 0.0 for row in usable)
    total_bytes = sum(row.bytes for row in usable)
    bound = "at most " if any(row.upper_bound for row in usable) else ""
    unmeasured = sum(row.seconds is None for row in usable)
    note = f" ({unmeasured} not measured: URLs)" if unmeasured else ""
    rate = (
        f"at ${price:g}/min"
        if price is not None
        else f"no price known for {model}: add it under [prices] in the config file"
    )
    lines.append(
        f"would send {len(usable)} input(s) as {requests} request(s) to {model}: "
        f"{bound}{format_size(total_bytes)}, {seconds / 60:.2f} audio minutes{note}; "
        f"estimated cost {_cost(seconds, price)} ({rate}); nothing was sent"
    )
    return "\n".join(lines) + "\n"
