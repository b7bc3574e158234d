"""A local source made ready to send: stdin spooled, the file probed, lossless audio
re-encoded to 16 kHz mono FLAC when that is smaller. Temporary files always go away."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voxcli.api.types import AudioPayload
from voxcli.audio.encode import encode_flac_16k_mono
from voxcli.audio.probe import AudioInfo, api_accepts, plan_upload, probe
from voxcli.audio.spool import spool_stdin, temp_audio_path
from voxcli.errors import InputError
from voxcli.params import URL_TRACK_HINT, URL_TRACK_MESSAGE
from voxcli.sizes import format_size
from voxcli.sources import Source


@dataclass(frozen=True)
class PreparedAudio:
    """What will be uploaded for a local source, and how it compares to the original."""

    payload: AudioPayload
    info: AudioInfo
    original_bytes: int
    sent_bytes: int


@contextmanager
def local_audio_path(source: Source, stdin: BinaryIO | None, temp_dir: Path) -> Iterator[Path]:
    """The source's path on disk; stdin is spooled to a file in ``temp_dir`` first."""
    if source.kind == "stdin":
        if stdin is None:
            raise ValueError("stdin source without a stdin stream")
        spooled = spool_stdin(stdin, temp_dir)
        try:
            yield spooled
        finally:
            spooled.unlink(missing_ok=True)
    else:
        assert source.path is not None
        yield source.path


def check_url_track(source: Source, track: int | None) -> None:
    """InputError (exit 2) for a URL the API fetches with an ``--audio-track`` chosen."""
    if source.is_url and track is not None:
        raise InputError(f"{source}: {URL_TRACK_MESSAGE}", hint=URL_TRACK_HINT)


def probe_source(source: Source, path: Path, track: int | None = None) -> AudioInfo:
    """Probe a local source's file (its audio stream ``track``: see
    :func:`~voxcli.audio.probe.probe`); errors name stdin, not our temporary spool file."""
    try:
        return probe(path, track)
    except InputError as exc:
        if source.kind != "stdin":
            raise
        raise InputError(exc.message.replace(str(path), "audio on stdin"), exc.hint) from None


@contextmanager
def prepared_audio(
    source: Source, path: Path, upload_mode: str, info: AudioInfo | None, temp_dir: Path
) -> Iterator[PreparedAudio]:
    """Probe the file (unless ``info`` is given) and, in ``auto`` mode, re-encode lossless
    audio to 16 kHz mono FLAC in ``temp_dir``; the audio stream is ``info.track``."""
    if info is None:
        info = probe_source(source, path)
    name = source.file_name if source.kind == "file" else f"{source.stem}{path.suffix}"
    plan = plan_upload(info, upload_mode)
    if plan == "original":
        yield PreparedAudio(AudioPayload(name, path=path), info, info.size, info.size)
        return
    suffix = ".ogg" if plan == "opus" else ".flac"
    with temp_audio_path(suffix, temp_dir) as encoded_path:
        if plan == "opus":
            encoded_bytes = encode_opus_file(path, encoded_path, info.track)
        else:
            encoded_bytes = encode_flac_16k_mono(path, encoded_path, track=info.track).bytes
        if encoded_bytes >= info.size and api_accepts(info):  # e.g. 8 kHz mu-law WAV
            yield PreparedAudio(AudioPayload(name, path=path), info, info.size, info.size)
            return
        payload = AudioPayload(f"{Path(name).stem}{suffix}", path=encoded_path)
        yield PreparedAudio(payload, info, info.size, encoded_bytes)


def encode_opus_file(src: Path, dest: Path, track: int | None = None) -> int:
    """``src`` (its audio stream ``track``; None: the first) as 16 kHz mono Opus in OGG
    at ``dest``; the bytes written."""
    import numpy as np

    from voxcli.audio.decode import mono_blocks, open_reader
    from voxcli.audio.media import encode_opus_16k_mono

    with open_reader(src, track) as reader:
        buf = np.empty((round(reader.samplerate * 10), reader.channels), dtype=np.float32)
        encode_opus_16k_mono(mono_blocks(reader, buf, None), dest, int(reader.samplerate))
    return dest.stat().st_size


def upload_summary(source: Source, ready: PreparedAudio) -> str:
    """The ``--verbose`` line saying what is sent for one request, and how much was saved."""
    sent, original = ready.sent_bytes, ready.original_bytes
    if sent == original:
        return f"{source}: sending {format_size(sent)} as is"
    saved = 100 * (1 - sent / original) if original else 0.0
    codec = "Opus" if ready.payload.file_name.endswith(".ogg") else "FLAC"
    if ready.info.track is not None:
        codec += f" of audio stream {ready.info.track}"
    change = (
        f"{saved:.0f}% less"
        if saved >= 0
        else f"{-saved:.0f}% more: the API does not take {ready.info.format} as it is"
    )
    return (
        f"{source}: sending {format_size(sent)} of 16 kHz mono {codec} "
        f"instead of {format_size(original)} ({change})"
    )
