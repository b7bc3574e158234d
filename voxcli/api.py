"""The only module that imports the mistralai SDK.

It builds one client from our :class:`~voxcli.config.Settings`, lets the SDK do
retries (its own ``RetryConfig``/``BackoffStrategy``, which honours
``Retry-After``), and turns every SDK or transport failure into one of our
:mod:`voxcli.errors`. Responses leave this module as plain dicts.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxcli.config import Settings
from voxcli.errors import ApiError, AuthError
from voxcli.uploads import watch as watch_upload

# Upper bound on the time the SDK may spend retrying one call; the attempt
# count (--retries) normally ends it long before.
RETRY_BUDGET_MS = 15 * 60 * 1000
RETRYABLE_STATUSES = (429, 500, 502, 503, 504)

CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
}


@dataclass(frozen=True)
class TranscriptionParams:
    """The API parameters of one transcription request, already validated."""

    model: str
    language: str | None = None
    temperature: float | None = None
    diarize: bool = False
    context_bias: tuple[str, ...] = ()
    timestamp_granularities: tuple[str, ...] = ()


@dataclass(frozen=True)
class AudioPayload:
    """What to send: a local file (streamed from disk) or a URL the API fetches."""

    file_name: str
    path: Path | None = None
    url: str | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(Path(self.file_name).suffix.lower(), "application/octet-stream")


class _RetriesExhausted(Exception):
    """Raised by the HTTP client when the SDK asks for one attempt too many."""

    def __init__(self, attempts: int, status: int | None, detail: str | None) -> None:
        super().__init__(f"gave up after {attempts} attempts")
        self.attempts = attempts
        self.status = status
        self.detail = detail


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
                raise _RetriesExhausted(max_attempts, last_status, last_detail)
            try:
                response = super().send(request, **kwargs)
            except httpx2.RemoteProtocolError as exc:
                # A connection dropped before any answer is a network error: let the
                # SDK's backoff retry it (it only retries NetworkError/TimeoutException).
                state[1], state[2] = None, "the connection was dropped"
                raise httpx2.ReadError(str(exc), request=request) from exc
            except Exception as exc:
                state[1], state[2] = None, _describe_transport_error(exc)
                raise
            state[1] = response.status_code
            if response.status_code >= 400 and not kwargs.get("stream"):
                state[2] = _error_detail(response.text)
            return response

    return AttemptCappedClient()


def _describe_transport_error(exc: BaseException) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "the request timed out"
    if "Connect" in name:
        return "could not connect"
    if "RemoteProtocol" in name or "ReadError" in name or "WriteError" in name:
        return "the connection was dropped"
    return str(exc) or name


def _error_detail(body: str | None) -> str | None:
    """The human part of an API error body (Mistral sends JSON with a message)."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        text = " ".join(body.split())
        return text[:200] or None
    if isinstance(data, Mapping):
        for key in ("message", "detail", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping) and isinstance(value.get("message"), str):
                return value["message"]
            if isinstance(value, list) and value:
                first = value[0]
                if isinstance(first, Mapping) and first.get("msg"):
                    return str(first["msg"])
    return " ".join(body.split())[:200]


def _status_error(status: int, detail: str | None, where: str) -> Exception:
    detail_text = f": {detail}" if detail else ""
    if status in (401, 403):
        return AuthError(
            f"the API key was rejected (HTTP {status}){detail_text}",
            hint="check MISTRAL_API_KEY, the config file's api_key or --api-key-file",
        )
    if status == 429:
        return ApiError(
            f"rate limited by {where} (HTTP 429){detail_text}",
            hint="wait and try again, or raise --retries",
            status=status,
        )
    if status >= 500:
        return ApiError(
            f"{where} failed (HTTP {status}){detail_text}",
            hint="the service may be having trouble; try again later or raise --retries",
            status=status,
        )
    return ApiError(f"{where} refused the request (HTTP {status}){detail_text}", status=status)


