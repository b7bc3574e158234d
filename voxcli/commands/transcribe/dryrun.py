"""``transcribe --dry-run`` and ``detect-lang --dry-run``: what would be sent, nothing sent.

Each local input is probed (headers only) and planned as a run would plan it (as is or
re-encoded, whole or cut into parts); nothing is encoded, so re-encoded sizes are upper
bounds (:func:`voxcli.engine.longform.flac_upper_bound`). No audio is sent; ``transcribe``
reads the model's card as a run does (from the cache, else one models request), so a
recording longer than one request holds is planned as the parts a run would send.
The estimated cost comes from :mod:`voxcli.pricing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
from voxcli.params import URL_TRACK_MESSAGE
from voxcli.pricing import Pricing, format_cost
from voxcli.sizes import clock, format_size
from voxcli.sources import Source


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
    skipped: str | None = None
    """Why a run would leave it out for now (its output exists, it is being written)."""


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
    audio_track: int | None = None,
) -> PlannedSend:
    """How ``transcribe`` would send ``source`` (whole, or cut into parts)."""
    if source.is_url:
        if audio_track is not None:
            return PlannedSend(label, error=URL_TRACK_MESSAGE)
        return PlannedSend(label, how="fetched by the API from its URL")
    try:
        with local_audio_path(source, stdin, temp_dir) as path:
            info = probe_source(source, path, audio_track)
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
    audio_track: int | None = None,
) -> PlannedSend:
    """How ``detect-lang`` would send ``source``: its first ``sample_seconds`` as FLAC."""
    if source.is_url:
        if audio_track is not None:
            return PlannedSend(label, error=URL_TRACK_MESSAGE)
        return PlannedSend(label, how="fetched by the API from its URL (all of it)")
    try:
        with local_audio_path(source, stdin, temp_dir) as path:
            info = probe_source(source, path, audio_track)
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


def dry_run_text(rows: Sequence[PlannedSend], pricing: Pricing) -> str:
    """The lines ``--dry-run`` prints: one per input, then the totals and the cost."""
    model, price = pricing.model, pricing.per_minute()
    usable = [row for row in rows if row.error is None and row.skipped is None]
    lines = []
    for row in rows:
        if row.error is not None:
            lines.append(f"{row.label}: left out: {row.error}")
            continue
        if row.skipped is not None:
            lines.append(f"{row.label}: skipped, {row.skipped}")
            continue
        what = f"{row.requests} request{'s' if row.requests > 1 else ''}"
        if row.seconds is None and row.bytes == 0:
            lines.append(f"{row.label}: {what}, {row.how}")
            continue
        size = ("at most " if row.upper_bound else "") + format_size(row.bytes)
        length = f", {clock(row.seconds)} of audio" if row.seconds is not None else ""
        cost = pricing.cost(row.seconds)
        about = f", about {format_cost(cost)}" if row.seconds is not None else ""
        lines.append(f"{row.label}: {what}, {row.how}, {size}{length}{about}")
    requests = sum(row.requests for row in usable)
    seconds = sum(row.seconds or 0.0 for row in usable)
    total_bytes = sum(row.bytes for row in usable)
    bound = "at most " if any(row.upper_bound for row in usable) else ""
    unmeasured = sum(row.seconds is None for row in usable)
    note = f" ({unmeasured} input(s) of unknown length not counted)" if unmeasured else ""
    skipped = sum(row.skipped is not None for row in rows)
    rate = (
        f"at ${price:g}/min"
        if price is not None
        else f"no price known for {model}: add it under [prices] in the config file"
    )
    lines.append(
        f"would send {len(usable)} input(s) as {requests} request(s) to {model}: "
        f"{bound}{format_size(total_bytes)}, {seconds / 60:.2f} audio minutes{note}; "
        f"estimated cost {format_cost(pricing.cost(seconds))} ({rate})"
        f"{f'; {skipped} skipped' if skipped else ''}; no audio was sent"
    )
    return "\n".join(lines) + "\n"
