"""voxcli's own JSON schema (``json``: pretty, ``jsonl``: one compact line per source).

Schema (stable; times in seconds rounded to milliseconds, absent values null)::

    {
      "text": str, "language": str|null, "model": str|null,
      "duration": float|null, "source": str|null,
      "segments": [{"start": float|null, "end": float|null, "text": str,
                    "speaker": str|null, "speaker_id": str|null,
                    "score": float|null}],
      "words": [{"start": float, "end": float, "text": str, "speaker": str|null,
                 "speaker_id": str|null, "score": float|null}],
      "usage": {"prompt_tokens": int|null, "completion_tokens": int|null,
                "total_tokens": int|null, "prompt_audio_seconds": int|float|null,
                "service_tier": str, ...} | null
    }

``words`` is present only when word timestamps were requested (and returned).
Segments keep the API's order; their text is stripped of surrounding whitespace.
``speaker`` is the display label (``Speaker 1``, or the name of a
``--speaker NAME=PATH`` reference), ``speaker_id`` the API's own id as it sent
it (``speaker_1``); both null without diarization. ``score`` is the API's
score for the entry as it sent it (null when it sent none). ``usage`` holds the
four counters (null when the API did not send one), ``prompt_audio_seconds`` in
the API's number type (an integer: ``203``, not ``203.0``), then every other
field of the API's usage object as it sent it: ``service_tier`` (``standard`` or
``priority``) when the API sends it, and any field the API adds later.
"""

from __future__ import annotations

import json
import math
from typing import Any

from voxcli.render.clean import utf8_safe
from voxcli.render.timefmt import round_seconds
from voxcli.transcript import Transcript, Usage


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    data = usage.as_dict()
    data["prompt_audio_seconds"] = _number(usage.prompt_audio_seconds)
    return data


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """The transcript as voxcli's documented JSON object (see the module docs)."""
    data: dict[str, Any] = {
        "text": transcript.text,
        "language": transcript.language,
        "model": transcript.model,
        "duration": round_seconds(transcript.duration),
        "source": transcript.source,
        "segments": [
            {
                "start": round_seconds(s.start),
                "end": round_seconds(s.end),
                "text": s.text.strip(),
                "speaker": s.speaker,
                "speaker_id": s.speaker_id,
                "score": _number(s.score),
            }
            for s in transcript.segments
        ],
    }
    if transcript.words:
        data["words"] = [
            {
                "start": round_seconds(w.start),
                "end": round_seconds(w.end),
                "text": w.text.strip(),
                "speaker": w.speaker,
                "speaker_id": w.speaker_id,
                "score": _number(w.score),
            }
            for w in transcript.words
        ]
    data["usage"] = _usage(transcript.usage)
    return data


def render_json(transcript: Transcript) -> str:
    """Pretty-printed (indent 2), UTF-8 characters kept as they are."""
    text = json.dumps(transcript_to_dict(transcript), indent=2, ensure_ascii=False)
    return utf8_safe(text) + "\n"


def render_jsonl(transcript: Transcript) -> str:
    """The same object, compact, on one line."""
    text = json.dumps(transcript_to_dict(transcript), ensure_ascii=False, separators=(",", ":"))
    return utf8_safe(text) + "\n"