class MistralApi:
    """A thin, typed facade over the SDK client for the calls voxcli makes."""

    def __init__(self, settings: Settings, *, max_in_flight: int = 4) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()
        # Every request, whatever the caller (files, parts of a split file), takes a
        # slot, so --jobs bounds the requests in flight for the whole run.
        self._slots = threading.BoundedSemaphore(max_in_flight)

    @property
    def where(self) -> str:
        return self._settings.server_url or "the Mistral API"

    def _sdk(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> Any:
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

    def close(self) -> None:
        if self._client is not None:
            self._client.sdk_configuration.client.close()

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        from mistralai.client import errors as sdk_errors

        try:
            yield
        except _RetriesExhausted as exc:
            if exc.status is not None:
                error = _status_error(exc.status, exc.detail, self.where)
                if isinstance(error, ApiError):
                    error.message += f" after {exc.attempts} attempts"
                raise error from None
            raise ApiError(
                f"{self.where}: {exc.detail or 'request failed'} "
                f"(gave up after {exc.attempts} attempts)",
                hint="check the network and --server-url, or raise --timeout/--retries",
            ) from None
        except sdk_errors.ResponseValidationError as exc:
            raise ApiError(
                f"{self.where} sent a response voxcli does not understand: {exc.cause}"
            ) from None
        except sdk_errors.SDKError as exc:
            raise _status_error(exc.status_code, _error_detail(exc.body), self.where) from None
        except sdk_errors.NoResponseError:
            raise ApiError(f"{self.where} sent no response") from None
        except Exception as exc:
            if _is_transport_error(exc):
                raise ApiError(
                    f"{self.where}: {_describe_transport_error(exc)}",
                    hint="check the network and --server-url, or raise --timeout/--retries",
                ) from None
            raise

    def transcribe(self, params: TranscriptionParams, audio: AudioPayload) -> dict[str, Any]:
        """Send one transcription request; the response as a plain dict."""
        sdk = self._sdk()
        kwargs = _transcription_kwargs(params)
        with self._slots, self._translated_errors():
            if audio.url is not None:
                response = sdk.audio.transcriptions.complete(file_url=audio.url, **kwargs)
            else:
                assert audio.path is not None
                with audio.path.open("rb") as stream:
                    response = sdk.audio.transcriptions.complete(
                        file={
                            "file_name": audio.file_name,
                            "content": watch_upload(stream),
                            "content_type": audio.content_type,
                        },
                        **kwargs,
                    )
        return response.model_dump(mode="json", by_alias=True)

    def transcribe_stream(self, params: TranscriptionParams, audio: AudioPayload) -> Iterator[str]:
        """Stream one transcription: yield the text deltas as the API sends them.

        The request holds a ``--jobs`` slot until the stream ends; errors, including a
        connection lost half-way, are translated as :meth:`transcribe`'s are.
        """
        sdk = self._sdk()
        kwargs = _transcription_kwargs(params)
        with self._slots, self._translated_errors(), ExitStack() as stack:
            if audio.url is not None:
                events = sdk.audio.transcriptions.stream(file_url=audio.url, **kwargs)
            else:
                assert audio.path is not None
                stream = stack.enter_context(audio.path.open("rb"))
                events = sdk.audio.transcriptions.stream(
                    file={
                        "file_name": audio.file_name,
                        "content": watch_upload(stream),
                        "content_type": audio.content_type,
                    },
                    **kwargs,
                )
            with events:
                for event in events:
                    if event.event == "transcription.text.delta":
                        text = getattr(event.data, "text", None)
                        if text:
                            yield text


def _transcription_kwargs(params: TranscriptionParams) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": params.model, "diarize": params.diarize}
    if params.language is not None:
        kwargs["language"] = params.language
    if params.temperature is not None:
        kwargs["temperature"] = params.temperature
    if params.context_bias:
        kwargs["context_bias"] = list(params.context_bias)
    if params.timestamp_granularities:
        kwargs["timestamp_granularities"] = list(params.timestamp_granularities)
    return kwargs


def _is_transport_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "TimeoutException", "NetworkError", "RequestError"})
