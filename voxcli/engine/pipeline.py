"""One source in, one :class:`Transcript` out: local audio work, then the API.

Local work (spooling stdin, probing, re-encoding) happens before anything is sent, in
the run's private temporary directory, and every temporary file is removed however the
call ends. A recording too big for one request, or longer than ``--split-minutes``,
goes through :mod:`voxcli.engine.longform` (split, parts on the scheduler, merge).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import BinaryIO

from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.audio.prepare import (
    check_url_track,
    local_audio_path,
    prepared_audio,
    probe_source,
    upload_summary,
)
from voxcli.audio.probe import api_accepts
from voxcli.console import Say, silent
from voxcli.engine import longform
from voxcli.engine.longform import PartsJob, SplitOptions
from voxcli.engine.runner import JobContext
from voxcli.sources import Source
from voxcli.transcript import Transcript


@dataclass(frozen=True)
class TranscribeSetup:
    """What every input of one transcription run shares."""

    api: MistralApi
    params: TranscriptionParams
    limit: int
    upload_mode: str = "auto"
    split: SplitOptions = field(default_factory=SplitOptions)
    stdin: BinaryIO | None = None
    say: Say = silent
    """``--verbose`` notes."""
    warn: Say | None = None
    audio_track: int | None = None
    """``--audio-track``: the audio stream of each local input to send (None: the first)."""


def transcribe_source(setup: TranscribeSetup, source: Source, context: JobContext) -> Transcript:
    """Transcribe one source into our own model."""
    api, params, warn = setup.api, setup.params, setup.warn
    if source.is_url:
        check_url_track(source, setup.audio_track)
        if setup.split.split_minutes is not None and warn is not None:
            warn(f"{source}: --split-minutes does not apply to URLs (the API fetches them whole)")
        answer = api.transcribe(params, AudioPayload(source.file_name, url=source.raw))
        return answer.with_source(str(source))
    with local_audio_path(source, setup.stdin, context.temp_dir) as path:
        info = probe_source(source, path, setup.audio_track)
        plan = longform.plan_split(
            info, setup.upload_mode, params, setup.split, limit=setup.limit, label=str(source)
        )
        if plan is not None:
            job = PartsJob(
                api=api,
                params=params,
                options=setup.split,
                scheduler=context.scheduler,
                temp_dir=context.temp_dir,
                limit=setup.limit,
                say=setup.say,
                warn=warn,
                on_upload=context.on_upload,
                on_part=context.on_part,
            )
            return longform.transcribe_in_parts(job, source, path, info, plan)
        if setup.split.split_minutes is not None and not info.decodable and warn is not None:
            warn(f"{source}: voxcli cannot cut {info.format} files; sending it in one request")
        if setup.upload_mode == "original" and not api_accepts(info) and warn is not None:
            kind = f"{info.format} video" if info.video else f"{info.format} files"
            warn(
                f"{source}: sent as it is (--upload original), but the API may not take "
                f"{kind}; --upload auto sends its audio as 16 kHz mono FLAC"
            )
        with prepared_audio(source, path, setup.upload_mode, info, context.temp_dir) as ready:
            setup.say(upload_summary(source, ready))
            answer = api.transcribe(params, ready.payload, context.on_upload)
    return replace(answer, source=str(source), duration=ready.info.duration)
