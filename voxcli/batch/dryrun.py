"""``batch submit --dry-run``: what would be uploaded and submitted, with nothing sent.

Each local input is probed (headers only) and planned exactly as a submit would plan it
(whole, or cut into parts); nothing is encoded, so re-encoded sizes are upper bounds.
The estimated cost is at batch prices (:data:`voxcli.pricing.BATCH_PRICE_FACTOR`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from voxcli import audio
from voxcli.api import TranscriptionParams
from voxcli.audio.prepare import probe_source
from voxcli.batch.plan import chunk_inputs
from voxcli.batch.upload import PlannedInput
from voxcli.engine import longform
from voxcli.engine.longform import SplitOptions
from voxcli.errors import VoxcliError
from voxcli.params import URL_TRACK_MESSAGE
from voxcli.pricing import Pricing, format_cost
from voxcli.sizes import clock, format_size


@dataclass(frozen=True)
class PlannedUpload:
    """One input as a submit would send it."""

    planned: PlannedInput
    requests: int = 1
    bytes: int = 0
    upper_bound: bool = False
    seconds: float | None = None
    error: str | None = None


def plan_uploads(
    inputs: Sequence[PlannedInput],
    params: TranscriptionParams,
    upload_mode: str,
    split: SplitOptions,
    limit: int,
) -> list[PlannedUpload]:
    """How each input would be uploaded; unusable inputs carry their error."""
    rows = []
    for planned in inputs:
        source = planned.source
        if source.is_url or source.path is None:
            error = URL_TRACK_MESSAGE if planned.audio_track is not None else None
            rows.append(PlannedUpload(planned, 0 if error else 1, error=error))
            continue
        try:
            info = probe_source(source, source.path, planned.audio_track)
            plan = longform.plan_split(
                info, upload_mode, params, split, limit=limit, label=planned.label
            )
        except VoxcliError as exc:
            rows.append(PlannedUpload(planned, 0, error=exc.message))
            continue
        reencode = audio.plan_upload(info, upload_mode) != "original"
        requests = 1
        if plan is not None and info.duration is not None:
            requests = max(1, math.ceil(info.duration / plan.part_seconds))
            reencode = True  # parts are cut and sent as FLAC
        size = longform.flac_upper_bound(info.duration or 0.0) if reencode else info.size
        rows.append(PlannedUpload(planned, requests, size, reencode, info.duration))
    return rows


def dry_run_text(rows: Sequence[PlannedUpload], max_requests: int, pricing: Pricing) -> str:
    """The lines ``--dry-run`` prints: one per input, then the totals and the cost
    (``pricing`` at batch rates)."""
    model = pricing.model
    usable = [row for row in rows if row.error is None]
    lines = []
    for row in rows:
        head = f"{row.planned.label} -> {row.planned.output}"
        if row.error is not None:
            lines.append(f"{head}: left out: {row.error}")
            continue
        what = f"{row.requests} request{'s' if row.requests > 1 else ''}"
        if row.requests > 1:
            what = f"about {what} (cut into parts)"
        if row.planned.source.is_url:
            lines.append(f"{head}: {what}, fetched by the API from its URL")
            continue
        size = ("at most " if row.upper_bound else "") + format_size(row.bytes)
        length = ""
        if row.seconds is not None:
            length = f", {clock(row.seconds)}, about {format_cost(pricing.cost(row.seconds))}"
        lines.append(f"{head}: {what}, {size} to upload{length}")
    requests = sum(row.requests for row in usable)
    counts = [(i, row.requests) for i, row in enumerate(usable)]
    jobs = len(chunk_inputs(counts, max_requests)) if counts else 0
    total_bytes = sum(row.bytes for row in usable)
    seconds = sum(row.seconds or 0.0 for row in usable)
    bound = "at most " if any(row.upper_bound for row in usable) else ""
    urls = sum(row.seconds is None for row in usable)
    note = f" ({urls} input(s) of unknown length not counted)" if urls else ""
    price = pricing.per_minute()
    rate = (
        f"at ${price:g}/min, batch price"
        if price is not None
        else f"no price known for {model}: add it under [prices] in the config file"
    )
    lines.append(
        f"would submit {len(usable)} input(s) as {requests} request(s) in {jobs} job(s) "
        f"to {model}: {bound}{format_size(total_bytes)} to upload, {seconds / 60:.2f} audio "
        f"minutes{note}; estimated cost {format_cost(pricing.cost(seconds))} "
        f"({rate}); nothing was uploaded or submitted"
    )
    return "\n".join(lines) + "\n"
