"""What a model is used for, and the default model of each use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Kind = Literal["offline", "realtime", "chat"]
"""``offline``: one transcription request (``transcribe``, ``detect-lang``); ``realtime``:
a live WebSocket session; ``chat``: chat completions with audio."""

KINDS: tuple[Kind, ...] = ("offline", "realtime", "chat")

DEFAULT_TRANSCRIBE_MODEL = "voxtral-mini-transcribe-latest"
DEFAULT_CHAT_MODEL = "voxtral-small-latest"
DEFAULT_REALTIME_MODEL = "voxtral-mini-transcribe-realtime-latest"

DEFAULT_MODELS: Mapping[Kind, str] = {
    "offline": DEFAULT_TRANSCRIBE_MODEL,
    "realtime": DEFAULT_REALTIME_MODEL,
    "chat": DEFAULT_CHAT_MODEL,
}
"""The model each kind of request uses unless a flag, the environment or the config says
otherwise (``transcribe`` and ``detect-lang`` are ``offline``)."""

KIND_LABELS: Mapping[Kind, str] = {
    "offline": "offline transcription",
    "realtime": "realtime transcription",
    "chat": "chat with audio",
}
"""How messages name each kind."""

KNOWN_MODELS: Mapping[Kind, tuple[str, ...]] = {
    "offline": (
        DEFAULT_TRANSCRIBE_MODEL,
        "voxtral-mini-transcribe-3",
        "voxtral-mini-transcribe-3-0",
        "voxtral-small-transcribe-latest",
        "voxtral-small-transcribe-3",
        "voxtral-mini-2602",
        "voxtral-mini-latest",
    ),
    "realtime": (
        DEFAULT_REALTIME_MODEL,
        "voxtral-mini-transcribe-realtime-3",
        "voxtral-mini-transcribe-realtime-3-0",
        "voxtral-mini-transcribe-realtime-2602",
    ),
    "chat": (DEFAULT_CHAT_MODEL, "voxtral-small-2507"),
}
"""The Mistral models of each kind that shell completion offers, the default first (the
scripts add the names found in the local models cache; nothing checks against this list)."""

COMMAND_KINDS: Mapping[str, Kind] = {
    "transcribe": "offline",
    "detect-lang": "offline",
    "batch submit": "offline",
    "chat": "chat",
    "live": "realtime",
}
"""The kind of model each command's ``--model`` names, by command path (words joined by
spaces, as in the completion scripts)."""
