"""The preamble every command that talks to the API shares: stdin checks, settings, the client.

``transcribe``, ``chat`` and ``detect-lang`` call these, so the key, server, timeout and
retry handling (and its error messages) are the same everywhere.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from voxcli.config import MODEL_SETTING, ModelSetting, Settings, resolve_settings
from voxcli.console import Say, silent
from voxcli.env import Environment
from voxcli.errors import UsageError
from voxcli.sources import Source

if TYPE_CHECKING:  # the SDK layer is imported by open_api, when a command runs
    from voxcli.api import MistralApi


def check_stdin_sources(
    sources: Sequence[Source],
    *,
    api_key_file: str | None,
    stdin_isatty: bool,
    example: str,
) -> bool:
    """Refuse what cannot work with a ``-`` source; return whether one is used.

    stdin cannot carry both the audio and the key (``--api-key-file -``), and audio
    cannot come from a terminal. ``example`` is a pipeline shown in the hint, e.g.
    ``cat talk.mp3 | voxcli transcribe -``.
    """
    if not any(source.kind == "stdin" for source in sources):
        return False
    if api_key_file == "-":
        raise UsageError("stdin cannot carry both the audio ('-') and the key (--api-key-file -)")
    if stdin_isatty:
        raise UsageError(
            "'-' reads audio from stdin, but stdin is a terminal",
            hint=f"pipe audio in, e.g. '{example}'",
        )
    return True


@dataclass(frozen=True)
class ConnectionFlags:
    """The flags every API command shares, read from the parsed command line by name."""

    api_key_file: str | None = None
    server_url: str | None = None
    timeout: float | None = None
    retries: int | None = None
    model: str | None = None
    quiet: bool = False

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ConnectionFlags:
        """The shared flags among a command's parameters (Click's ``ctx.params``)."""
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


def connection_settings(
    env: Environment,
    flags: ConnectionFlags,
    *,
    fmt: str | None = None,
    model_setting: ModelSetting = MODEL_SETTING,
) -> Settings:
    """Resolve flags > environment > config file > defaults; config warnings go to stderr
    unless ``--quiet``.

    The key is not required here, so usage errors found later still come before an
    authentication error: call :func:`open_api` (or ``settings.require_key()``) for that.
    """
    return resolve_settings(
        api_key_file=flags.api_key_file,
        server_url=flags.server_url,
        timeout=flags.timeout,
        retries=flags.retries,
        model=flags.model,
        fmt=fmt,
        model_setting=model_setting,
        env=env.environ,
        warn=(lambda message: None) if flags.quiet else env.console.warn,
        stdin=env.stdin,
        max_response_bytes=env.limits.max_response_bytes,
    )


@contextmanager
def open_api(settings: Settings, *, jobs: int = 4) -> Iterator[MistralApi]:
    """Require the key, then yield a client with ``jobs`` requests in flight; always closed.

    The SDK is imported and the client built on a short-lived background thread at once
    (about a second), while the caller probes and encodes its inputs.
    """
    from voxcli.api import MistralApi

    settings.require_key()
    api = MistralApi(settings, max_in_flight=jobs)
    threading.Thread(target=_warm_up, args=(api,), name="voxcli-warm-up", daemon=True).start()
    try:
        yield api
    finally:
        api.close()


def _warm_up(api: MistralApi) -> None:
    with contextlib.suppress(Exception):  # the first real call meets the same error
        api.warm_up()


def say_for(env: Environment, *, verbose: bool, quiet: bool) -> Say:
    """``--verbose`` notes: the console's ``info``, or a no-op."""
    return env.console.info if verbose and not quiet else silent
