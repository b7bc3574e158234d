"""The one place that builds the mistralai SDK client (imported lazily, on first use).

The SDK drives retries (its ``RetryConfig`` decides what is retried: 429, 5xx, dropped
connections), on an httpx2 client of ours that bounds everything around them:

- **attempts**: ``--retries N`` means N + 1 sends of one request, then it stops;
- **waits**: the client waits before each retry itself (the SDK's own backoff is set to
  zero), so the wait is known, reported with ``-v`` and never taken when no attempt is
  left; ``Retry-After``/``retry-after-ms`` are parsed safely (seconds, HTTP-dates, junk,
  ``inf``) and capped at ``max_retry_after`` (60 s by default), else the backoff is
  0.5 s doubling to 30 s, plus up to 0.25 s of jitter;
- **time**: every attempt has a wall-clock deadline, ``--timeout`` plus one second per
  100 kB sent (:data:`UPLOAD_ALLOWANCE_BYTES_PER_SECOND`, at most an hour extra), checked
  before every network read and write (each waits at most the time left) and after every
  chunk of the answer, so a server dripping bytes cannot stretch a request;
- **size**: an answer is read up to ``max_response_bytes`` (64 MB), and only uncompressed
  (``Accept-Encoding: identity``), so the cap bounds memory too; file downloads have a cap
  of their own (and their bytes count towards the time allowance);
- **redirects**: a request that carries a body (audio) follows a redirect only on the
  same origin; other requests follow any (httpx drops the key on another origin).

Every call takes one of ``max_in_flight`` slots, so ``--jobs`` bounds the requests of a run.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from voxcli.api.errors import (
    EncodingRefused,
    RedirectRefused,
    ResponseTooLarge,
    RetriesExhausted,
    describe_transport_error,
    error_detail,
)
from voxcli.api.errors import translated_errors as _translated_errors
from voxcli.config import Settings
from voxcli.console import Say, silent

# Upper bound on the time the SDK may spend retrying one call; the attempt
# count (--retries) normally ends it long before.
RETRY_BUDGET_MS = 15 * 60 * 1000
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
BACKOFF_JITTER_SECONDS = 0.25
UPLOAD_ALLOWANCE_BYTES_PER_SECOND = 100_000
"""An attempt's deadline grows by one second per this many bytes sent (or downloaded)."""
MAX_TRANSFER_ALLOWANCE_SECONDS = 3600.0
"""The most the deadline grows for the bytes sent (512 MB at 100 kB/s would be 85 min)."""
_WRITE_PIECE = 64 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DOWNLOAD_PATH = re.compile(r"/files/[^/]+/content/?$")
_DOWNLOAD = "voxcli.download"  # request extension: a file download (no size cap here)


def parse_retry_after(
    retry_after: str | None, retry_after_ms: str | None, *, cap: float
) -> float | None:
    """The wait a ``Retry-After`` (seconds or an HTTP-date) or ``retry-after-ms`` header
    asks for, in seconds and at most ``cap``; None when absent or not understood
    (negative, NaN, junk). ``inf``, ``1e308`` and dates far ahead come out as ``cap``; a
    date in the past as 0. ``retry-after-ms`` wins when both are usable."""

    def number(text: str, scale: float) -> float | None:
        try:
            value = float(text) / scale
        except (ValueError, OverflowError):
            return None
        if math.isnan(value) or value < 0:
            return None
        return min(value, cap)

    if retry_after_ms:
        value = number(retry_after_ms.strip(), 1000.0)
        if value is not None:
            return value
    if not retry_after or not retry_after.strip():
        return None
    text = retry_after.strip()
    value = number(text, 1.0)
    if value is not None:
        return value
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        delta = (when - datetime.now(timezone.utc)).total_seconds()
    except Exception:  # any junk a server may send: not a date, out of range...
        return None
    return min(max(0.0, delta), cap)


