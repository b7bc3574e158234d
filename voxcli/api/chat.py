"""``/v1/chat/completions`` with audio: a whole answer, or a stream you iterate for text
and then ask for the final :class:`ChatResult`."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

from voxcli.api.client import ApiClient
from voxcli.api.transcriptions import stream_ended_early
from voxcli.api.types import ChatParams, ChatResult


def chat(client: ApiClient, params: ChatParams, messages: list[dict[str, Any]]) -> ChatResult:
    """Send one chat request and wait for the whole answer."""
    with client.call() as sdk:
        response = sdk.chat.complete(**_kwargs(params, messages))
    choice = response.choices[0] if response.choices else None
    message = choice.message if choice is not None else None
    return ChatResult(
        text=content_text(message.content if message is not None else None),
        model=response.model,
        usage=usage_dict(response.usage),
        finish_reason=str(choice.finish_reason) if choice is not None else None,
    )


class ChatStream:
    """One streamed answer: iterate for the text deltas, then read :attr:`result`.

    The request holds a slot until the stream is exhausted or :meth:`close`\\ d (use it
    as a context manager, so an interrupted answer frees its slot at once). A stream that
    ends without a chunk carrying a finish reason (the final chunk, before ``[DONE]``) is
    an :class:`~voxcli.errors.ApiError`: "the stream ended early".
    """

    def __init__(self, client: ApiClient, params: ChatParams, messages: list[dict[str, Any]]):
        self._client = client
        self._params = params
        self._messages = messages
        self._parts: list[str] = []
        self._model: str | None = None
        self._usage: dict[str, Any] = {}
        self._finish: str | None = None
        self._done = False
        self._deltas = self._run()

    def __iter__(self) -> Iterator[str]:
        return self._deltas

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._deltas.close()

    @property
    def result(self) -> ChatResult:
        """The whole answer; only once the stream has been read to its end."""
        if not self._done:
            raise RuntimeError("the chat stream has not been read to its end")
        return ChatResult(
            text="".join(self._parts),
            model=self._model,
            usage=self._usage,
            finish_reason=self._finish,
        )

    def _run(self) -> Generator[str, None, None]:
        with ExitStack() as stack:
            sdk = stack.enter_context(self._client.call())
            events = stack.enter_context(sdk.chat.stream(**_kwargs(self._params, self._messages)))
            for event in events:
                chunk = event.data
                self._model = chunk.model or self._model
                if chunk.usage is not None:
                    self._usage = usage_dict(chunk.usage)
                for choice in chunk.choices[:1]:
                    if choice.finish_reason is not None:
                        self._finish = str(choice.finish_reason)
                    text = content_text(choice.delta.content)
                    if text:
                        self._parts.append(text)
                        yield text
        if self._finish is None:
            raise stream_ended_early(self._client.where)
        self._done = True


def _kwargs(params: ChatParams, messages: list[dict[str, Any]]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": params.model, "messages": messages}
    if params.temperature is not None:
        kwargs["temperature"] = params.temperature
    if params.max_tokens is not None:
        kwargs["max_tokens"] = params.max_tokens
    return kwargs


def content_text(content: Any) -> str:
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


def usage_dict(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    data = usage.model_dump(mode="json", by_alias=True)
    keys = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_audio_seconds")
    return {key: data.get(key) for key in keys}
