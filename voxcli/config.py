"""Settings: flags > environment > config file > defaults, and the API key lookup.

The key is looked up in a fixed, documented order (``--api-key-file``,
``MISTRAL_API_KEY``, the config file's ``api_key``) and is never printed.
"""

from __future__ import annotations

import io
import math
import re
import stat
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from voxcli import paths
from voxcli.catalog.kinds import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_REALTIME_MODEL,
    DEFAULT_TRANSCRIBE_MODEL,
    Kind,
)
from voxcli.env import MAX_RESPONSE_BYTES
from voxcli.errors import AuthError, UsageError
from voxcli.redact import register_secret
from voxcli.textfiles import read_flag_text

DEFAULT_MODEL = DEFAULT_TRANSCRIBE_MODEL
DEFAULT_TIMEOUT = 300.0
MAX_TIMEOUT = 86_400.0
"""The longest ``--timeout`` (one day): beyond it a run is hung, not patient."""
DEFAULT_RETRIES = 3
DEFAULT_MAX_RETRY_AFTER = 60.0
"""The longest wait a server's ``Retry-After`` gets (``VOXCLI_MAX_RETRY_AFTER``)."""
TEMPERATURE_RANGE = (0.0, 1.5)
"""``--temperature`` values the API takes (documented for chat; transcription likewise)."""

CONFIG_KEYS = frozenset(
    {
        "api_key",
        "model",
        "chat_model",
        "realtime_model",
        "server_url",
        "format",
        "timeout",
        "retries",
        "max_retry_after",
        "prices",
    }
)


@dataclass(frozen=True)
class ModelSetting:
    """Where a command's model comes from when ``--model`` is not given: an environment
    variable, then a config key, then ``default``. Transcription, chat and realtime
    models differ, so each kind has a setting of its own."""

    env_name: str
    key: str
    default: str
    kind: Kind


MODEL_SETTING = ModelSetting("VOXCLI_MODEL", "model", DEFAULT_TRANSCRIBE_MODEL, "offline")
CHAT_MODEL_SETTING = ModelSetting("VOXCLI_CHAT_MODEL", "chat_model", DEFAULT_CHAT_MODEL, "chat")
REALTIME_MODEL_SETTING = ModelSetting(
    "VOXCLI_REALTIME_MODEL", "realtime_model", DEFAULT_REALTIME_MODEL, "realtime"
)

KEY_HINT = (
    'set MISTRAL_API_KEY, put api_key = "..." in {config} (chmod 600), '
    "or pass --api-key-file PATH ('-' reads it from stdin)"
)

T = TypeVar("T")


def config_path(env: Mapping[str, str]) -> Path:
    """Where the config file lives: $VOXCLI_CONFIG, else $XDG_CONFIG_HOME/voxcli/config.toml."""
    return paths.config_file(env)


@dataclass(frozen=True)
class ConfigFile:
    """The parsed config file, and what is worth warning about."""

    path: Path
    values: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def load_config_file(path: Path) -> ConfigFile:
    """Read the TOML config file; a missing file is an empty config."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigFile(path)
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        values = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None

    warnings = [*_price_warnings(path, values.get("prices"))]
    warnings += [
        f"config file {path}: unknown key {key!r} ignored (known: {', '.join(sorted(CONFIG_KEYS))})"
        for key in values
        if key not in CONFIG_KEYS
    ]
    if values.get("api_key") and _readable_by_others(path):
        warnings.append(
            f"config file {path} holds an API key and is readable by other users; "
            f"run: chmod 600 {path}"
        )
    return ConfigFile(path, values, tuple(warnings))


def _price_warnings(path: Path, table: Any) -> list[str]:
    """What is wrong with the ``[prices]`` table (wrong entries are ignored)."""
    if table is None:
        return []
    if not isinstance(table, dict):
        return [f"config file {path}: prices must be a table ([prices], model = USD per minute)"]
    return [
        f"config file {path}: prices.{name} must be a number >= 0 (USD per audio minute); ignored"
        for name, value in table.items()
        if _price(value) is None
    ]


def _price(value: Any) -> float | None:
    """A price in USD per audio minute, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def config_prices(values: Mapping[str, Any]) -> dict[str, float]:
    """The valid entries of the config file's ``[prices]`` table."""
    table = values.get("prices")
    if not isinstance(table, dict):
        return {}
    prices = {str(name): _price(value) for name, value in table.items()}
    return {name: price for name, price in prices.items() if price is not None}


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


