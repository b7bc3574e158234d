"""One source in, one :class:`Transcript` out: local audio work, then the API.

Local work (spooling stdin, probing, re-encoding) happens before anything is
sent, and every temporary file is removed however the call ends. A recording
too big for one request, or longer than ``--split-minutes``, goes through
:mod:`voxcli.longform` (split, parts in parallel, merge).
"""

from __future__ import annotations

from typing import BinaryIO

from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.api.uploads import UploadCallback
from voxcli.audio.prepare import local_audio_path, prepared_audio, probe_source, upload_summary
from voxcli.console import Say
from voxcli.engine import longform
from voxcli.engine.longform import SplitOptions
from voxcli.sources import Source
from voxcli.transcript import Transcript, transcript_from_response


def transcribe_source(
    api: MistralApi,
    source: Source,
    params: TranscriptionParams,
    *,
    upload_mode: str = "auto",
    stdin: BinaryIO | None = None,
    report: Say | None = None,
    split: SplitOptions | None = None,
    warn: Say | None = None,
    on_upload: UploadCallback | None = None,
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
            data = api.transcribe(params, ready.payload, on_upload)
    return transcript_from_response(
        data,
        source=str(source),
        granularities=params.timestamp_granularities,
        duration=ready.info.duration,
    )
