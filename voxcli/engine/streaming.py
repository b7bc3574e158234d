"""``--stream``: print one source's transcript on stdout as the API streams it.

A stream is one request: it cannot be split (``--split-minutes`` is refused when the
request is built), so an upload over the API's limit is refused here, before anything
is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, TextIO

from voxcli import audio
from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.audio.prepare import (
    check_url_track,
    local_audio_path,
    prepared_audio,
    probe_source,
    upload_summary,
)
from voxcli.console import Say as Report
from voxcli.console import server_text
from voxcli.errors import InputError, UsageError
from voxcli.output.sinks import write_stdout
from voxcli.sizes import clock, format_size
from voxcli.sources import Source


def stream_source(
    api: MistralApi,
    source: Source,
    params: TranscriptionParams,
    out: TextIO,
    *,
    temp_dir: Path,
    limit: int,
    upload_mode: str = "auto",
    stdin: BinaryIO | None = None,
    report: Report | None = None,
    request_seconds: float | None = None,
    audio_track: int | None = None,
) -> None:
    """Write the text deltas to ``out`` as they arrive (flushed), then a newline.

    ``report`` receives the same upload summary as a non-streamed transcription.
    ``request_seconds``: the longest audio one request to the model holds; a longer
    recording is refused before it is sent (a stream is one request, never split).
    ``audio_track``: the audio stream of a local source to send (None: the first).

    The text loses its control characters on the way (:func:`~voxcli.console.server_text`);
    a stream that fails or ends early gets its line ended before the error goes up, and a
    closed stdout is :class:`~voxcli.output.sinks.StdoutClosed` (exit 141).
    """
    if source.is_url:
        check_url_track(source, audio_track)
        _print_deltas(api, params, AudioPayload(source.file_name, url=source.raw), out)
        return
    with local_audio_path(source, stdin, temp_dir) as path:
        info = probe_source(source, path, audio_track)
        if request_seconds is not None and (info.duration or 0) > request_seconds:
            raise UsageError(
                f"{source} is {clock(info.duration or 0)} long, more than the about "
                f"{clock(request_seconds)} of audio one {params.model} request holds",
                hint="drop --stream: then voxcli splits it and sends the parts in parallel",
            )
        if audio.plan_upload(info, upload_mode) == "original":  # known before encoding
            _check_size(source, info, info.size, limit)
        with prepared_audio(source, path, upload_mode, info, temp_dir) as ready:
            _check_size(source, info, ready.sent_bytes, limit)
            if report is not None:
                report(upload_summary(source, ready))
            _print_deltas(api, params, ready.payload, out)


def _check_size(source: Source, info: audio.AudioInfo, size: int, limit: int) -> None:
    """Refuse an upload the API would reject for its size, before it is sent."""
    if size <= limit:
        return
    if info.decodable:
        hint = "drop --stream: voxcli then cuts it at quiet points and sends the parts in parallel"
    else:
        hint = (
            f"voxcli cannot cut {info.format} files: convert it to FLAC first (e.g. ffmpeg -i IN "
            "-ac 1 -ar 16000 OUT.flac), then drop --stream so voxcli can split it"
        )
    raise InputError(
        f"{source}: --stream sends the audio in one request, and its {format_size(size)} "
        f"upload is over the API's {format_size(limit)} limit",
        hint=hint,
    )


def _print_deltas(
    api: MistralApi, params: TranscriptionParams, audio: AudioPayload, out: TextIO
) -> None:
    started = False
    try:
        for delta in api.transcribe_stream(params, audio):
            delta = server_text(delta)
            if not started:  # the first delta usually starts with the space between words
                delta = delta.lstrip()
                started = bool(delta)
            if delta:
                write_stdout(delta, out)
    except BaseException:
        if started:  # end the line of an interrupted transcript
            write_stdout("\n", out)
        raise
    write_stdout("\n", out)