class Deadline(float):
    """One attempt's timeout, which is also its wall-clock deadline.

    It is every phase's timeout (connect, write, read, pool) in the request's ``timeout``
    extension, so it reaches the network stream, which asks :meth:`limit` for the wait of
    each read or write: never past the deadline (``seconds`` from the start, plus the
    allowance for the bytes transferred so far: a server may still be reading an upload
    out of the socket buffers when voxcli has handed over the last byte).
    """

    seconds: float
    started: float
    transferred: int
    expired: bool

    def __new__(cls, seconds: float) -> Deadline:
        self = super().__new__(cls, seconds)
        self.seconds = seconds
        self.started = time.monotonic()
        self.transferred = 0
        self.expired = False
        return self

    def left(self) -> float:
        """Seconds left before the deadline (negative once past it)."""
        allowance = min(
            self.transferred / UPLOAD_ALLOWANCE_BYTES_PER_SECOND, MAX_TRANSFER_ALLOWANCE_SECONDS
        )
        return self.started + self.seconds + allowance - time.monotonic()

    def limit(self, timeout_error: type[Exception]) -> float:
        """The longest the next network operation may wait; ``timeout_error`` once past."""
        left = self.left()
        if left <= 0:
            self.expired = True
            raise timeout_error(f"no complete answer within {self.seconds:g} s (--timeout)")
        return left


@dataclass
class _Attempts:
    """What the client knows about one request across the SDK's attempts."""

    count: int = 0
    status: int | None = None
    detail: str | None = None
    retry_after: float | None = None
    asked: float | None = None  # the Retry-After before the cap
    ended: float = 0.0

    def ended_with(
        self,
        status: int | None,
        detail: str | None,
        retry_after: float | None = None,
        asked: float | None = None,
    ) -> None:
        self.status, self.detail = status, detail
        self.retry_after, self.asked = retry_after, asked
        self.ended = time.monotonic()


def _origin(url: Any) -> tuple[str, str, int | None]:
    scheme = str(url.scheme).lower()
    return scheme, str(url.host).lower(), url.port or _DEFAULT_PORTS.get(scheme)


def _origin_text(url: Any) -> str:
    host = str(url.host)
    host = f"[{host}]" if ":" in host else host
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "")


