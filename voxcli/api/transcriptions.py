"""``/v1/audio/transcriptions``: one request, or one streamed request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, BinaryIO

from voxcli.api.client import ApiClient
from voxcli.api.types import AudioPayload, TranscriptionParams
from voxcli.api.uploads import UploadCallback, counting
from voxcli.errors import ApiError
from voxcli.transcript import Transcript, transcript_from_response

STREAM_ENDED_HINT = "the server closed the stream before the end; try again"


def stream_ended_early(where: str) -> ApiError:
    """The error for a stream that stopped, without an error, before its final event."""
    return ApiError(f"{where}: the stream ended early, before its final event", STREAM_ENDED_HINT)


def transcribe(
    client: ApiClient,
    params: TranscriptionParams,
    audio: AudioPayload,
    on_upload: UploadCallback | None = None,
) -> Transcript:
    """Send one transcription request; the answer as our own :class:`Transcript`."""
    kwargs = _kwargs(params)
    with client.call() as sdk, ExitStack() as stack:
        response = sdk.audio.transcriptions.complete(
            **_audio_kwargs(audio, stack, on_upload), **kwargs
        )
    return transcript_from_response(
        response.model_dump(mode="json", by_alias=True),
        granularities=params.timestamp_granularities,
    )


def transcribe_stream(
    client: ApiClient,
    params: TranscriptionParams,
    audio: AudioPayload,
    on_upload: UploadCallback | None = None,
) -> Iterator[str]:
    """Stream one transcription: yield the text deltas as the API sends them.

    The request holds a ``--jobs`` slot until the stream ends; errors, including a
    connection lost half-way, are translated as :func:`transcribe`'s are. A stream that
    ends without its ``transcription.done`` event is an :class:`ApiError` ("the stream
    ended early"), raised after the deltas that did arrive.
    """
    kwargs = _kwargs(params)
    done = False
    with client.call() as sdk, ExitStack() as stack:
        events = sdk.audio.transcriptions.stream(**_audio_kwargs(audio, stack, on_upload), **kwargs)
        with events:
            for event in events:
                if event.event == "transcription.text.delta":
                    text = getattr(event.data, "text", None)
                    if text:
                        yield text
                elif event.event == "transcription.done":
                    done = True
    if not done:
        raise stream_ended_early(client.where)


def wire_name(name: str) -> str:
    """A file name that can go in a multipart header (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def file_part(
    audio: AudioPayload, stack: ExitStack, on_upload: Callable[[int, int], None] | None
) -> dict[str, Any]:
    """The SDK's ``file`` argument for a local payload, streamed from disk."""
    assert audio.path is not None
    stream: BinaryIO = stack.enter_context(audio.path.open("rb"))
    return {
        "file_name": wire_name(audio.file_name),
        "content": counting(stream, on_upload),
        "content_type": audio.content_type,
    }


def _audio_kwargs(
    audio: AudioPayload, stack: ExitStack, on_upload: UploadCallback | None
) -> dict[str, Any]:
    if audio.url is not None:
        return {"file_url": audio.url}
    return {"file": file_part(audio, stack, on_upload)}


def _kwargs(params: TranscriptionParams) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": params.model, "diarize": params.diarize}
    if params.language is not None:
        kwargs["language"] = params.language
    if params.temperature is not None:
        kwargs["temperature"] = params.temperature
    if params.context_bias:
        kwargs["context_bias"] = list(params.context_bias)
    if params.timestamp_granularities:
        kwargs["timestamp_granularities"] = list(params.timestamp_granularities)
    if params.speaker_references:
        kwargs["speaker_references"] = dict(params.speaker_references)
    return kwargs
