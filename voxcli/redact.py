"""Keep secrets out of everything voxcli prints.

The API key is registered as soon as it is read; every message, hint and
``--debug`` traceback passes through :func:`redact` on its way to stderr.
"""

from __future__ import annotations

_SECRETS: set[str] = set()
MASK = "***"


def register_secret(secret: str | None) -> None:
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