def _make_http_client(
    max_attempts: int,
    *,
    timeout: float,
    max_retry_after: float,
    max_response_bytes: int,
    where: str,
    report: Say = silent,
) -> Any:
    """The httpx2 client the SDK sends through, with the bounds the module docstring lists."""
    import httpcore2
    import httpx2

    def limit(timeout: Any, timeout_error: type[Exception]) -> Any:
        return timeout.limit(timeout_error) if isinstance(timeout, Deadline) else timeout

    class DeadlineStream(httpcore2.NetworkStream):
        """A connection whose reads and writes never wait past the request's deadline."""

        def __init__(self, inner: httpcore2.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, limit(timeout, httpcore2.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            if not buffer:
                self._inner.write(buffer, limit(timeout, httpcore2.WriteTimeout))
            for start in range(0, len(buffer), _WRITE_PIECE):
                piece = buffer[start : start + _WRITE_PIECE]
                self._inner.write(piece, limit(timeout, httpcore2.WriteTimeout))
                if isinstance(timeout, Deadline):
                    timeout.transferred += len(piece)

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
        ) -> httpcore2.NetworkStream:
            return DeadlineStream(
                self._inner.start_tls(
                    ssl_context, server_hostname, limit(timeout, httpcore2.ConnectTimeout)
                )
            )

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class DeadlineBackend(httpcore2.NetworkBackend):
        def __init__(self, inner: httpcore2.NetworkBackend) -> None:
            self._inner = inner

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore2.NetworkStream:
            wait = limit(timeout, httpcore2.ConnectTimeout)
            return DeadlineStream(
                self._inner.connect_tcp(host, port, wait, local_address, socket_options)
            )

        def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: Any = None
        ) -> httpcore2.NetworkStream:
            wait = limit(timeout, httpcore2.ConnectTimeout)
            return DeadlineStream(self._inner.connect_unix_socket(path, wait, socket_options))

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    def wrap_backends(client: httpx2.Client) -> None:
        """Give every transport's connection pool (direct, and per proxy from the
        environment) the deadline-aware network backend. httpx2 has no public way to hand
        a pool a backend (and passing a transport of our own would turn off the proxies
        from the environment); where this finds none, the answer is still checked against
        the deadline chunk by chunk."""
        transports = [getattr(client, "_transport", None)]
        transports += list(getattr(client, "_mounts", {}).values())
        for transport in transports:
            pool = getattr(transport, "_pool", None)
            backend = getattr(pool, "_network_backend", None)
            if isinstance(backend, httpcore2.NetworkBackend) and not isinstance(
                backend, DeadlineBackend
            ):
                pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]

    class BoundedStream(httpx2.SyncByteStream):
        """An answer's bytes: at most ``cap`` of them, none after the deadline."""

        def __init__(
            self,
            inner: Any,
            request: Any,
            cap: int | None,
            deadline: Deadline | None,
            download: bool,
        ) -> None:
            self._inner = inner
            self._request = request
            self._cap = cap
            self._deadline = deadline
            self._download = download

        def __iter__(self) -> Iterator[bytes]:
            total = 0
            deadline = self._deadline
            for chunk in self._inner:
                total += len(chunk)
                if self._cap is not None and total > self._cap:
                    raise ResponseTooLarge(self._cap)
                if deadline is not None:
                    if self._download:
                        deadline.transferred += len(chunk)
                    if deadline.left() <= 0:
                        deadline.expired = True
                        raise httpx2.ReadTimeout(
                            f"no complete answer within {deadline.seconds:g} s (--timeout)",
                            request=self._request,
                        )
                yield chunk

        def close(self) -> None:
            self._inner.close()

    class AttemptCappedClient(httpx2.Client):
        def __init__(self) -> None:
            super().__init__(
                follow_redirects=True, event_hooks={"response": [self._check_response]}
            )
            wrap_backends(self)
            self._attempts: weakref.WeakKeyDictionary[Any, _Attempts] = weakref.WeakKeyDictionary()
            self._lock = threading.Lock()
            self._closing = threading.Event()

        def send(self, request: Any, **kwargs: Any) -> Any:
            with self._lock:
                state = self._attempts.setdefault(request, _Attempts())
                state.count += 1
                attempt = state.count
            if attempt > max_attempts:  # the SDK wants one more: stop, without waiting
                raise RetriesExhausted(max_attempts, state.status, state.detail)
            if attempt > 1:
                self._wait_before(attempt, state)
            request.headers["Accept-Encoding"] = "identity"
            if request.method == "GET" and _DOWNLOAD_PATH.search(request.url.path):
                # kept through redirects (they share the extensions), e.g. to storage
                request.extensions[_DOWNLOAD] = True
            deadline = Deadline(timeout)
            request.extensions["timeout"] = dict.fromkeys(
                ("connect", "read", "write", "pool"), deadline
            )
            try:
                response = super().send(request, **kwargs)
            except httpx2.RemoteProtocolError as exc:
                # A connection dropped before any answer is a network error: let the
                # SDK's backoff retry it (it only retries NetworkError/TimeoutException).
                state.ended_with(None, "the connection was dropped")
                raise httpx2.ReadError(str(exc), request=request) from exc
            except Exception as exc:
                state.ended_with(None, describe_transport_error(exc))
                raise
            headers = response.headers
            asked = parse_retry_after(
                headers.get("retry-after"), headers.get("retry-after-ms"), cap=math.inf
            )
            # The SDK must not see them: it would wait again (uncapped, or crash on "inf").
            for name in ("retry-after", "retry-after-ms"):
                if name in headers:
                    del headers[name]
            detail = None
            if response.status_code >= 400 and not kwargs.get("stream"):
                detail = error_detail(response.text)
            wait = None if asked is None else min(asked, max_retry_after)
            state.ended_with(response.status_code, detail, wait, asked)
            return response

        def _wait_before(self, attempt: int, state: _Attempts) -> None:
            """Wait before sending ``attempt`` (2 or more): ``Retry-After`` (capped) or
            the backoff, less the time already gone since the last attempt ended."""
            if state.retry_after is not None and state.retry_after > 0:
                wait = state.retry_after
                capped = state.asked is not None and state.asked > max_retry_after
                why = f" (Retry-After, capped at {max_retry_after:g} s)" if capped else ""
                why = why or " (Retry-After)"
            else:
                exponent = min(attempt - 2, 16)
                wait = min(BACKOFF_MAX_SECONDS, BACKOFF_INITIAL_SECONDS * 2**exponent)
                wait += random.uniform(0, BACKOFF_JITTER_SECONDS)
                why = ""
            reason = f"HTTP {state.status}" if state.status is not None else state.detail
            report(
                f"{where}: attempt {attempt - 1} of {max_attempts} failed "
                f"({reason or 'no answer'}); retrying in {wait:.1f} s{why}"
            )
            left = wait - (time.monotonic() - state.ended)
            if left > 0 and self._closing.wait(left):
                raise RetriesExhausted(attempt - 1, state.status, state.detail)

        def _check_response(self, response: Any) -> None:
            request = response.request
            if response.has_redirect_location and request.method in _BODY_METHODS:
                try:
                    target = request.url.join(response.headers["location"])
                except Exception:  # httpx2 refuses the redirect itself
                    target = None
                if target is not None and _origin(target) != _origin(request.url):
                    raise RedirectRefused(response.status_code, _origin_text(target))
            encoding = response.headers.get("content-encoding", "").strip().lower()
            if encoding not in ("", "identity"):
                raise EncodingRefused(encoding)
            download = bool(request.extensions.get(_DOWNLOAD))
            deadline = request.extensions.get("timeout", {}).get("read")
            response.stream = BoundedStream(
                response.stream,
                request,
                None if download else max_response_bytes,
                deadline if isinstance(deadline, Deadline) else None,
                download,
            )

        def close(self) -> None:
            self._closing.set()
            super().close()

    return AttemptCappedClient()