_EXPECTED = {
    "_positive_float": f"a positive number of seconds, at most {MAX_TIMEOUT:.0f}",
    "_wait_seconds": f"a number of seconds from 0 to {MAX_TIMEOUT:.0f}",
    "_non_negative_int": "a whole number, 0 or more",
    "_name": "a non-empty name",
    "_server_url": "an http:// or https:// URL",
}


class _Refused(ValueError):
    """A value refused with a message of its own (rather than the generic "expected ...")."""


def _parse(value: Any, parse: Callable[[Any], T], origin: str) -> T:
    try:
        return parse(value)
    except _Refused as exc:
        raise UsageError(f"{origin}: {exc}") from None
    except (TypeError, ValueError, OverflowError):
        expected = _EXPECTED.get(parse.__name__, "a valid value")
        raise UsageError(f"invalid value {value!r} for {origin}: expected {expected}") from None


def _positive_float(value: Any) -> float:
    number = float(value)
    if not (math.isfinite(number) and 0 < number <= MAX_TIMEOUT):
        raise ValueError(value)
    return number


def _wait_seconds(value: Any) -> float:
    number = float(value)
    if not (math.isfinite(number) and 0 <= number <= MAX_TIMEOUT):
        raise ValueError(value)
    return number


def check_temperature(value: float | None, flag: str = "--temperature") -> float | None:
    """``value`` when the API takes it (finite, within :data:`TEMPERATURE_RANGE`), else a
    :class:`UsageError`: refused before anything is sent."""
    if value is None:
        return None
    low, high = TEMPERATURE_RANGE
    if not (math.isfinite(value) and low <= value <= high):
        raise UsageError(f"{flag} must be a number from {low:g} to {high:g}, not {value:g}")
    return value


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class KeyFile:
    """``--api-key-file``, read on first use: so every usage error comes before stdin or
    the file is read, and a command that fails early never consumes the key."""

    def __init__(self, path: str, stdin: TextIO | None) -> None:
        self.path = path
        self._stdin = stdin
        self._key: str | None = None
        self._lock = threading.Lock()

    def read(self) -> str:
        with self._lock:
            if self._key is None:
                if self._stdin is None and self.path == "-":
                    raise UsageError("--api-key-file - needs stdin")
                self._key = read_key_file(self.path, self._stdin or io.StringIO())
                register_secret(self._key)
            return self._key


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings shared by every command."""

    api_key: str | None = field(repr=False)
    key_origin: str | None
    server_url: str | None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    model: str = DEFAULT_MODEL
    format: str | None = None
    config_path: Path | None = None
    key_file: KeyFile | None = field(default=None, repr=False, compare=False)
    model_kind: Kind = "offline"
    """What the model is used for: offline transcription, chat or realtime."""
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    """The longest wait a ``Retry-After`` gets; a longer one is cut to this."""
    max_response_bytes: int = MAX_RESPONSE_BYTES
    """The largest answer read; more fails the request."""
    prices: Mapping[str, float] = field(default_factory=dict)
    """The config file's ``[prices]``: USD per audio minute by model name (over the
    built-in defaults of :mod:`voxcli.pricing`)."""

    def require_key(self) -> str:
        """The API key, or an :class:`AuthError` that says how to provide one."""
        if self.key_file is not None:
            return self.key_file.read()
        if not self.api_key:
            where = self.config_path
            raise AuthError("no Mistral API key found", hint=KEY_HINT.format(config=where))
        return self.api_key


def read_key_file(path: str, stdin: TextIO) -> str:
    """Read an API key from a file, or from ``stdin`` when *path* is ``-``."""
    if path == "-":
        try:
            text = stdin.read()
        except UnicodeDecodeError:
            raise AuthError("--api-key-file: stdin does not hold a key (not text)") from None
        origin = "stdin"
    else:
        text = read_flag_text(path, "--api-key-file")
        origin = path
    key = text.strip()
    if not key:
        raise AuthError(f"--api-key-file: {origin} holds no key")
    if any(ch.isspace() for ch in key):
        raise AuthError(f"--api-key-file: {origin} must hold only the key, on one line")
    return key


def resolve_settings(
    *,
    api_key_file: str | None = None,
    server_url: str | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    model: str | None = None,
    fmt: str | None = None,
    model_setting: ModelSetting = MODEL_SETTING,
    env: Mapping[str, str],
    warn: Callable[[str], None] = lambda message: None,
    stdin: TextIO | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> Settings:
    """Combine flags, environment (``env``) and config file, in that order of precedence.

    ``stdin`` is where ``--api-key-file -`` reads the key; ``max_response_bytes`` comes
    from the run's :class:`~voxcli.env.Limits`."""
    path = config_path(env)
    config = load_config_file(path)
    for message in config.warnings:
        warn(message)
    values = config.values

    def pick(
        flag: Any, env_name: str | None, key: str, flag_name: str | None = None
    ) -> tuple[Any, str]:
        if flag is not None:
            return flag, flag_name or f"--{key.replace('_', '-')}"
        if env_name and env.get(env_name):
            return env[env_name], env_name
        if values.get(key) is not None:
            return values[key], f"{key} in {path}"
        return None, ""

    key_file = None
    if api_key_file is not None:
        key_file = KeyFile(api_key_file, stdin)
        key, key_origin = None, "--api-key-file"
    elif env.get("MISTRAL_API_KEY", "").strip():
        key, key_origin = env["MISTRAL_API_KEY"].strip(), "MISTRAL_API_KEY"
    elif values.get("api_key") is not None:
        if not isinstance(values["api_key"], str) or not values["api_key"].strip():
            raise UsageError(f"api_key in {path} must be a non-empty string in quotes")
        key, key_origin = values["api_key"].strip(), str(path)
    else:
        key, key_origin = None, None

    url, url_origin = pick(server_url, "MISTRAL_SERVER_URL", "server_url")
    timeout_value, timeout_origin = pick(timeout, "VOXCLI_TIMEOUT", "timeout")
    retries_value, retries_origin = pick(retries, "VOXCLI_RETRIES", "retries")
    model_value, model_origin = pick(
        model, model_setting.env_name, model_setting.key, flag_name="--model"
    )
    format_value, format_origin = pick(fmt, "VOXCLI_FORMAT", "format")
    wait_value, wait_origin = pick(None, "VOXCLI_MAX_RETRY_AFTER", "max_retry_after")

    register_secret(key)
    if url is not None:
        url = _parse(url, _server_url, url_origin)
    return Settings(
        api_key=key,
        key_origin=key_origin,
        server_url=url,
        timeout=(
            DEFAULT_TIMEOUT
            if timeout_value is None
            else _parse(timeout_value, _positive_float, timeout_origin)
        ),
        retries=(
            DEFAULT_RETRIES
            if retries_value is None
            else _parse(retries_value, _non_negative_int, retries_origin)
        ),
        model=(
            model_setting.default
            if model_value is None
            else _parse(model_value, _name, model_origin)
        ),
        model_kind=model_setting.kind,
        format=None if format_value is None else _parse(format_value, _name, format_origin),
        config_path=path,
        key_file=key_file,
        max_retry_after=(
            DEFAULT_MAX_RETRY_AFTER
            if wait_value is None
            else _parse(wait_value, _wait_seconds, wait_origin)
        ),
        max_response_bytes=max_response_bytes,
        prices=config_prices(values),
    )


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    return value.strip()


_UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def _server_url(value: Any) -> str:
    """An ``http(s)://host[:port][/path]`` base URL, or ValueError.

    Credentials (``user:pass@``) are refused: the HTTP client would send them as Basic auth
    instead of the API key, and they would end up in messages. Query strings, fragments,
    blanks, control characters and percent-escapes in the host are refused too, and so
    is a port outside 1-65535.
    """
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if _UNSAFE_URL_CHARS.search(text):
        raise ValueError(value)
    from urllib.parse import urlsplit

    parts = urlsplit(text)  # ValueError for an unclosed [IPv6 bracket
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(value)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _Refused(
            "the server URL must not hold a user name or password "
            f"({parts.scheme}://***@{parts.netloc.rpartition('@')[2]}): voxcli authenticates "
            "with the API key, put it in MISTRAL_API_KEY, the config file or --api-key-file"
        )
    host = parts.hostname or ""
    if not host or "%" in host or parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(value)
    port = parts.port  # ValueError when out of range or not a number
    if port == 0:
        raise ValueError(value)
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path}".rstrip("/")
