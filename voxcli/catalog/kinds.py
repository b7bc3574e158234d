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
