"""Long recordings: cut at quiet points, send the parts on the run's scheduler, merge.

A recording is split when its upload could exceed the API's file limit (the
environment's ``max_upload_bytes``) or when it is longer than ``--split-minutes``. The
source is decoded once (:func:`voxcli.audio.parts.cut_into_parts`); each part is sent as
soon as it is written, as a part task on the same scheduler as the run's inputs, so
``--jobs`` bounds requests and threads whatever the mix. Part files on disk are bounded
too: the decoder waits while more than ``--jobs`` finished parts are unsent. Finished
parts are cached (:mod:`voxcli.engine.cache`) the moment their answer arrives, so a
re-run after a failure or Ctrl-C sends only the missing ones.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path

from voxcli import audio
from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.api.uploads import UploadCallback
from voxcli.audio.parts import PartFile, cut_into_parts
from voxcli.console import Say
from voxcli.engine.cache import PartCache, part_key
from voxcli.engine.merge import SHORT_SEGMENT_SECONDS, merge_parts
from voxcli.engine.scheduler import Priority, Scheduler, Task
from voxcli.errors import InputError, VoxcliError
from voxcli.sizes import clock, format_size
from voxcli.sources import Source
from voxcli.transcript import Transcript, transcript_from_data, transcript_to_data

PartsCallback = Callable[[int, int, int], None]
"""Called with (parts answered, parts in all so far, part requests in flight)."""

FLAC_BYTES_PER_SECOND = 32_320
"""Upper bound of 16 kHz mono 16-bit FLAC: raw PCM (32,000 B/s) plus 1% for frame headers,
what incompressible audio such as white noise costs."""
FLAC_HEADER_BYTES = 8192
SEARCH_SECONDS = 5.0
"""How far from each target boundary a cut may move to find a quiet point."""
PART_ENCODING = f"flac-{audio.TARGET_RATE}-mono-pcm16"


@dataclass(frozen=True)
class SplitOptions:
    """How to treat long recordings (already validated by the request builder).

    ``split_minutes``: split recordings longer than this (None: only when too big to send).
    ``explicit``: the user asked for that length on the command line.
    ``request_seconds``: the longest audio one request to the model holds (from its card;
    None when unknown). ``cache_dir`` None: no part cache.
    """

    split_minutes: float | None = None
    explicit: bool = False
    request_seconds: float | None = None
    cache_dir: Path | None = None
    jobs: int = 4
    short_piece_seconds: float = SHORT_SEGMENT_SECONDS
    """A piece of a sentence cut at a part boundary shorter than this (the shortest cue,
    --min-cue-duration) is joined to the rest of it when the parts are merged."""


@dataclass(frozen=True)
class SplitPlan:
    """Why and how a recording is split: parts of about ``part_seconds``."""

    part_seconds: float
    search_seconds: float
    reason: str


def search_seconds_for(part_seconds: float) -> float:
    """How far a cut may move: 5 s, or a quarter of a part for very short parts."""
    return min(SEARCH_SECONDS, part_seconds / 4)


def flac_upper_bound(seconds: float) -> int:
    """The most bytes ``seconds`` of 16 kHz mono 16-bit FLAC can take."""
    return FLAC_HEADER_BYTES + math.ceil(seconds * FLAC_BYTES_PER_SECOND)


def max_part_seconds(limit: int) -> float:
    """The longest target part whose FLAC (target + search window) stays under ``limit``."""
    seconds = (limit - FLAC_HEADER_BYTES) / FLAC_BYTES_PER_SECOND
    if seconds <= 0:
        raise ValueError(f"an upload limit of {limit} bytes leaves no room for audio")
    # cuts keep every part within part + search_seconds_for(part)
    return seconds - min(SEARCH_SECONDS, seconds / 5)


def plan_split(
    info: audio.AudioInfo,
    upload_mode: str,
    params: TranscriptionParams,
    options: SplitOptions,
    *,
    limit: int,
    label: str | None = None,
) -> SplitPlan | None:
    """Decide whether ``info``'s recording must be split, before anything is decoded.

    ``limit`` is the API's upload limit in bytes. Raises InputError for a file over the
    limit that cannot be decoded (so cannot be cut) here. ``label`` names the source in
    messages (default: the file's path).
    """
    name = label or str(info.path)
    if not info.decodable or info.duration is None:
        if info.size > limit:
            raise InputError(
                f"{name} is {format_size(info.size)}, more than the API's "
                f"{format_size(limit)} limit, and voxcli cannot cut {info.format} files",
                hint="convert it to FLAC, WAV or MP3 first (e.g. ffmpeg -i IN -ac 1 -ar 16000 "
                "OUT.flac), then voxcli can split it",
            )
        return None
    whole = (
        info.size
        if audio.plan_upload(info, upload_mode) == "original"
        else flac_upper_bound(info.duration)
    )
    part_seconds: float | None = None
    reasons: list[str] = []
    if options.split_minutes is not None:
        asked = options.split_minutes * 60
        if info.duration > asked + search_seconds_for(asked):
            part_seconds = asked
            reasons.append(f"longer than --split-minutes {options.split_minutes:g}")
    if whole > limit:
        part_seconds = min(part_seconds or math.inf, max_part_seconds(limit))
        reasons.append(f"the upload could exceed the API's {format_size(limit)} limit")
    holds = options.request_seconds
    if holds is not None and info.duration > holds:
        part_seconds = min(part_seconds or math.inf, holds - search_seconds_for(holds))
        reasons.append(f"one {params.model} request holds about {clock(holds)} of audio")
    if part_seconds is None:
        return None
    return SplitPlan(part_seconds, search_seconds_for(part_seconds), "; ".join(reasons))


@dataclass(frozen=True)
class PartsJob:
    """Everything one split recording needs besides the recording itself."""

    api: MistralApi
    params: TranscriptionParams
    options: SplitOptions
    scheduler: Scheduler
    temp_dir: Path
    limit: int
    say: Say
    warn: Say | None = None
    on_upload: UploadCallback | None = None
    on_part: PartsCallback | None = None
    """Told (parts answered, parts in all, part requests in flight) as the parts go."""


def transcribe_in_parts(
    job: PartsJob, source: Source, path: Path, info: audio.AudioInfo, plan: SplitPlan
) -> Transcript:
    """Split ``path`` as ``plan`` says, transcribe the parts concurrently and merge them."""
    # With speaker references every part labels the same voices with the same names.
    if job.params.diarize and not job.params.speaker_references and job.warn is not None:
        job.warn(
            f"{source}: split into parts; speaker labels restart in each part, so "
            "'Speaker 1' in one part is not necessarily 'Speaker 1' in another"
        )
    assert info.duration is not None
    job.say(
        f"{source}: {clock(info.duration)} long; cutting parts of about "
        f"{clock(plan.part_seconds)} at quiet points ({plan.reason})"
    )
    expected = math.ceil(info.duration / plan.part_seconds)
    parts = _Parts(job, source, path, expected=expected, track=info.track)
    results = parts.run(
        cut_into_parts(path, plan.part_seconds, plan.search_seconds, job.temp_dir, track=info.track)
    )
    if job.warn is not None and parts.cached:
        _warn_mixed_models(source, [answer for _, _, answer in results], job.warn)
    transcripts = [
        (start, end, replace(answer, duration=end - start)) for start, end, answer in results
    ]
    total = results[-1][1] if results else info.duration
    return merge_parts(
        transcripts,
        source=str(source),
        duration=total,
        short_seconds=job.options.short_piece_seconds,
    )


def _warn_mixed_models(source: Source, answers: list[Transcript], warn: Say) -> None:
    """Cached parts keep the model that answered them: a ``*-latest`` alias may have moved
    to a newer model since, and the merged transcript would mix the two."""
    models = sorted({answer.model for answer in answers if answer.model})
    if len(models) > 1:
        warn(
            f"{source}: parts from the cache were transcribed by another model "
            f"({', '.join(models)}); run with --no-cache to send every part again"
        )


class _Parts:
    """Sends one recording's parts as part tasks and gathers their answers in order."""

    def __init__(
        self,
        job: PartsJob,
        source: Source,
        path: Path,
        *,
        expected: int = 1,
        track: int | None = None,
    ) -> None:
        self.job = job
        self.track = track  # the audio stream cut (part of each part's cache key)
        self.expected = expected  # until the cutting ends, which tells the real count
        self.cutting = True
        self.answered = 0
        self.sending = 0
        self.label = str(source)
        self.stem = Path(source.file_name).stem or "audio"
        self.cache = PartCache(job.options.cache_dir) if job.options.cache_dir else None
        self.path = path
        self.tasks: list[Task[Transcript]] = []
        self.spans: list[tuple[float, float]] = []
        self.cached = 0
        self._lock = threading.Lock()
        self._cache_failure: OSError | None = None
        self._hash: Task[str] | None = None

    def run(self, parts: Generator[PartFile]) -> list[tuple[float, float, Transcript]]:
        """Every part's ``(start, end, transcript)``, in order; raises the first failure."""
        scheduler = self.job.scheduler
        if self.cache is not None:
            self.cache.prune()  # also sweeps temporary files a killed run left behind
            self._hash = scheduler.submit(lambda: audio.content_hash(self.path), Priority.PART)
        try:
            for part in parts:
                self._check_size(part)
                self.spans.append((part.start, part.end))
                with self._lock:
                    self._tell()
                self.tasks.append(scheduler.submit(self._sender(part), Priority.PART))
                # Bound the part files on disk: the next part is decoded only while no
                # more than --jobs finished ones wait to be sent, and not after a failure.
                scheduler.wait_until(self._room_for_another)
                if self._failed():
                    break
        finally:
            parts.close()
            with self._lock:
                self.cutting = False
                self._tell()
        responses: list[Transcript] = []
        errors: list[BaseException] = []
        for task in self.tasks:  # every part already sent is worth keeping: wait for all
            try:
                responses.append(scheduler.join(task))
            except BaseException as exc:
                errors.append(exc)
        self._report_cache_failure()
        if errors:
            raise self._first_error(errors, len(responses))
        count = len(self.tasks)
        self.job.say(
            f"{self.label}: {count} parts transcribed, {self.cached} of them from the cache"
        )
        return [(*self.spans[i], responses[i]) for i in range(count)]

    def _tell(self) -> None:
        """Report the parts' progress (under the lock)."""
        if self.job.on_part is not None:
            known = len(self.tasks) if not self.cutting else max(self.expected, len(self.tasks))
            self.job.on_part(self.answered, known, self.sending)

    def _room_for_another(self) -> bool:
        unsent = sum(not task.done() for task in self.tasks)
        return unsent <= self.job.options.jobs or self._failed()

    def _failed(self) -> bool:
        return any(task.done() and task.exception() is not None for task in self.tasks)

    def _check_size(self, part: PartFile) -> None:
        if part.bytes > self.job.limit:  # cannot happen with max_part_seconds' bound
            part.path.unlink(missing_ok=True)
            raise InputError(
                f"{self.label}: part {part.index + 1} is {format_size(part.bytes)}, over the "
                f"{format_size(self.job.limit)} upload limit",
                hint="pass a smaller --split-minutes",
            )

    def _name(self, part: PartFile) -> str:
        """How messages name a part: ``talk.wav: part 2 (9:58-19:57)``."""
        return f"{self.label}: part {part.index + 1} ({clock(part.start)}-{clock(part.end)})"

    def _sender(self, part: PartFile) -> Callable[[], Transcript]:
        job = self.job

        def send() -> Transcript:
            try:
                key = None
                if self.cache is not None and self._hash is not None:
                    key = part_key(
                        job.scheduler.join(self._hash),
                        job.params,
                        part.start,
                        part.end,
                        PART_ENCODING,
                        server_url=job.api.server_url,
                        track=self.track,
                    )
                    if (hit := self._load(key)) is not None:
                        with self._lock:
                            self.cached += 1
                            self.answered += 1
                            self._tell()
                        job.say(f"{self._name(part)} from the cache")
                        return hit
                name = f"{self.stem}.part{part.index + 1:03d}.flac"
                with self._lock:
                    self.sending += 1
                    self._tell()
                answered = False
                try:
                    answer = job.api.transcribe(
                        job.params, AudioPayload(name, path=part.path), job.on_upload
                    )
                    answered = True
                finally:
                    with self._lock:
                        self.sending -= 1
                        self.answered += answered
                        self._tell()
                if key is not None:
                    self._store(key, answer)
                job.say(f"{self._name(part)} done")
                return answer
            finally:
                part.path.unlink(missing_ok=True)

        return send

    def _load(self, key: str) -> Transcript | None:
        """A cached part's transcript; None when absent or not readable as one."""
        assert self.cache is not None
        data = self.cache.load(key)
        if data is None:
            return None
        try:
            return transcript_from_data(data)
        except ValueError:
            return None

    def _store(self, key: str, answer: Transcript) -> None:
        cache = self.cache
        if cache is None:
            return
        try:
            cache.store(key, transcript_to_data(answer))
        except Exception as exc:  # never a second result for this part: warn instead
            with self._lock:
                self._cache_failure = exc if isinstance(exc, OSError) else OSError(str(exc))
                self.cache = None

    def _report_cache_failure(self) -> None:
        failure = self._cache_failure
        if failure is not None and self.job.warn is not None:
            root = self.job.options.cache_dir
            self.job.warn(
                f"cannot write the part cache in {root} "
                f"({failure.strerror or failure}); continuing without it"
            )

    def _first_error(self, errors: list[BaseException], done: int) -> BaseException:
        error = errors[0]
        if isinstance(error, VoxcliError) and self.job.options.cache_dir is not None and done:
            note = (
                f"{done} finished part{'s are' if done > 1 else ' is'} saved in the cache: "
                "run the same command again to send only the others"
            )
            error.hint = f"{error.hint}; {note}" if error.hint else note
        return error
