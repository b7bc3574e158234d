"""The realtime transcription link: the only code that touches the SDK's realtime client.

:func:`open_link` connects (every session setting goes in the first ``session.update``,
before any audio) and returns a :class:`RealtimeLink`, which sends PCM in messages of at
most :data:`~voxcli.live.types.MAX_MESSAGE_BYTES` and yields our own events
(:mod:`voxcli.live.types`). Failures come out as voxcli's errors:

- HTTP 401/403 at the handshake → :class:`~voxcli.errors.AuthError` (exit 3);
- other 4xx at the handshake, or an ``error`` event with a 4xx code (bad settings, a
  refused message) → :class:`SessionRefused` (exit 2) with the server's message;
- a dropped connection, a network failure or timeout, 408/429/5xx at the handshake or in
  an ``error`` event → :class:`LinkLost` (exit 1 once retries are spent; retryable);
- an ``error`` event with any other code → :class:`~voxcli.errors.ApiError` (exit 1).

The SDK (``mistralai.extra.realtime``, which needs ``websockets``) is imported on first use.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from typing import Any

from voxcli.api.client import ApiClient
from voxcli.api.errors import NETWORK_HINT, error_detail, one_line, status_error
from voxcli.errors import ApiError, AuthError, UsageError, VoxcliError
from voxcli.live.types import (
    MAX_MESSAGE_BYTES,
    LanguageDetected,
    LinkEvent,
    LiveSettings,
    PcmFormat,
    SegmentDone,
    SessionDone,
    TextDelta,
    TurnEvent,
)

INSTALL_HINT = "install the realtime extra: pip install 'mistralai[realtime]'"
CLOSE_TIMEOUT = 2.0
"""Seconds a close may wait for the server's close frame before the socket is cut."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RETRYABLE_STATUSES = (408, 429)
_TURN_KINDS: dict[str, Any] = {
    "turn.start": "start",
    "turn.eager_end": "eager_end",
    "turn.resume": "resume",
    "turn.end": "end",
}


class LinkLost(ApiError):
    """The realtime connection failed in a way a new connection may fix (dropped, network,
    timeout, 408/429/5xx); exit 1 once the session's retries are spent."""


