"""The one-line summary of a many-input run, counted from its outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voxcli.engine.runner import Outcome
from voxcli.pricing import Pricing, format_cost


@dataclass(frozen=True)
class Summary:
    """Counts of a finished (or stopped) run."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    locked: int = 0
    failed: int = 0
    cancelled: int = 0
    audio_seconds: float = 0.0
    elapsed: float = 0.0
    cost: float | None = None
    """The estimated cost in USD of what was done; None when a model has no price."""

    @classmethod
    def of(
        cls,
        outcomes: Sequence[Outcome],
        elapsed: float = 0.0,
        pricing: Pricing | None = None,
    ) -> Summary:
        """The counts of ``outcomes``; with ``pricing``, the estimated cost of those done."""

        def count(status: str) -> int:
            return sum(o.status == status for o in outcomes)

        done = [o.detail for o in outcomes if o.status == "done"]
        audio = sum(cls.audio_seconds_of(t) or 0.0 for t in done)
        cost = None
        if pricing is not None and done:
            costs = [pricing.cost_of(t) for t in done]
            cost = None if None in costs else sum(c for c in costs if c is not None)
        return cls(
            total=len(outcomes),
            done=count("done"),
            skipped=count("skipped"),
            locked=count("locked"),
            failed=count("failed"),
            cancelled=count("cancelled"),
            audio_seconds=audio,
            elapsed=elapsed,
            cost=cost,
        )

    @staticmethod
    def audio_seconds_of(transcript: Any) -> float | None:
        """How much audio a transcript covers: its duration, else what the API billed."""
        if transcript is None:
            return None
        if transcript.duration is not None:
            return float(transcript.duration)
        if transcript.usage is not None:
            return transcript.usage.prompt_audio_seconds
        return None

    def line(self) -> str:
        parts = [f"{self.done} done", f"{self.skipped} skipped"]
        if self.locked:
            parts.append(f"{self.locked} locked by another run")
        parts.append(f"{self.failed} failed")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        cost = f" (about {format_cost(self.cost)})" if self.cost is not None else ""
        return (
            f"{', '.join(parts)}; {self.audio_seconds / 60:.1f} audio minutes{cost} "
            f"in {_duration(self.elapsed)}"
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
