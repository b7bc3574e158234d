"""The one place that builds the mistralai SDK client (imported lazily, on first use).

It lets the SDK do retries (its own ``RetryConfig``/``BackoffStrategy``, which honours
``Retry-After``) on an httpx2 client that caps the attempts per request, and every call
takes one of ``max_in_flight`` slots, so ``--jobs`` bounds the requests of a whole run.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from voxcli.api.errors import RetriesExhausted, describe_transport_error, error_detail
from voxcli.api.errors import translated_errors as _translated_errors
from voxcli.config import Settings

# Upper bound on the time the SDK may spend retrying one call; the attempt
# count (--retries) normally ends it long before.
RETRY_BUDGET_MS = 15 * 60 * 1000


def _make_http_client(max_attempts: int) -> Any:
    """An httpx2 client that caps how many times the SDK sends one request.

    The SDK's backoff loop is bounded by elapsed time only; ``--retries N``
    promises N retries, so the client counts the attempts the SDK makes for
    the same request object and stops it at N + 1.
    """
    import httpx2

    class AttemptCappedClient(httpx2.Client):
        def __init__(self) -> None:
            super().__init__(follow_redirects=True)
            self._attempts: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
            self._lock = threading.Lock()

        def send(self, request: Any, **kwargs: Any) -> Any:
            with self._lock:
                state = self._attempts.setdefault(request, [0, None, None])
                state[0] += 1
                attempt, last_status, last_detail = state
            if attempt > max_attempts:
                raise RetriesExhausted(max_attempts, last_status, last_detail)
            try:
                response = super().send(request, **kwargs)
            except httpx2.RemoteProtocolError as exc:
                # A connection dropped before any answer is a network error: let the
                # SDK's backoff retry it (it only retries NetworkError/TimeoutException).
                state[1], state[2] = None, "the connection was dropped"
                raise httpx2.ReadError(str(exc), request=request) from exc
            except Exception as exc:
                state[1], state[2] = None, describe_transport_error(exc)
                raise
            state[1] = response.status_code
            if response.status_code >= 400 and not kwargs.get("stream"):
                state[2] = error_detail(response.text)
            return response

    return AttemptCappedClient()


class ApiClient:
    """The SDK client for one run, built on first use (or by :meth:`warm_up`)."""

    def __init__(self, settings: Settings, *, max_in_flight: int = 4) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._closed = False

    @property
    def where(self) -> str:
        """How messages name the server."""
        return self._settings.server_url or "the Mistral API"

    @property
    def server_url(self) -> str | None:
        """The configured server URL (None: the SDK's default, the Mistral API)."""
        return self._settings.server_url

    def sdk(self) -> Any:
        """The SDK client (imports and builds it the first time)."""
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def warm_up(self) -> None:
        """Import the SDK and build the client now (for a background thread: the import
        costs about a second, which local work can hide); nothing once closed."""
        with self._lock:
            if self._client is None and not self._closed:
                self._client = self._build()

    def _build(self) -> Any:
        from mistralai.client import Mistral
        from mistralai.client.utils.logger import NoOpLogger
        from mistralai.client.utils.retries import BackoffStrategy, RetryConfig

        settings = self._settings
        retries = settings.retries
        retry_config = RetryConfig(
            "backoff" if retries > 0 else "none",
            BackoffStrategy(
                initial_interval=500,
                max_interval=30_000,
                exponent=2.0,
                max_elapsed_time=RETRY_BUDGET_MS,
                jitter_ms=250,
            ),
            retry_connection_errors=True,
        )
        return Mistral(
            api_key=settings.require_key(),
            server_url=settings.server_url,
            client=_make_http_client(max_attempts=retries + 1),
            retry_config=retry_config,
            timeout_ms=int(settings.timeout * 1000),
            # Never the SDK's env-driven logger: MISTRAL_DEBUG would log the key.
            debug_logger=NoOpLogger(),
        )

    @contextmanager
    def call(self) -> Iterator[Any]:
        """Hold a request slot and translate errors while the block uses the SDK client."""
        sdk = self.sdk()
        with self._slots, _translated_errors(self.where):
            yield sdk

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            self._closed = True
        if client is not None:
            client.sdk_configuration.client.close()
