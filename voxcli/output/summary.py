"""The one-line summary of a many-input run, counted from its outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voxcli.engine.runner import Outcome


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

    @classmethod
    def of(cls, outcomes: Sequence[Outcome], elapsed: float = 0.0) -> Summary:
        def count(status: str) -> int:
            return sum(o.status == status for o in outcomes)

        audio = sum(cls.audio_seconds_of(o.detail) or 0.0 for o in outcomes if o.status == "done")
        return cls(
            total=len(outcomes),
            done=count("done"),
            skipped=count("skipped"),
            locked=count("locked"),
            failed=count("failed"),
            cancelled=count("cancelled"),
            audio_seconds=audio,
            elapsed=elapsed,
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
        return (
            f"{', '.join(parts)}; {self.audio_seconds / 60:.1f} audio minutes "
            f"in {_duration(self.elapsed)}"
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
