"""The model cards of one server, cached on disk for a day.

``<cache_dir>/models/<sha256 of the server URL>.json`` holds ``{"version", "server",
"fetched_at", "cards"}``; it is written atomically (a temporary file beside it, then
``os.replace``) and a file that cannot be read or parsed is treated as absent. Fetching is
injected (``fetch``), so this module knows nothing of the SDK.

Each time a catalogue is stored, ``<cache_dir>/models/names-<kind>.txt`` (one per
:data:`~voxcli.catalog.kinds.KINDS`) is rewritten too: every id and alias of that kind in
any server's file, one a line, for the shell completion scripts to read without Python.

When the models endpoint is unavailable (``fetch`` raises :class:`~voxcli.errors.ApiError`:
a gateway without it, a network failure, a server error), :meth:`ModelCatalog.lookup`
returns :class:`Unchecked` with the reason, and the command goes ahead without checking.
An :class:`~voxcli.errors.AuthError` is not "unavailable": the key is refused, so the
request would be too, and it propagates at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcli.catalog.card import ModelCard, find_card, parse_cards
from voxcli.catalog.kinds import KINDS, Kind
from voxcli.errors import ApiError, InputError
from voxcli.output.sinks import write_atomic

CACHE_VERSION = 1
CACHE_TTL_SECONDS = 24 * 60 * 60
DEFAULT_SERVER_URL = "https://api.mistral.ai"
"""The server the SDK talks to when no ``--server-url`` is given."""

Fetch = Callable[[], Sequence[ModelCard]]
"""Reads every card from the server (e.g. ``lambda: list_models(api)``)."""


@dataclass(frozen=True)
class Unchecked:
    """The catalogue could not be read: go ahead without checking, for ``reason``."""

    reason: str


def models_dir(cache_dir: Path) -> Path:
    """Where the catalogue files of every server live."""
    return cache_dir / "models"


def cache_path(cache_dir: Path, server_url: str | None) -> Path:
    """The cache file of one server (None: the Mistral API)."""
    server = _server_key(server_url)
    return models_dir(cache_dir) / f"{hashlib.sha256(server.encode()).hexdigest()}.json"


def names_path(cache_dir: Path, kind: Kind) -> Path:
    """The plain-text list of the model names of one kind, for the completion scripts."""
    return models_dir(cache_dir) / f"names-{kind}.txt"


def cached_model_ids(cache_dir: Path) -> list[str]:
    """Every model name (ids and aliases) in any server's cache file, sorted; expired files
    count too, damaged ones do not. Reads files only (for shell completion)."""
    return sorted({name for card in _cached_cards(cache_dir) for name in card.names})


def write_name_lists(cache_dir: Path) -> None:
    """Rewrite ``names-<kind>.txt`` for every kind: the ids and aliases of the cards of that
    kind in any server's cache file (expired ones too), sorted, one a line. A list that
    has not changed is left alone; names with blanks or control characters are left out
    (they could not be one line, nor one word in a shell)."""
    names: dict[Kind, set[str]] = {kind: set() for kind in KINDS}
    for card in _cached_cards(cache_dir):
        for kind in card.kinds:
            names[kind].update(name for name in card.names if _is_one_word(name))
    for kind in KINDS:
        path = names_path(cache_dir, kind)
        text = "".join(f"{name}\n" for name in sorted(names[kind]))
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except (OSError, UnicodeDecodeError):
            pass
        write_atomic(path, text, private=True)


def cached_card(cache_dir: Path, server_url: str | None, name: str) -> ModelCard | None:
    """The card named ``name`` in the server's cache file, however old; never fetched (for
    a model's other names, which an old card knows as well)."""
    entry = _read_entry(cache_path(cache_dir, server_url))
    if entry is None or entry[0] != _server_key(server_url):
        return None
    return find_card(entry[2], name)


