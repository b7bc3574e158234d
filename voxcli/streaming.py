"""``--stream``: print one source's transcript on stdout as the API streams it."""

from __future__ import annotations

from typing import BinaryIO, TextIO

from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.pipeline import local_audio_path, prepared_audio
from voxcli.sources import Source


def stream_source(
    api: MistralApi,
    source: Source,
    params: TranscriptionParams,
    out: TextIO,
    *,
    upload_mode: str = "auto",
    stdin: BinaryIO | None = None,
) -> None:
    """Write the text deltas to ``out`` as they arrive (flushed), then a newline."""
    if source.is_url:
        _print_deltas(api, params, AudioPayload(source.file_name, url=source.raw), out)
        return
    with (
        local_audio_path(source, stdin) as path,
        prepared_audio(source, path, upload_mode) as ready,
    ):
        _print_deltas(api, params, ready.payload, out)


def _print_deltas(
    api: MistralApi, params: TranscriptionParams, audio: AudioPayload, out: TextIO
) -> None:
    started = False
    for delta in api.transcribe_stream(params, audio):
        if not started:  # the first delta usually starts with the space between words
            delta = delta.lstrip()
            started = bool(delta)
        out.write(delta)
        out.flush()
    out.write("\n")
    out.flush()
