"""Tell the language of a source from the transcription endpoint's ``language`` field.

Only the first ``sample_seconds`` of decodable audio are sent (cut locally, 16 kHz mono
FLAC): the language is clear long before the end of an hour-long recording, and a short
sample is faster to upload and cheaper to transcribe. Pass-through containers (m4a, webm,
aac) and URLs cannot be cut locally and are sent whole. With ``--audio-track`` the sample
comes from that audio stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from voxcli import audio
from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.audio.prepare import check_url_track, local_audio_path, prepared_audio, probe_source
from voxcli.errors import ApiError
from voxcli.sources import Source

UNKNOWN = "unknown"
# ISO 639-1/-3 (2-3 letters), with at most two subtags (pt-br, zh-hans-cn)
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8}){0,2}")


class NotALanguage(ApiError):
    """The API's ``language`` field is not a language code (it is printed as ``unknown``)."""

    def __init__(self, reported: str) -> None:
        super().__init__(f"the API reported {reported!r}, which is not a language code")
        self.reported = reported


def language_code(reported: str | None) -> str | None:
    """The API's ``language`` as a lower-case code (``en``, ``pt-br``); None when it sent
    none; :class:`NotALanguage` when it is anything else (text, escape sequences...)."""
    language = (reported or "").strip().lower().replace("_", "-")
    if not language:
        return None
    if not _LANGUAGE_CODE.fullmatch(language):
        raise NotALanguage(reported or "")
    return language


@contextmanager
def sampled_audio(
    source: Source, path: Path, sample_seconds: float, temp_dir: Path, track: int | None = None
) -> Iterator[AudioPayload]:
    """What to send for a local file: the first ``sample_seconds`` (0 = all of it) of its
    audio stream ``track`` (None: the first)."""
    info = probe_source(source, path, track)
    longer = info.duration is None or info.duration > sample_seconds
    if sample_seconds > 0 and info.decodable and longer:
        with audio.temp_audio_path(".flac", temp_dir) as flac:
            audio.encode_flac_16k_mono(path, flac, end=sample_seconds, track=info.track)
            yield AudioPayload(f"{source.stem}.flac", path=flac)
        return
    # Short enough (or not decodable, or --sample 0): send it as transcribe would.
    with prepared_audio(source, path, "auto", info, temp_dir) as ready:
        yield ready.payload


def detect_language(
    api: MistralApi,
    source: Source,
    model: str,
    *,
    temp_dir: Path,
    sample_seconds: float,
    stdin: BinaryIO | None = None,
    audio_track: int | None = None,
) -> str | None:
    """The language code the API reports for ``source`` (``en``), or None if it gave none;
    :class:`NotALanguage` if what it gave is no language code. ``audio_track``: the audio
    stream of a local source to sample (None: the first)."""
    params = TranscriptionParams(model=model)
    if source.is_url:
        check_url_track(source, audio_track)
        answer = api.transcribe(params, AudioPayload(source.file_name, url=source.raw))
    else:
        with (
            local_audio_path(source, stdin, temp_dir) as path,
            sampled_audio(source, path, sample_seconds, temp_dir, audio_track) as payload,
        ):
            answer = api.transcribe(params, payload)
    return language_code(answer.language)