class ApiClient:
    """The SDK client for one run, built on first use (or by :meth:`warm_up`)."""

    def __init__(self, settings: Settings, *, max_in_flight: int = 4) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._closed = False
        self._on_retry: Say = silent

    @property
    def where(self) -> str:
        """How messages name the server."""
        return self._settings.server_url or "the Mistral API"

    @property
    def server_url(self) -> str | None:
        """The configured server URL (None: the SDK's default, the Mistral API)."""
        return self._settings.server_url

    def report_retries(self, say: Say) -> None:
        """Where a line goes before each retry (attempt, status, wait): ``-v``'s notes."""
        self._on_retry = say

    def _retry_note(self, message: str) -> None:
        self._on_retry(message)

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
            # No waiting in the SDK: the HTTP client waits before each retry it sends.
            BackoffStrategy(
                initial_interval=0,
                max_interval=0,
                exponent=1.0,
                max_elapsed_time=RETRY_BUDGET_MS,
                jitter_ms=0,
            ),
            retry_connection_errors=True,
        )
        return Mistral(
            api_key=settings.require_key(),
            server_url=settings.server_url,
            client=_make_http_client(
                max_attempts=retries + 1,
                timeout=settings.timeout,
                max_retry_after=settings.max_retry_after,
                max_response_bytes=settings.max_response_bytes,
                where=self.where,
                report=self._retry_note,
            ),
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
