"""One source in, one :class:`Transcript` out: local audio work, then the API.

Local work (spooling stdin, probing, re-encoding) happens before anything is
sent, and every temporary file is removed however the call ends. A recording
too big for one request, or longer than ``--split-minutes``, goes through
:mod:`voxcli.longform` (split, parts in parallel, merge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voxcli import audio, longform
from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.errors import InputError
from voxcli.longform import SplitOptions
from voxcli.sizes import format_size
from voxcli.sources import Source
from voxcli.transcript import Transcript, transcript_from_response

Report = Callable[[str], None]


@dataclass(frozen=True)
class PreparedAudio:
    """What will be uploaded for a local source, and how it compares to the original."""

    payload: AudioPayload
    info: audio.AudioInfo
    original_bytes: int
    sent_bytes: int


@contextmanager
def local_audio_path(source: Source, stdin: BinaryIO | None) -> Iterator[Path]:
    """The source's path on disk; stdin is spooled to a temporary file first."""
    if source.kind == "stdin":
        if stdin is None:
            raise ValueError("stdin source without a stdin stream")
        spooled = audio.spool_stdin(stdin)
        try:
            yield spooled
        finally:
            spooled.unlink(missing_ok=True)
    else:
        assert source.path is not None
        yield source.path


def probe_source(source: Source, path: Path) -> audio.AudioInfo:
    """Probe a local source's file; errors name stdin, not our temporary spool file."""
    try:
        return audio.probe(path)
    except InputError as exc:
        if source.kind != "stdin":
            raise
        raise InputError(exc.message.replace(str(path), "audio on stdin"), exc.hint) from None


@contextmanager
def prepared_audio(
    source: Source, path: Path, upload_mode: str, info: audio.AudioInfo | None = None
) -> Iterator[PreparedAudio]:
    """Probe the file and, in ``auto`` mode, re-encode lossless audio to 16 kHz mono FLAC."""
    if info is None:
        info = probe_source(source, path)
    name = source.file_name if source.kind == "file" else f"{source.stem}{path.suffix}"
    if audio.plan_upload(info, upload_mode) == "original":
        yield PreparedAudio(AudioPayload(name, path=path), info, info.size, info.size)
        return
    with audio.temp_audio_path(".flac") as flac:
        encoded = audio.encode_flac_16k_mono(path, flac)
        if encoded.bytes >= info.size:  # e.g. 8 kHz mu-law WAV: the original is smaller
            yield PreparedAudio(AudioPayload(name, path=path), info, info.size, info.size)
            return
        payload = AudioPayload(f"{Path(name).stem}.flac", path=flac)
        yield PreparedAudio(payload, info, info.size, encoded.bytes)


def transcribe_source(
    api: MistralApi,
    source: Source,
    params: TranscriptionParams,
    *,
    upload_mode: str = "auto",
    stdin: BinaryIO | None = None,
    report: Report | None = None,
    split: SplitOptions | None = None,
    warn: Report | None = None,
) -> Transcript:
    """Transcribe one source into our own model.

    ``split`` says when to cut long recordings into parts (default: only when the upload
    would exceed the API's limit); ``warn`` receives warnings meant for the user.
    """
    split = split or SplitOptions()
    if source.is_url:
        if split.split_minutes is not None and warn is not None:
            warn(f"{source}: --split-minutes does not apply to URLs (the API fetches them whole)")
        data = api.transcribe(params, AudioPayload(source.file_name, url=source.raw))
        return transcript_from_response(
            data, source=str(source), granularities=params.timestamp_granularities
        )
    with local_audio_path(source, stdin) as path:
        info = probe_source(source, path)
        plan = longform.plan_split(info, upload_mode, params, split, label=str(source))
        if plan is not None:
            return longform.transcribe_in_parts(
                api, source, path, info, params, plan, split, report=report, warn=warn
            )
        if split.split_minutes is not None and not info.decodable and warn is not None:
            warn(f"{source}: voxcli cannot cut {info.format} files; sending it in one request")
        with prepared_audio(source, path, upload_mode, info) as ready:
            if report is not None:
                report(upload_summary(source, ready))
            data = api.transcribe(params, ready.payload)
    return transcript_from_response(
        data,
        source=str(source),
        granularities=params.timestamp_granularities,
        duration=ready.info.duration,
    )


def upload_summary(source: Source, ready: PreparedAudio) -> str:
    """The ``--verbose`` line saying what is sent for one request, and how much was saved."""
    sent, original = ready.sent_bytes, ready.original_bytes
    if sent == original:
        return f"{source}: sending {format_size(sent)} as is"
    saved = 100 * (1 - sent / original) if original else 0.0
    return (
        f"{source}: sending {format_size(sent)} of 16 kHz mono FLAC "
        f"instead of {format_size(original)} ({saved:.0f}% less)"
    )