class ModelCatalog:
    """The cards of one server: from the cache file while it is fresh, else fetched.

    Thread-safe; one instance per run, so a run sends at most one models request to fill
    the cache (plus one after a miss in a cached catalogue, or one :meth:`refresh`), even
    when the endpoint is unavailable.
    """

    def __init__(
        self,
        cache_dir: Path,
        server_url: str | None,
        fetch: Fetch,
        *,
        now: Callable[[], float] = time.time,
        ttl_seconds: float = CACHE_TTL_SECONDS,
        expired_will_do: bool = False,
    ) -> None:
        self.path = cache_path(cache_dir, server_url)
        self._cache_dir = cache_dir
        self._server = _server_key(server_url)
        self._fetch_cards = fetch
        self._now = now
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._cards: tuple[ModelCard, ...] | None = None
        self._failure: ApiError | None = None
        self._fetched = False  # fetched by this instance (not read from the file)
        self._expired_will_do = expired_will_do
        self._expired: tuple[ModelCard, ...] | None = None

    def lookup(self, name: str) -> ModelCard | Unchecked | None:
        """The card named ``name`` (id or alias); None if the server does not list it;
        :class:`Unchecked` if the catalogue cannot be read.

        A name missing from a cached catalogue is looked for again in a fresh one (the
        model may be newer than the cache); if that fetch fails, the result is unchecked."""
        with self._lock:
            self._load()
            if self._failure is not None:
                return Unchecked(self._failure.message)
            card = find_card(self._cards or (), name)
            if card is None and not self._fetched:
                self._fetch()
                if self._failure is not None:
                    return Unchecked(self._failure.message)
                card = find_card(self._cards or (), name)
            return card

    def cards(self) -> tuple[ModelCard, ...]:
        """Every card; raises the fetch's :class:`~voxcli.errors.ApiError` if the
        catalogue cannot be read (for ``voxcli models``, where that is a failure)."""
        with self._lock:
            self._load()
            if self._failure is not None:
                raise self._failure
            return self._cards or ()

    def refresh(self) -> None:
        """Fetch the cards again and rewrite the cache (after the API refused a request
        about a model). At most once per instance: later calls do nothing."""
        with self._lock:
            if not self._fetched:
                self._fetch()

    @property
    def unavailable(self) -> Unchecked | None:
        """Why the catalogue could not be read, if it was tried and could not."""
        with self._lock:
            return Unchecked(self._failure.message) if self._failure is not None else None

    def _load(self) -> None:
        if self._cards is not None or self._failure is not None:
            return
        entry = _read_entry(self.path)
        if entry is not None:
            server, fetched_at, cards = entry
            age = self._now() - fetched_at
            if server == self._server and 0 <= age < self._ttl:
                self._cards = cards
                return
            if server == self._server and self._expired_will_do:
                self._expired = cards
        self._fetch()

    def _fetch(self) -> None:
        self._fetched = True
        try:
            cards = tuple(self._fetch_cards())
        except ApiError as exc:
            if self._expired is not None:  # an old list beats none (a dry run's plan)
                self._cards, self._failure = self._expired, None
                return
            self._cards, self._failure = None, exc
            return
        self._cards, self._failure = cards, None
        with contextlib.suppress(OSError, InputError):  # the cache is only a saving
            self._store(cards)

    def _store(self, cards: tuple[ModelCard, ...]) -> None:
        entry = {
            "version": CACHE_VERSION,
            "server": self._server,
            "fetched_at": self._now(),
            "cards": [card.to_json() for card in cards],
        }
        self._cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as parts
        write_atomic(self.path, json.dumps(entry), private=True)  # ASCII: lone surrogates too
        write_name_lists(self._cache_dir)


def _server_key(server_url: str | None) -> str:
    return (server_url or DEFAULT_SERVER_URL).rstrip("/")


def _cached_cards(cache_dir: Path) -> list[ModelCard]:
    """The cards of every readable cache file, expired or not, in file-name order."""
    cards: list[ModelCard] = []
    for path in sorted(models_dir(cache_dir).glob("*.json")):
        entry = _read_entry(path)
        if entry is not None:
            cards.extend(entry[2])
    return cards


def _is_one_word(name: str) -> bool:
    return bool(name) and name.isprintable() and not any(ch.isspace() for ch in name)


def _read_entry(path: Path) -> tuple[str, float, tuple[ModelCard, ...]] | None:
    """(server, fetched_at, cards) from a cache file, or None if it is missing, unreadable,
    of another version or damaged in any way."""
    try:
        entry: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("version") != CACHE_VERSION:
        return None
    server, fetched_at, items = entry.get("server"), entry.get("fetched_at"), entry.get("cards")
    if not isinstance(server, str) or not isinstance(items, list):
        return None
    if not isinstance(fetched_at, int | float) or isinstance(fetched_at, bool):
        return None
    cards = parse_cards(items)
    if len(cards) != len(items):
        return None
    return server, float(fetched_at), tuple(cards)
