"""Questions about audio: the messages, the audio references, and printing the answer.

Local audio goes inline as base64 (lossless input re-encoded to 16 kHz mono FLAC first,
as ``transcribe --upload auto`` does), unless it is bigger than the upload threshold: then
it is uploaded through the Files API (visible to the key's user only, expiring after an
hour), referenced by a signed URL and deleted afterwards, however the request ends. URLs
are passed to the API as they are.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from voxcli.api import ChatResult, MistralApi
from voxcli.api.files import PRIVATE_VISIBILITY, SHORTEST_EXPIRY_HOURS
from voxcli.audio.prepare import PreparedAudio, local_audio_path, prepared_audio
from voxcli.console import Say as Report
from voxcli.console import server_text
from voxcli.output.sinks import write_stdout
from voxcli.sizes import format_size
from voxcli.sources import Source


@dataclass(frozen=True)
class AudioRef:
    """What one ``input_audio`` chunk carries: base64 audio, a URL or a signed URL."""

    source: Source
    value: str
    how: str  # "inline", "url" or "uploaded"


def build_messages(
    prompt: str, audio: Sequence[AudioRef], system: str | None = None
) -> list[dict[str, Any]]:
    """The chat messages: an optional system message, then the clips in order and the question."""
    messages: list[dict[str, Any]] = []
    if system is not None and system.strip():
        messages.append({"role": "system", "content": system})
    content: list[dict[str, Any]] = [
        {"type": "input_audio", "input_audio": ref.value} for ref in audio
    ]
    content.append({"type": "text", "text": prompt})
    messages.append({"role": "user", "content": content})
    return messages


@contextmanager
def audio_refs(
    api: MistralApi,
    sources: Sequence[Source],
    *,
    stdin: BinaryIO | None,
    upload_threshold: int,
    temp_dir: Path,
    report: Report | None = None,
    warn: Report | None = None,
) -> Iterator[list[AudioRef]]:
    """Yield one :class:`AudioRef` per source, in order; clean up everything on exit.

    Every local file is checked (and re-encoded) before anything is sent, so a missing
    file fails before any upload. Uploaded files are deleted when the block ends, also
    when it ends with an error or Ctrl-C; a failed delete is a warning, not an error.
    """
    with ExitStack() as stack:
        prepared: list[PreparedAudio | None] = []
        for source in sources:
            if source.is_url:
                prepared.append(None)
                continue
            path = stack.enter_context(
                local_audio_path(source, stdin if source.kind == "stdin" else None, temp_dir)
            )
            prepared.append(
                stack.enter_context(prepared_audio(source, path, "auto", None, temp_dir))
            )
        refs: list[AudioRef] = []
        for source, ready in zip(sources, prepared, strict=True):
            if ready is None:
                refs.append(AudioRef(source, source.raw, "url"))
            elif ready.sent_bytes > upload_threshold:
                refs.append(_upload(api, stack, source, ready, report, warn))
            else:
                refs.append(_inline(source, ready, report))
        yield refs


def _inline(source: Source, ready: PreparedAudio, report: Report | None) -> AudioRef:
    assert ready.payload.path is not None
    data = ready.payload.path.read_bytes()
    if report is not None:
        report(f"{source}: sending {_describe(ready)} inline")
    return AudioRef(source, base64.b64encode(data).decode("ascii"), "inline")


def _upload(
    api: MistralApi,
    stack: ExitStack,
    source: Source,
    ready: PreparedAudio,
    report: Report | None,
    warn: Report | None,
) -> AudioRef:
    assert ready.payload.path is not None
    if report is not None:
        report(f"{source}: uploading {_describe(ready)} through the Files API")
    # Visible to this key's user only, and expiring on its own within the hour, so a
    # failed delete (or a killed process) does not leave the audio around for good.
    file_id = api.upload_file(
        ready.payload.path,
        ready.payload.file_name,
        purpose="audio",
        expiry_hours=SHORTEST_EXPIRY_HOURS,
        visibility=PRIVATE_VISIBILITY,
    )
    # Registered before anything else can fail, so the file is deleted whatever happens next.
    stack.callback(_delete, api, source, file_id, report, warn)
    return AudioRef(source, api.signed_url(file_id), "uploaded")


def _delete(
    api: MistralApi, source: Source, file_id: str, report: Report | None, warn: Report | None
) -> None:
    try:
        api.delete_file(file_id)
    except Exception as exc:  # cleanup must never hide the error that got us here
        if warn is not None:
            reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            warn(f"{source}: could not delete uploaded file {file_id}: {reason}")
        return
    if report is not None:
        report(f"{source}: deleted uploaded file {file_id}")


def _describe(ready: PreparedAudio) -> str:
    sent = format_size(ready.sent_bytes)
    if ready.sent_bytes == ready.original_bytes:
        return sent
    return f"{sent} of 16 kHz mono FLAC (was {format_size(ready.original_bytes)})"


def write_answer(pieces: Iterable[str], out: TextIO) -> None:
    """Print text deltas as they arrive (flushed) and end with exactly one newline.

    Trailing newlines of the answer are held back until more text follows, so the
    output ends with one newline whatever the model sent. Control characters other than
    newlines and tabs are dropped (:func:`~voxcli.console.server_text`): the answer is the
    server's text, and it may be printed on a terminal.
    """
    pending = ""
    wrote = False
    try:
        for piece in pieces:
            text = pending + server_text(piece)
            body = text.rstrip("\r\n")
            pending = text[len(body) :]
            if body:
                write_stdout(body, out)
                wrote = True
    except BaseException:
        if wrote:  # end the line of an interrupted answer
            write_stdout("\n", out)
        raise
    write_stdout("\n", out)


def answer_json(result: ChatResult) -> dict[str, Any]:
    """The ``--json`` object: answer, model, usage and finish reason."""
    return {
        "answer": server_text(result.text),
        "model": result.model,
        "usage": result.usage,
        "finish_reason": result.finish_reason,
    }
