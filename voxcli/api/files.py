"""``/v1/files``: upload (streamed from disk), signed URLs, download (bounded), delete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Literal

from voxcli.api.client import ApiClient
from voxcli.api.transcriptions import file_part
from voxcli.api.types import SIGNED_URL_EXPIRY_HOURS, AudioPayload
from voxcli.api.uploads import UploadCallback
from voxcli.errors import ApiError
from voxcli.sizes import format_size

FileVisibility = Literal["user", "workspace"]
# The narrowest: only the API key's user sees the file, not the whole workspace.
PRIVATE_VISIBILITY: FileVisibility = "user"
# The shortest expiry the Files API takes (hours): a file a failed delete leaves
# behind is gone within the hour.
SHORTEST_EXPIRY_HOURS = 1


def upload_file(
    client: ApiClient,
    path: Path,
    file_name: str,
    purpose: str = "audio",
    *,
    expiry_hours: int | None = None,
    visibility: FileVisibility | None = None,
    on_upload: UploadCallback | None = None,
) -> str:
    """Upload a file through the Files API (streamed from disk); return its id.

    ``expiry_hours``: the API deletes the file that many hours after the upload.
    ``visibility``: ``"user"`` (only the uploader's key sees it) or ``"workspace"``
    (the API's default when not given).
    """
    kwargs: dict[str, object] = {"purpose": purpose}
    if expiry_hours is not None:
        kwargs["expiry"] = expiry_hours
    if visibility is not None:
        kwargs["visibility"] = visibility
    with client.call() as sdk, ExitStack() as stack:
        part = file_part(AudioPayload(file_name, path=path), stack, on_upload)
        response = sdk.files.upload(file=part, **kwargs)
    return str(response.id)


def signed_url(client: ApiClient, file_id: str, expiry_hours: int | None = None) -> str:
    """A signed URL to an uploaded file, valid for ``expiry_hours`` (1 to 168; default 1)."""
    hours = SIGNED_URL_EXPIRY_HOURS if expiry_hours is None else expiry_hours
    with client.call() as sdk:
        response = sdk.files.get_signed_url(file_id=file_id, expiry=hours)
    return str(response.url)


def download_file(client: ApiClient, file_id: str, dest: Path, max_bytes: int) -> int:
    """Download a file's bytes to ``dest`` (which appears whole or not at all); return
    its size. More than ``max_bytes`` is refused, and nothing is left behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, client.call() as sdk:
            response = sdk.files.download(file_id=file_id)
            try:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ApiError(
                            f"{client.where} sent more than {format_size(max_bytes)} for "
                            f"file {file_id}; voxcli stopped reading it"
                        )
                    out.write(chunk)
            finally:
                response.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return size


def delete_file(client: ApiClient, file_id: str) -> None:
    """Delete an uploaded file."""
    with client.call() as sdk:
        sdk.files.delete(file_id=file_id)
