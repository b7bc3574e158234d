"""What a batch is asked to do: the request and output options, kept in its manifest.

Written at submit from the validated ``transcribe``-style request, read back by collect
(how to render) and by ``--retry-failed`` (the same request for the inputs that failed).
The job's ``metadata`` carries the rendering part too, so a job whose manifest is gone
can still be collected as it was meant to be.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from voxcli.api.types import TranscriptionParams
from voxcli.audio.references import SpeakerFlag
from voxcli.errors import VoxcliError
from voxcli.render.options import RenderOptions

DEFAULT_TIMEOUT_HOURS = 24
EXPIRY_MARGIN_HOURS = 24
"""Uploads outlive the job's timeout by this much (time to finish uploading the rest)."""
METADATA_PREFIX = "voxcli_"


@dataclass(frozen=True)
class BatchOptions:
    """A batch's request and output options (already validated)."""

    params: TranscriptionParams
    output_format: str
    output_dir: Path
    render: RenderOptions = field(default_factory=RenderOptions)
    speakers: tuple[SpeakerFlag, ...] = ()
    upload: str = "auto"
    split_minutes: float | None = None
    timeout_hours: int = DEFAULT_TIMEOUT_HOURS

    @property
    def model(self) -> str:
        return self.params.model

    @property
    def expiry_hours(self) -> int:
        """How long uploaded audio and input files live on the server: the job's
        timeout plus a margin, so nothing lingers when the batch is never collected."""
        return self.timeout_hours + EXPIRY_MARGIN_HOURS

    def to_json(self) -> dict[str, Any]:
        params = self.params
        return {
            "model": params.model,
            "language": params.language,
            "temperature": params.temperature,
            "diarize": params.diarize,
            "context_bias": list(params.context_bias),
            "timestamp_granularities": list(params.timestamp_granularities),
            "speakers": [{"name": s.name, "source": s.source} for s in self.speakers],
            "format": self.output_format,
            "render": asdict(self.render),
            "output_dir": str(self.output_dir),
            "upload": self.upload,
            "split_minutes": self.split_minutes,
            "timeout_hours": self.timeout_hours,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchOptions:
        """Read back :meth:`to_json`; KeyError/TypeError/ValueError when it is not that."""
        params = TranscriptionParams(
            model=str(data["model"]),
            language=data.get("language"),
            temperature=data.get("temperature"),
            diarize=bool(data.get("diarize")),
            context_bias=tuple(str(t) for t in data.get("context_bias") or ()),
            timestamp_granularities=tuple(
                str(g) for g in data.get("timestamp_granularities") or ()
            ),
        )
        return cls(
            params=params,
            output_format=str(data["format"]),
            output_dir=Path(data["output_dir"]),
            render=RenderOptions(**(data.get("render") or {})),
            speakers=tuple(
                SpeakerFlag(str(s["name"]), str(s["source"])) for s in data.get("speakers") or ()
            ),
            upload=str(data.get("upload") or "auto"),
            split_minutes=data.get("split_minutes"),
            timeout_hours=int(data.get("timeout_hours") or DEFAULT_TIMEOUT_HOURS),
        )

    def metadata(self, name: str) -> dict[str, str]:
        """The job's metadata (a string map): the batch's local name and how to render."""
        return {
            f"{METADATA_PREFIX}batch": name,
            f"{METADATA_PREFIX}format": self.output_format,
            f"{METADATA_PREFIX}render": json.dumps(asdict(self.render), separators=(",", ":")),
            f"{METADATA_PREFIX}timestamps": ",".join(self.params.timestamp_granularities),
        }


@dataclass(frozen=True)
class RenderingHints:
    """How to render a job's results, as its metadata says (a job voxcli submitted)."""

    output_format: str | None = None
    render: RenderOptions | None = None
    granularities: tuple[str, ...] = ()


def hints_from_metadata(metadata: Mapping[str, str]) -> RenderingHints:
    """What :meth:`BatchOptions.metadata` put on a job; unusable entries are left out."""
    render: RenderOptions | None = None
    raw = metadata.get(f"{METADATA_PREFIX}render")
    if raw:
        try:
            render = RenderOptions(**json.loads(raw))
        except (ValueError, TypeError, VoxcliError):  # not JSON, or not valid options
            render = None
    timestamps = metadata.get(f"{METADATA_PREFIX}timestamps") or ""
    return RenderingHints(
        output_format=metadata.get(f"{METADATA_PREFIX}format") or None,
        render=render,
        granularities=tuple(g for g in timestamps.split(",") if g),
    )
