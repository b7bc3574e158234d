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


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_detail(body: str | None) -> str | None:
    """The human part of an API error body, on one line."""
    detail = _raw_error_detail(body)
    return _one_line(detail) if detail else None


def _raw_error_detail(body: str | None) -> str | None:
    """Mistral sends JSON with a message; other servers may send anything."""
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


def _status_error(status: int, detail: str | None, where: str, attempts: int = 1) -> Exception:
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    detail_text = f"{tried}: {detail}" if detail else tried
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

    @property
    def server_url(self) -> str | None:
        """The configured server URL (None: the SDK's default, the Mistral API)."""
        return self._settings.server_url

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
                raise _status_error(exc.status, exc.detail, self.where, exc.attempts) from None
            raise ApiError(
                f"{self.where}: {exc.detail or 'request failed'} "
                f"(gave up after {exc.attempts} attempts)",
                hint="check the network and --server-url, or raise --timeout/--retries",
            ) from None
        except sdk_errors.ResponseValidationError as exc:
            raise ApiError(
                f"{self.where} sent a response voxcli does not understand: "
                f"{_one_line(str(exc.cause), 200)}"
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
                            "file_name": _wire_name(audio.file_name),
                            "content": watch_upload(stream),
                            "content_type": audio.content_type,
                        },
                        **kwargs,
                    )
        return response.model_dump(mode="json", by_alias=True)

    def chat(self, params: ChatParams, messages: list[dict[str, Any]]) -> ChatResult:
        """Send one chat request and wait for the whole answer."""
        sdk = self._sdk()
        with self._slots, self._translated_errors():
            response = sdk.chat.complete(**_chat_kwargs(params, messages))
        choice = response.choices[0] if response.choices else None
        message = choice.message if choice is not None else None
        return ChatResult(
            text=_content_text(message.content if message is not None else None),
            model=response.model,
            usage=_usage_dict(response.usage),
            finish_reason=str(choice.finish_reason) if choice is not None else None,
        )

    def chat_stream(
        self, params: ChatParams, messages: list[dict[str, Any]]
    ) -> Iterator[str | ChatResult]:
        """Stream one chat answer: text deltas as they arrive, then one :class:`ChatResult`."""
        sdk = self._sdk()
        parts: list[str] = []
        model: str | None = None
        usage: dict[str, Any] = {}
        finish: str | None = None
        with (
            self._slots,
            self._translated_errors(),
            sdk.chat.stream(**_chat_kwargs(params, messages)) as events,
        ):
            for event in events:
                chunk = event.data
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = _usage_dict(chunk.usage)
                for choice in chunk.choices[:1]:
                    if choice.finish_reason is not None:
                        finish = str(choice.finish_reason)
                    text = _content_text(choice.delta.content)
                    if text:
                        parts.append(text)
                        yield text
        yield ChatResult(text="".join(parts), model=model, usage=usage, finish_reason=finish)

    def upload_file(self, path: Path, file_name: str, purpose: str = "audio") -> str:
        """Upload a file through the Files API (streamed from disk); return its id."""
        sdk = self._sdk()
        content_type = AudioPayload(file_name).content_type
        with self._slots, self._translated_errors(), path.open("rb") as stream:
            response = sdk.files.upload(
                file={
                    "file_name": _wire_name(file_name),
                    "content": stream,
                    "content_type": content_type,
                },
                purpose=purpose,
            )
        return str(response.id)

    def signed_url(self, file_id: str, expiry_hours: int | None = None) -> str:
        """A signed URL to an uploaded file, valid for ``expiry_hours`` (1 to 168; default 1)."""
        sdk = self._sdk()
        expiry_hours = SIGNED_URL_EXPIRY_HOURS if expiry_hours is None else expiry_hours
        with self._slots, self._translated_errors():
            response = sdk.files.get_signed_url(file_id=file_id, expiry=expiry_hours)
        return str(response.url)

    def delete_file(self, file_id: str) -> None:
        """Delete an uploaded file."""
        sdk = self._sdk()
        with self._slots, self._translated_errors():
            sdk.files.delete(file_id=file_id)

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
                        "file_name": _wire_name(audio.file_name),
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


def _wire_name(name: str) -> str:
    """A file name that can go in a multipart header (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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


# --- chat and files ------------------------------------------------------------------------------

SIGNED_URL_EXPIRY_HOURS = 1  # the API's minimum: the URL is used once, at once


@dataclass(frozen=True)
class ChatParams:
    """The API parameters of one chat request besides the messages."""

    model: str
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class ChatResult:
    """A whole chat answer: its text, the model that wrote it, what it cost, why it ended."""

    text: str
    model: str | None
    usage: dict[str, Any]
    finish_reason: str | None


def _chat_kwargs(params: ChatParams, messages: list[dict[str, Any]]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": params.model, "messages": messages}
    if params.temperature is not None:
        kwargs["temperature"] = params.temperature
    if params.max_tokens is not None:
        kwargs["max_tokens"] = params.max_tokens
    return kwargs


def _content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text of its text chunks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for chunk in content:
        data = chunk if isinstance(chunk, Mapping) else chunk.model_dump(by_alias=True)
        if data.get("type") == "text" and isinstance(data.get("text"), str):
            parts.append(data["text"])
    return "".join(parts)


def _usage_dict(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    data = usage.model_dump(mode="json", by_alias=True)
    keys = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_audio_seconds")
    return {key: data.get(key) for key in keys}
