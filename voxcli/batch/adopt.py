"""A job with no local manifest (lost, or submitted elsewhere) made into a local batch.

``voxcli batch collect JOB -d DIR``: the job's ``custom_id``\\ s say where each result
goes (:mod:`.customid`), its metadata how to render them (a job voxcli submitted carries
the format and subtitle options; otherwise ``--format``, else text). The requests are
read from the job's input files while they still exist (so inputs that never ran are
known, and their uploaded audio can be deleted after collection), else from its results.
The manifest made here is saved like any other, so the next collect of the same job
resumes instead of starting over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from voxcli.api import BatchJobInfo, MistralApi, TranscriptionParams
from voxcli.batch.collect import download_results
from voxcli.batch.customid import RequestName, parse_custom_id
from voxcli.batch.manifest import InputEntry, JobEntry, Manifest, RequestEntry
from voxcli.batch.options import BatchOptions, hints_from_metadata
from voxcli.batch.results import ResultIndex
from voxcli.batch.store import BatchStore, Summary
from voxcli.console import Say, silent
from voxcli.errors import ApiError
from voxcli.render import REGISTRY, RenderOptions, extension_of

MAX_INPUT_FILE_BYTES = 512 * 1000 * 1000


@dataclass(frozen=True)
class _Request:
    custom_id: str
    name: RequestName
    file_id: str | None = None
    url: str | None = None


def adopt_job(
    store: BatchStore,
    api: MistralApi,
    info: BatchJobInfo,
    output_dir: Path,
    fmt: str | None,
    *,
    warn: Say = silent,
) -> Manifest:
    """A local batch for the finished job ``info``, writing into ``output_dir``."""
    hints = hints_from_metadata(info.metadata)
    output_format = fmt or hints.output_format or "text"
    if output_format not in REGISTRY:
        warn(f"job {info.id} asks for format {output_format!r}, which voxcli does not know: text")
        output_format = "text"
    options = BatchOptions(
        params=TranscriptionParams(
            model=info.model or "", timestamp_granularities=hints.granularities
        ),
        output_format=output_format,
        output_dir=output_dir,
        render=hints.render or RenderOptions(),
    )
    name = store.create()
    try:
        requests = _requests(store, api, name, info, warn)
        inputs = _inputs(requests, output_dir, extension_of(output_format), info.id, warn)
    except BaseException:
        store.remove(name)
        raise
    manifest = Manifest(
        name=name,
        created_at=info.created_at or int(time.time()),
        submission=f"adopted:{info.id}",
        options=options,
        inputs=tuple(inputs),
        jobs=(
            JobEntry(
                info.id,
                info.input_files,
                not info.input_files,
                sum(len(e.requests) for e in inputs),
                len(inputs),
            ),
        ),
        phase="submitted",
        origin="adopted",
    )
    store.save_manifest(manifest)
    store.save_summary(Summary.of(manifest))
    store.remember(name, [info])
    return manifest


def _requests(
    store: BatchStore, api: MistralApi, name: str, info: BatchJobInfo, warn: Say
) -> list[_Request]:
    """Every request of the job: from its input files when they can still be read, plus
    any custom_id its results name."""
    found: dict[str, _Request] = {}
    unplaced = 0
    for number, file_id in enumerate(info.input_files):
        path = store.results_dir(name) / f"{info.id}.input-{number + 1}.jsonl"
        try:
            api.download_file(file_id, path, MAX_INPUT_FILE_BYTES)
        except ApiError as exc:
            if exc.status != 404:
                raise
            continue
        try:
            for request in _read_input_file(path):
                found.setdefault(request.custom_id, request)
        finally:
            path.unlink(missing_ok=True)
    with ResultIndex(download_results(store, api, name, info)) as index:
        for custom_id in index:
            if custom_id in found:
                continue
            parsed = parse_custom_id(custom_id)
            if parsed is None:
                unplaced += 1
            else:
                found[custom_id] = _Request(custom_id, parsed)
    if unplaced:
        warn(
            f"job {info.id}: {unplaced} result(s) have a custom_id that is not a relative "
            "path inside the output directory; they are left out"
        )
    return list(found.values())


def _read_input_file(path: Path) -> Iterator[_Request]:
    with path.open("rb") as handle:
        for raw in handle:
            try:
                line = json.loads(raw)
                custom_id = str(line["custom_id"])
                body = line.get("body") or {}
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            parsed = parse_custom_id(custom_id)
            if parsed is not None:
                yield _Request(custom_id, parsed, body.get("file_id"), body.get("file_url"))


def _inputs(
    requests: Iterable[_Request], output_dir: Path, extension: str, job_id: str, warn: Say
) -> list[InputEntry]:
    """One input per custom_id path, its parts in order."""
    by_path: dict[str, list[_Request]] = {}
    for request in requests:
        by_path.setdefault(request.name.path, []).append(request)
    inputs: list[InputEntry] = []
    for index, (path, group) in enumerate(sorted(by_path.items())):
        group.sort(key=lambda r: r.name.part or 0)
        if len({r.name.part is None for r in group}) > 1:
            warn(f"job {job_id}: {path} is named both whole and in parts; using the parts")
            group = [r for r in group if r.name.part is not None]
        entries = [
            RequestEntry(r.custom_id, r.file_id, r.url, r.name.start, r.name.end) for r in group
        ]
        expected = group[-1].name.parts or 0
        present = {r.name.part for r in group}
        for missing in range(1, expected + 1):  # known only from its siblings' "of N"
            if missing not in present:
                entries.insert(missing - 1, RequestEntry(f"{path}#missing-part-{missing}"))
        pure = PurePosixPath(path)
        output = output_dir / pure.with_name(f"{pure.stem or pure.name}{extension}")
        last = group[-1].name
        duration = last.end if last.part is not None else last.duration
        inputs.append(
            InputEntry(
                index=index,
                source=path,
                path=None,
                output=output,
                duration=duration,
                job=job_id,
                requests=tuple(entries),
            )
        )
    return inputs
