"""``/v1/batch/jobs``: create, get, list, cancel; results parsed into our Transcript.

Everything returned is our own :class:`BatchJobInfo`, never the SDK's ``BatchJob``. The
statuses a job is still in flight in are the SDK's own (``mistralai.extra.batch``'s
``RUNNING_STATUSES``, restated here so callers need not import the SDK).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voxcli.api.client import ApiClient
from voxcli.errors import ApiError
from voxcli.transcript import Transcript, transcript_from_response

TRANSCRIPTION_ENDPOINT = "/v1/audio/transcriptions"
RUNNING_STATUSES = frozenset({"QUEUED", "RUNNING", "CANCELLATION_REQUESTED"})
"""A job in one of these is still in flight; any other status is final."""
LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class BatchJobInfo:
    """One batch job as the API describes it."""

    id: str
    status: str
    model: str | None = None
    endpoint: str = TRANSCRIPTION_ENDPOINT
    created_at: int = 0
    started_at: int | None = None
    completed_at: int | None = None
    total: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0
    output_file: str | None = None
    error_file: str | None = None
    input_files: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def finished(self) -> bool:
        return not self.running

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (what ``batch status -f json`` and the local state keep)."""
        return {
            "id": self.id,
            "status": self.status,
            "model": self.model,
            "endpoint": self.endpoint,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "total": self.total,
            "completed": self.completed,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "output_file": self.output_file,
            "error_file": self.error_file,
            "input_files": list(self.input_files),
            "metadata": dict(self.metadata),
            "errors": list(self.errors),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchJobInfo:
        """Read back :meth:`to_json` (or the API's own ``BatchJob`` JSON)."""
        metadata = data.get("metadata") or {}
        errors = data.get("errors") or ()
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or "UNKNOWN"),
            model=_str_or_none(data.get("model")),
            endpoint=str(data.get("endpoint") or TRANSCRIPTION_ENDPOINT),
            created_at=int(data.get("created_at") or 0),
            started_at=_int_or_none(data.get("started_at")),
            completed_at=_int_or_none(data.get("completed_at")),
            total=int(data.get("total", data.get("total_requests")) or 0),
            completed=int(data.get("completed", data.get("completed_requests")) or 0),
            succeeded=int(data.get("succeeded", data.get("succeeded_requests")) or 0),
            failed=int(data.get("failed", data.get("failed_requests")) or 0),
            output_file=_str_or_none(data.get("output_file")),
            error_file=_str_or_none(data.get("error_file")),
            input_files=tuple(str(f) for f in data.get("input_files") or ()),
            metadata={str(k): str(v) for k, v in metadata.items()},
            errors=tuple(_error_text(e) for e in errors),
        )


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        return str(error.get("message") or error)
    return str(error)


def _info(job: Any) -> BatchJobInfo:
    return BatchJobInfo.from_json(job.model_dump(mode="json", by_alias=True))


def create_job(
    client: ApiClient,
    *,
    model: str,
    input_files: Sequence[str] = (),
    requests: Sequence[Mapping[str, Any]] = (),
    metadata: Mapping[str, str] | None = None,
    timeout_hours: int = 24,
) -> BatchJobInfo:
    """Create a transcription batch job from uploaded input files or inline requests
    (``{"custom_id", "body"}`` objects): exactly one of the two."""
    if bool(input_files) == bool(requests):
        raise ValueError("give input_files or requests, not both or neither")
    kwargs: dict[str, Any] = {
        "endpoint": TRANSCRIPTION_ENDPOINT,
        "model": model,
        "timeout_hours": timeout_hours,
    }
    if metadata:
        kwargs["metadata"] = dict(metadata)
    if input_files:
        kwargs["input_files"] = list(input_files)
    else:
        kwargs["requests"] = [dict(request) for request in requests]
    with client.call() as sdk:
        retries = _not_repeating(sdk.sdk_configuration.retry_config)
        if retries is not None:
            kwargs["retries"] = retries
        job = sdk.batch.jobs.create(**kwargs)
    return _info(job)


def _not_repeating(config: Any) -> Any:
    """The client's retries, minus those that could create a job twice: a creation whose
    answer was lost, or a 5xx after which the job may exist, is not sent again (voxcli
    finds such a job by its metadata on the next run). Only 429 and 503, which say the
    request was not taken, are retried."""
    from mistralai.client.utils.retries import RetryConfig

    if not isinstance(config, RetryConfig):
        return None
    return RetryConfig(config.strategy, config.backoff, False, status_codes_override=["429", "503"])


def get_job(client: ApiClient, job_id: str) -> BatchJobInfo:
    """A job's current state (one request, no polling)."""
    with client.call() as sdk:
        job = sdk.batch.jobs.get(job_id=job_id)
    return _info(job)


def cancel_job(client: ApiClient, job_id: str) -> BatchJobInfo:
    """Ask for a job to be cancelled; it goes through CANCELLATION_REQUESTED to CANCELLED."""
    with client.call() as sdk:
        job = sdk.batch.jobs.cancel(job_id=job_id)
    return _info(job)


def list_jobs(
    client: ApiClient, *, max_jobs: int = 1000, created_after: int | None = None
) -> list[BatchJobInfo]:
    """The account's transcription jobs, newest first, at most ``max_jobs`` (page by page)."""
    import datetime

    after = (
        None
        if created_after is None
        else datetime.datetime.fromtimestamp(created_after, tz=datetime.timezone.utc)
    )
    jobs: list[BatchJobInfo] = []
    page = 0
    while len(jobs) < max_jobs:
        kwargs: dict[str, Any] = {"page": page, "page_size": LIST_PAGE_SIZE}
        if after is not None:
            kwargs["created_after"] = after
        with client.call() as sdk:
            answer = sdk.batch.jobs.list(**kwargs)
        data = list(answer.data or [])
        jobs += [_info(job) for job in data]
        page += 1
        if not data or page * LIST_PAGE_SIZE >= int(answer.total or 0):
            break
    return [job for job in jobs if job.endpoint == TRANSCRIPTION_ENDPOINT][:max_jobs]


def transcript_from_result(body: Any, granularities: Iterable[str]) -> Transcript:
    """One successful result line's ``response.body`` as our Transcript, read through the
    SDK's ``TranscriptionResponse`` exactly as a direct request's answer is."""
    from mistralai.client.models import TranscriptionResponse
    from pydantic import ValidationError

    try:
        response = TranscriptionResponse.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            f"a batch result is not a transcription voxcli understands: "
            f"{exc.errors()[0].get('msg', exc)}"
        ) from None
    return transcript_from_response(
        response.model_dump(mode="json", by_alias=True), granularities=tuple(granularities)
    )
