"""``/v1/files``: upload (streamed from disk), signed URLs, delete."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from voxcli.api.client import ApiClient
from voxcli.api.transcriptions import file_part
from voxcli.api.types import SIGNED_URL_EXPIRY_HOURS, AudioPayload


def upload_file(client: ApiClient, path: Path, file_name: str, purpose: str = "audio") -> str:
    """Upload a file through the Files API (streamed from disk); return its id."""
    with client.call() as sdk, ExitStack() as stack:
        part = file_part(AudioPayload(file_name, path=path), stack, None)
        response = sdk.files.upload(file=part, purpose=purpose)
    return str(response.id)


def signed_url(client: ApiClient, file_id: str, expiry_hours: int | None = None) -> str:
    """A signed URL to an uploaded file, valid for ``expiry_hours`` (1 to 168; default 1)."""
    hours = SIGNED_URL_EXPIRY_HOURS if expiry_hours is None else expiry_hours
    with client.call() as sdk:
        response = sdk.files.get_signed_url(file_id=file_id, expiry=hours)
    return str(response.url)


def delete_file(client: ApiClient, file_id: str) -> None:
    """Delete an uploaded file."""
    with client.call() as sdk:
        sdk.files.delete(file_id=file_id)
