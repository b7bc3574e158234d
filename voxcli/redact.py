"""Keep secrets out of everything voxcli prints.

The API key is registered as soon as it is read; every message, hint and
``--debug`` traceback passes through :func:`redact` on its way to stderr. Credentials
in any URL (``scheme://user:password@host``) are masked there too, registered or not.
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
MASK = "***"

# scheme "://" then a userinfo (no slash, blank, quote or second "@") ending in "@"
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#'\"<>]+@")


def register_secret(secret: str | None) -> None:
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", text)
