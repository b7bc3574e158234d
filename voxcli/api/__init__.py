"""The API layer: the only code that talks to the mistralai SDK (imported lazily).

Split by concern: :mod:`.client` (the SDK client, transport, request slots),
:mod:`.errors` (failures translated by exception type), :mod:`.transcriptions`,
:mod:`.chat`, :mod:`.files`, :mod:`.models` (model cards) and :mod:`.batch` (Batch API
jobs). :class:`MistralApi` is the facade the rest of voxcli uses; it returns our own
types (:mod:`.types`, :class:`~voxcli.transcript.Transcript`,
:class:`~voxcli.catalog.card.ModelCard`, :class:`~voxcli.api.batch.BatchJobInfo`), never
SDK objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from voxcli.api import batch as _batch
from voxcli.api import chat as _chat
from voxcli.api import files as _files
from voxcli.api import models as _models
from voxcli.api import transcriptions as _transcriptions
from voxcli.api.batch import BatchJobInfo
from voxcli.api.client import ApiClient
from voxcli.api.types import (
    SIGNED_URL_EXPIRY_HOURS,
    AudioPayload,
    ChatParams,
    ChatResult,
    TranscriptionParams,
)
from voxcli.api.uploads import UploadCallback
from voxcli.catalog.card import ModelCard
from voxcli.transcript import Transcript

__all__ = [
    "SIGNED_URL_EXPIRY_HOURS",
    "AudioPayload",
    "BatchJobInfo",
    "ChatParams",
    "ChatResult",
    "ChatStream",
    "MistralApi",
    "TranscriptionParams",
]

ChatStream = _chat.ChatStream


class MistralApi(ApiClient):
    """The calls voxcli makes, on one SDK client shared by the whole run."""

    def transcribe(
        self,
        params: TranscriptionParams,
        audio: AudioPayload,
        on_upload: UploadCallback | None = None,
    ) -> Transcript:
        """Send one transcription request; the answer as our own :class:`Transcript`."""
        return _transcriptions.transcribe(self, params, audio, on_upload)

    def transcribe_stream(
        self,
        params: TranscriptionParams,
        audio: AudioPayload,
        on_upload: UploadCallback | None = None,
    ) -> Iterator[str]:
        """Stream one transcription: the text deltas as the API sends them."""
        return _transcriptions.transcribe_stream(self, params, audio, on_upload)

    def chat(self, params: ChatParams, messages: list[dict[str, Any]]) -> ChatResult:
        """Send one chat request and wait for the whole answer."""
        return _chat.chat(self, params, messages)

    def chat_stream(self, params: ChatParams, messages: list[dict[str, Any]]) -> ChatStream:
        """Stream one chat answer: iterate for text, then read ``.result``."""
        return _chat.ChatStream(self, params, messages)

    def upload_file(
        self,
        path: Path,
        file_name: str,
        purpose: str = "audio",
        *,
        expiry_hours: int | None = None,
        visibility: _files.FileVisibility | None = None,
        on_upload: UploadCallback | None = None,
    ) -> str:
        """Upload a file through the Files API; return its id. ``expiry_hours``: the API
        deletes it that long after the upload; ``visibility``: ``"user"`` or
        ``"workspace"`` (the API's default)."""
        return _files.upload_file(
            self,
            path,
            file_name,
            purpose,
            expiry_hours=expiry_hours,
            visibility=visibility,
            on_upload=on_upload,
        )

    def download_file(self, file_id: str, dest: Path, max_bytes: int) -> int:
        """Download a file to ``dest`` (atomically, at most ``max_bytes``); its size."""
        return _files.download_file(self, file_id, dest, max_bytes)

    def signed_url(self, file_id: str, expiry_hours: int | None = None) -> str:
        """A signed URL to an uploaded file."""
        return _files.signed_url(self, file_id, expiry_hours)

    def list_models(self) -> list[ModelCard]:
        """Every model card the server lists."""
        return _models.list_models(self)

    def retrieve_model(self, model_id: str) -> ModelCard:
        """One model's card; :class:`~voxcli.api.models.ModelNotFound` for a 404."""
        return _models.retrieve_model(self, model_id)

    def delete_file(self, file_id: str) -> None:
        """Delete an uploaded file."""
        _files.delete_file(self, file_id)

    def create_batch_job(
        self,
        *,
        model: str,
        input_files: Sequence[str] = (),
        requests: Sequence[Mapping[str, Any]] = (),
        metadata: Mapping[str, str] | None = None,
        timeout_hours: int = 24,
    ) -> BatchJobInfo:
        """Create a transcription batch job from input file ids or inline requests."""
        return _batch.create_job(
            self,
            model=model,
            input_files=input_files,
            requests=requests,
            metadata=metadata,
            timeout_hours=timeout_hours,
        )

    def get_batch_job(self, job_id: str) -> BatchJobInfo:
        """A batch job's current state."""
        return _batch.get_job(self, job_id)

    def cancel_batch_job(self, job_id: str) -> BatchJobInfo:
        """Ask for a batch job to be cancelled."""
        return _batch.cancel_job(self, job_id)

    def list_batch_jobs(
        self, *, max_jobs: int = 1000, created_after: int | None = None
    ) -> list[BatchJobInfo]:
        """The account's transcription batch jobs, newest first."""
        return _batch.list_jobs(self, max_jobs=max_jobs, created_after=created_after)

    def batch_result_transcript(self, body: Any, granularities: Iterable[str]) -> Transcript:
        """A batch result's response body as our Transcript (as :meth:`transcribe` reads
        a direct answer)."""
        return _batch.transcript_from_result(body, granularities)