class SessionRefused(UsageError):
    """The server refused the session: a 4xx at the handshake (unknown model, bad query) or
    an ``error`` event about the settings or a message (exit 2, never retried)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.detail = detail


def server_text(text: str, limit: int = 300) -> str:
    """Text from the server made safe for one line of a terminal (control characters gone)."""
    return one_line(_CONTROL.sub(" ", text), limit)


class RealtimeLink:
    """One open realtime connection (the SDK's ``RealtimeConnection`` inside)."""

    def __init__(self, connection: Any, audio: PcmFormat, where: str, timeout: float) -> None:
        self._connection = connection
        self._audio = audio
        self._where = where
        self._timeout = timeout
        self._step = MAX_MESSAGE_BYTES // audio.frame_bytes * audio.frame_bytes
        self._finished = False  # transcription.done arrived

    @property
    def audio(self) -> PcmFormat:
        return self._audio

    async def send(self, pcm: bytes) -> None:
        """Send whole sample frames, in messages of at most ``MAX_MESSAGE_BYTES`` each (every
        one a whole number of frames)."""
        if len(pcm) % self._audio.frame_bytes:
            raise ValueError(f"{len(pcm)} bytes are not whole {self._audio.encoding} frames")
        view = memoryview(pcm)
        for offset in range(0, len(pcm), self._step):
            piece = view[offset : offset + self._step]
            await self._guarded(self._connection.send_audio(piece), "sending audio")

    async def flush(self) -> None:
        """``input_audio.flush``: ask for the segment heard so far."""
        await self._guarded(self._connection.flush_audio(), "flushing audio")

    async def end(self) -> None:
        """``input_audio.end``: no more audio; the server finishes with ``transcription.done``."""
        await self._guarded(self._connection.end_audio(), "ending the audio")

    async def close(self) -> None:
        """Close the connection: politely once the transcript is done, else by cutting it
        (a link given up on may hold unread events, and while they wait ``websockets`` stops
        reading, so the server's close frame would never be seen). Always bounded."""
        if not self._finished:
            self._abort()
        try:
            await asyncio.wait_for(self._connection.close(), CLOSE_TIMEOUT)
        except (asyncio.TimeoutError, OSError):
            self._abort()
        except Exception as exc:
            if not _is_connection_closed(exc):
                raise
            self._abort()

    def _abort(self) -> None:
        """Cut the TCP connection (no closing handshake)."""
        websocket = getattr(self._connection, "_websocket", None)
        transport = getattr(websocket, "transport", None)
        if transport is not None:
            transport.abort()

    async def events(self) -> AsyncGenerator[LinkEvent, None]:
        """Our events from the server, in order, up to :class:`SessionDone` (then it stops).

        Raises :class:`LinkLost` when the connection ends without ``transcription.done``, and
        the translated error for an ``error`` event."""
        from mistralai.client import models

        stream = self._connection.events()
        try:
            async for event in stream:
                if isinstance(event, models.TranscriptionStreamDone):
                    self._finished = True
                    language = event.language if isinstance(event.language, str) else None
                    yield SessionDone(language=language)
                    return
                converted = self._convert(event, models)
                if converted is not None:
                    yield converted
        except asyncio.CancelledError:
            raise
        except VoxcliError:
            raise
        except Exception as exc:
            raise self._lost(exc, "receiving events") from None
        finally:
            if not self._finished:
                self._abort()  # the SDK's iterator closes the connection: never wait for it
            await stream.aclose()
        # The SDK swallows a cancellation of its iterator and just ends: pass it on.
        task = asyncio.current_task()
        cancelling = getattr(task, "cancelling", None)
        if cancelling is not None and cancelling():
            raise asyncio.CancelledError
        raise LinkLost(
            f"{self._where} closed the realtime connection before the transcript was done",
            hint=NETWORK_HINT,
        )

    def _convert(self, event: Any, models: Any) -> LinkEvent | None:
        if isinstance(event, models.TranscriptionStreamTextDelta):
            return TextDelta(event.text)
        if isinstance(event, models.TranscriptionStreamSegmentDelta):
            speaker = event.speaker_id if isinstance(event.speaker_id, str) else None
            return SegmentDone(event.text, _seconds(event.start), _seconds(event.end), speaker)
        if isinstance(event, models.TranscriptionStreamLanguage):
            return LanguageDetected(event.audio_language)
        kind = _TURN_KINDS.get(str(getattr(event, "type", "")))
        if kind is not None:
            reason = getattr(event, "end_reason", None)
            at = _seconds(getattr(event, "time_s", None))
            return TurnEvent(kind, None if reason is None else str(reason), at)
        if isinstance(event, models.RealtimeTranscriptionError):
            raise event_error(_error_message(event.error.message), event.error.code, self._where)
        if isinstance(event, models.RealtimeTranscriptionSessionUpdated):
            self._check_format(event.session.audio_format)
            return None
        if getattr(event, "type", None) == "error":  # an error event the SDK could not parse
            content = getattr(event, "content", None)
            error = content.get("error") if isinstance(content, dict) else None
            message = _error_message(error.get("message") if isinstance(error, dict) else None)
            code = error.get("code") if isinstance(error, dict) else None
            raise event_error(message, code if isinstance(code, int) else None, self._where)
        return None  # session.created, and event types newer than this code

    def _check_format(self, audio_format: Any) -> None:
        """The SDK drops an encoding it does not know from ``session.update`` without a word:
        make sure the server took the format the audio is in."""
        encoding = str(getattr(audio_format, "encoding", ""))
        rate = getattr(audio_format, "sample_rate", None)
        if (encoding, rate) != (self._audio.encoding, self._audio.sample_rate):
            raise SessionRefused(
                f"{self._where} set the audio format to {server_text(encoding, 40)} at {rate} Hz,"
                f" not {self._audio.encoding} at {self._audio.sample_rate} Hz"
            )

    async def _guarded(self, operation: Any, doing: str) -> None:
        try:
            await asyncio.wait_for(operation, self._timeout)
        except asyncio.TimeoutError:
            raise LinkLost(
                f"{self._where}: the realtime connection timed out while {doing}",
                hint=NETWORK_HINT,
            ) from None
        except Exception as exc:
            raise self._lost(exc, doing) from None

    def _lost(self, exc: BaseException, doing: str) -> LinkLost:
        if _is_connection_closed(exc) or isinstance(exc, OSError | RuntimeError):
            return LinkLost(
                f"{self._where}: the realtime connection was lost while {doing}",
                hint=NETWORK_HINT,
            )
        return LinkLost(
            f"{self._where}: the realtime connection failed while {doing}:"
            f" {server_text(str(exc) or type(exc).__name__, 200)}",
            hint=NETWORK_HINT,
        )


async def open_link(client: ApiClient, settings: LiveSettings, *, timeout: float) -> RealtimeLink:
    """Connect and send every session setting in the first ``session.update``.

    ``timeout`` bounds the handshake (and the wait for ``session.created``) and then each
    message sent."""
    sdk = await asyncio.to_thread(client.sdk)
    try:
        from mistralai.client.models import AudioFormat, TurnDetectionConfig
        from mistralai.extra.exceptions import RealtimeTranscriptionException
        from mistralai.extra.realtime import RealtimeTranscription
    except ImportError as exc:
        raise UsageError(
            f"realtime transcription needs a package that is missing: {exc}", hint=INSTALL_HINT
        ) from None

    where = client.where
    turn_detection = None
    if settings.turn_detection is not None:
        min_silence = settings.turn_detection.min_silence_ms
        turn_detection = (
            TurnDetectionConfig()
            if min_silence is None
            else TurnDetectionConfig(min_silence_ms=min_silence)
        )
    realtime: RealtimeTranscription = sdk.audio.realtime
    connecting = realtime.connect(
        model=settings.model,
        audio_format=AudioFormat(
            encoding=settings.audio.encoding, sample_rate=settings.audio.sample_rate
        ),
        target_streaming_delay_ms=settings.target_streaming_delay_ms,
        timeout_ms=int(timeout * 1000),
        diarize=settings.diarize,
        context_bias=list(settings.context_bias) or None,
        language=settings.language,
        speaker_references=dict(settings.speaker_references) or None,
        turn_detection=turn_detection,
    )
    try:
        # The SDK bounds the opening and the wait for session.created by the timeout each.
        connection = await asyncio.wait_for(connecting, 2 * timeout + 1)
    except asyncio.TimeoutError:
        raise LinkLost(
            f"{where}: timed out opening the realtime connection", hint=NETWORK_HINT
        ) from None
    except RealtimeTranscriptionException as exc:
        raise _handshake_error(exc, where) from None
    except Exception as exc:
        raise LinkLost(
            f"{where}: could not open the realtime connection ({type(exc).__name__})",
            hint=NETWORK_HINT,
        ) from None
    return RealtimeLink(connection, settings.audio, where, timeout)


def _handshake_error(exc: Any, where: str) -> Exception:
    """Our error for a failed ``connect``: the HTTP status is on the cause, an ``error`` event
    before ``session.created`` on the exception itself."""
    from websockets.exceptions import InvalidStatus, InvalidURI

    cause = exc.__cause__
    if isinstance(cause, InvalidStatus):
        response = cause.response
        body = response.body.decode("utf-8", "replace") if response.body else None
        detail = error_detail(body)
        return handshake_status_error(
            response.status_code, None if detail is None else server_text(detail), where
        )
    if isinstance(cause, InvalidURI):
        return UsageError(f"{where} is not a usable realtime address: {server_text(str(cause))}")
    payload = getattr(exc, "payload", None)
    if payload is not None:  # an error event during the handshake
        error = getattr(payload, "error", None)
        message = _error_message(getattr(error, "message", None) or str(exc))
        return event_error(message, getattr(exc, "code", None), where)
    if "Timeout" in str(exc):
        return LinkLost(f"{where}: timed out waiting for the realtime session", hint=NETWORK_HINT)
    return LinkLost(f"{where}: could not open the realtime connection", hint=NETWORK_HINT)


def handshake_status_error(status: int, detail: str | None, where: str) -> Exception:
    """Our error for an HTTP status refusing the WebSocket handshake."""
    if status in (401, 403):
        return status_error(status, detail, where)
    text = f"{where} refused the realtime connection (HTTP {status})" + (
        f": {detail}" if detail else ""
    )
    if status in _RETRYABLE_STATUSES or status >= 500:
        return LinkLost(text, hint=NETWORK_HINT, status=status, detail=detail)
    if 400 <= status < 500:
        return SessionRefused(
            text, hint="check --model and the session options", status=status, detail=detail
        )
    return ApiError(text, status=status, detail=detail)


def event_error(message: str, code: int | None, where: str) -> Exception:
    """Our error for an ``error`` event (``code`` is HTTP-like where the server uses it)."""
    text = server_text(message)
    coded = f" (code {code})" if code is not None else ""
    if code in (401, 403):
        return AuthError(
            f"{where} rejected the API key: {text}",
            hint="check MISTRAL_API_KEY, the config file's api_key or --api-key-file",
        )
    if code is not None and (code in _RETRYABLE_STATUSES or 500 <= code < 600):
        return LinkLost(f"{where} reported an error{coded}: {text}", status=code, detail=text)
    if code is not None and 400 <= code < 500:
        return SessionRefused(
            f"{where} refused the session{coded}: {text}", status=code, detail=text
        )
    return ApiError(f"{where} ended the session with an error{coded}: {text}", detail=text)


def _error_message(message: Any) -> str:
    """The human part of an ``error`` event's message (a string, or an object with one)."""
    if isinstance(message, str) and message:
        return message
    if isinstance(message, dict):
        for key in ("detail", "message"):
            if isinstance(message.get(key), str) and message[key]:
                return str(message[key])
        return json.dumps(message)[:200]
    return "realtime transcription error"


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _is_connection_closed(exc: BaseException) -> bool:
    from websockets.exceptions import ConnectionClosed

    return isinstance(exc, ConnectionClosed)


__all__ = [
    "LinkLost",
    "RealtimeLink",
    "SessionRefused",
    "event_error",
    "handshake_status_error",
    "open_link",
    "server_text",
]
