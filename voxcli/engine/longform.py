"""Long recordings: cut at quiet points, transcribe the parts concurrently, merge.

A recording is split when its upload would exceed the API's file limit
(:data:`MAX_UPLOAD_BYTES`) or when it is longer than ``--split-minutes``. Cuts go
into the quietest stretch near each target boundary (:func:`voxcli.audio.iter_split_points`).
Each part is encoded to 16 kHz mono FLAC in a temporary file only when a request
slot is about to free up, so at most ``jobs + 1`` part files exist at once; finished
parts are cached (:mod:`voxcli.cache`) by the thread that received them, the moment the
answer arrives, so a re-run after a failure or Ctrl-C sends only the missing ones.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voxcli import audio
from voxcli.api import AudioPayload, MistralApi, TranscriptionParams
from voxcli.console import Say as Report
from voxcli.engine.cache import PartCache, part_key, user_cache_dir
from voxcli.errors import InputError, UsageError, VoxcliError
from voxcli.sizes import format_size
from voxcli.sources import Source
from voxcli.transcript import Segment, Transcript, Usage, Word, transcript_from_response

MAX_UPLOAD_BYTES = 512 * 1000 * 1000
"""The API's file limit ("512 MB"; read as the smaller decimal megabytes). Tests lower it."""

FLAC_BYTES_PER_SECOND = 32_320
"""Upper bound of 16 kHz mono 16-bit FLAC: raw PCM (32,000 B/s) plus 1% for frame headers,
what incompressible audio such as white noise costs."""
FLAC_HEADER_BYTES = 8192
SEARCH_SECONDS = 5.0
"""How far from each target boundary a cut may move to find a quiet point."""
PART_ENCODING = f"flac-{audio.TARGET_RATE}-mono-pcm16"


@dataclass(frozen=True)
class SplitOptions:
    """How to treat long recordings.

    ``split_minutes``: split recordings longer than this (None: only when too big to send).
    ``explicit``: the user asked for that length on the command line; only then may a
    ``--diarize`` request be split. ``cache_dir`` None means the user cache dir.
    ``stream``: the transcript is streamed from one request, which cannot be split, so
    ``split_minutes`` is a usage error (raised here, before anything is read or sent).
    """

    split_minutes: float | None = None
    explicit: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None
    jobs: int = 4
    stream: bool = False

    def __post_init__(self) -> None:
        if self.stream and self.split_minutes is not None:
            raise UsageError(
                "--stream sends the recording in one request, so it cannot be split "
                "with --split-minutes",
                hint="drop --stream to have the parts sent in parallel and merged, "
                "or drop --split-minutes",
            )
        if self.split_minutes is not None and not (
            math.isfinite(self.split_minutes) and self.split_minutes > 0
        ):
            raise UsageError(
                f"--split-minutes must be a positive number of minutes, not {self.split_minutes:g}"
            )
        if self.jobs < 1:
            raise ValueError(f"jobs must be >= 1, not {self.jobs}")


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
    # iter_split_points keeps every part within part + search_seconds_for(part)
    return seconds - min(SEARCH_SECONDS, seconds / 5)


def plan_split(
    info: audio.AudioInfo,
    upload_mode: str,
    params: TranscriptionParams,
    options: SplitOptions,
    *,
    label: str | None = None,
) -> SplitPlan | None:
    """Decide whether ``info``'s recording must be split, before anything is decoded.

    Raises UsageError for ``--diarize`` when splitting was not asked for explicitly, and
    InputError for a file over the limit that cannot be decoded (so cannot be cut) here.
    ``label`` names the source in messages (default: the file's path).
    """
    limit = MAX_UPLOAD_BYTES
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
    if part_seconds is None:
        return None
    if params.diarize and not options.explicit:
        raise UsageError(
            f"{name} must be split ({reasons[-1]}), but --diarize labels speakers "
            "per request, so the labels would not match across parts",
            hint="pass --split-minutes MINUTES to split anyway (speaker labels then restart "
            "in each part), or drop --diarize",
        )
    return SplitPlan(part_seconds, search_seconds_for(part_seconds), "; ".join(reasons))


def transcribe_in_parts(
    api: MistralApi,
    source: Source,
    path: Path,
    info: audio.AudioInfo,
    params: TranscriptionParams,
    plan: SplitPlan,
    options: SplitOptions,
    *,
    report: Report | None = None,
    warn: Report | None = None,
) -> Transcript:
    """Split ``path`` as ``plan`` says, transcribe the parts concurrently and merge them.

    The cuts are found on a background thread while the parts already cut are encoded
    and sent, so the first request leaves long before the whole file has been read.
    """
    say = report or (lambda message: None)
    if params.diarize and warn is not None:
        warn(
            f"{source}: split into parts; speaker labels restart in each part, so "
            "'Speaker 1' in one part is not necessarily 'Speaker 1' in another"
        )
    with ExitStack() as stack:
        work = path
        if not audio.seeks_exactly(info):
            # MP3/OGG cannot be seeked exactly: decode once to a 16 kHz mono FLAC, which
            # can, instead of decoding from the start again for every part.
            work = stack.enter_context(audio.temp_audio_path(".flac"))
            say(f"{source}: decoding {info.format} once to cut it into parts")
            total = audio.encode_flac_16k_mono(path, work).duration
        else:
            assert info.duration is not None
            total = info.duration
        say(
            f"{source}: {_clock(total)} long; cutting parts of about "
            f"{_clock(plan.part_seconds)} at quiet points ({plan.reason})"
        )
        runner = _PartRunner(api, source, work, params, options, say, warn)
        analysis = _Analysis(work, plan, total, hash_of=path if runner.cache else None)
        stack.callback(analysis.stop.set)
        results = runner.run(analysis)
    if warn is not None and runner.cached:
        _warn_mixed_models(source, [response for _, _, response in results], warn)
    parts = [
        (
            start,
            end,
            transcript_from_response(
                response, granularities=params.timestamp_granularities, duration=end - start
            ),
        )
        for start, end, response in results
    ]
    return merge_parts(parts, source=str(source), duration=total)


def _warn_mixed_models(source: Source, responses: list[dict[str, Any]], warn: Report) -> None:
    """Cached parts keep the model that answered them: a ``*-latest`` alias may have moved
    to a newer model since, and the merged transcript would mix the two."""
    models = sorted({m for r in responses if isinstance(m := r.get("model"), str) and m})
    if len(models) > 1:
        warn(
            f"{source}: parts from the cache were transcribed by another model "
            f"({', '.join(models)}); run with --no-cache to send every part again"
        )


class _Analysis:
    """Finds the cuts on one daemon thread and hashes the recording (for the cache) on
    another; both report through queues, errors included."""

    def __init__(self, work: Path, plan: SplitPlan, total: float, hash_of: Path | None) -> None:
        self.work = work
        self.plan = plan
        self.total = total
        self.hash_of = hash_of
        self.stop = threading.Event()
        self._items: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._hash: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._digest: str | None = None
        threading.Thread(target=self._run, name="voxcli-split", daemon=True).start()
        if hash_of is not None:  # in parallel: both read the file, the second from page cache
            threading.Thread(target=self._run_hash, name="voxcli-hash", daemon=True).start()

    def _run_hash(self) -> None:
        assert self.hash_of is not None
        try:
            self._hash.put(("hash", audio.content_hash(self.hash_of)))
        except BaseException as exc:
            self._hash.put(("error", exc))

    def _run(self) -> None:
        try:
            for cut in audio.iter_split_points(
                self.work, self.plan.part_seconds, search_seconds=self.plan.search_seconds
            ):
                if self.stop.is_set():
                    return
                self._items.put(("cut", cut))
            self._items.put(("end", None))
        except BaseException as exc:
            self._items.put(("error", exc))

    def _next(self, items: queue.SimpleQueue[tuple[str, Any]] | None = None) -> tuple[str, Any]:
        kind, value = (self._items if items is None else items).get()
        if kind == "error":
            raise value
        return kind, value

    def hash_ready(self) -> bool:
        return self._digest is not None or not self._hash.empty()

    def audio_hash(self) -> str:
        """The SHA-256 of the recording's bytes (waits for the hashing thread)."""
        assert self.hash_of is not None
        if self._digest is None:
            self._digest = str(self._next(self._hash)[1])
        return self._digest

    def ranges(self) -> Iterator[tuple[float, float, bool]]:
        """``(start, end, last)`` of each part, as soon as its end is known."""
        start = 0.0
        while True:
            kind, cut = self._next()
            if kind == "end":
                yield start, self.total, True
                return
            if start < cut < self.total:
                yield start, cut, False
                start = cut


class _PartRunner:
    """Encodes parts just in time and sends them on daemon worker threads.

    Daemon threads rather than a ThreadPoolExecutor: the executor's threads are joined at
    interpreter exit, so Ctrl-C would wait for every upload in flight to finish.
    """

    def __init__(
        self,
        api: MistralApi,
        source: Source,
        work: Path,
        params: TranscriptionParams,
        options: SplitOptions,
        say: Report,
        warn: Report | None,
    ) -> None:
        self.api = api
        self.work = work
        self.params = params
        self.jobs = options.jobs
        self.say = say
        self.warn = warn
        self.label = str(source)
        self.stem = Path(source.file_name).stem or "audio"
        self.cache = PartCache(options.cache_dir or user_cache_dir()) if options.use_cache else None
        self.cache_root = self.cache.root if self.cache is not None else None
        self.ranges: list[tuple[float, float]] = []
        self.keys: dict[int, str] = {}
        self.responses: dict[int, dict[str, Any]] = {}
        self.temp: dict[int, Path] = {}
        self.errors: list[BaseException] = []
        self.pending = 0
        self.cached = 0
        # Workers write the cache under this lock; at the end the main thread takes it and
        # sets `closed`, so no write is cut off (the process may end with os._exit) and
        # none starts afterwards.
        self.store_lock = threading.Lock()
        self.closed = False
        self.cache_failure: OSError | None = None
        self.results: queue.SimpleQueue[tuple[int, dict[str, Any] | None, BaseException | None]]
        self.results = queue.SimpleQueue()

    def run(self, analysis: _Analysis) -> list[tuple[float, float, dict[str, Any]]]:
        """Every part's ``(start, end, response)``, in order; raises the first failure."""
        if self.cache is not None:
            self.cache.prune()  # also sweeps temporary files a killed run left behind
        # One worker more than --jobs: it waits for a request slot (MistralApi's semaphore)
        # with the next part already encoded, so encoding is off the critical path.
        ahead = self.jobs + 1
        workers = _DaemonWorkers(ahead, self._transcribe, self.results)
        try:
            try:
                for start, end, last in analysis.ranges():
                    i = len(self.ranges)
                    self.ranges.append((start, end))
                    encoded = False
                    if (cache := self.cache) is not None:
                        if not analysis.hash_ready():
                            # Encode while the hash is being computed, rather than after:
                            # only the first part gets here, and only a cached one is wasted.
                            if not self._make_room(ahead):
                                break
                            self._encode(i, start, None if last else end)
                            encoded = True
                        self.keys[i] = part_key(
                            analysis.audio_hash(),
                            self.params,
                            start,
                            end,
                            PART_ENCODING,
                            server_url=self.api.server_url,
                        )
                        if (hit := cache.load(self.keys[i])) is not None:
                            self.responses[i] = hit
                            self.cached += 1
                            self.say(f"{self.label}: part {i + 1} {self._span(i)} from the cache")
                            if encoded:
                                self.temp.pop(i).unlink(missing_ok=True)
                            continue
                    if not encoded:
                        if not self._make_room(ahead):
                            break
                        self._encode(i, start, None if last else end)
                    workers.submit(i, self.temp[i])
                    self.pending += 1
                while self.pending:
                    self._collect()
            except Exception:
                # An error, not an interruption: parts already in flight are worth keeping,
                # so let them land in the cache before giving up.
                while self.pending:
                    self._collect()
                raise
        finally:
            self._close_cache()
            workers.stop()
            for part in self.temp.values():
                with contextlib.suppress(OSError):
                    part.unlink()
        if self.errors:
            raise self._first_error()
        count = len(self.ranges)
        self.say(f"{self.label}: {count} parts transcribed, {self.cached} of them from the cache")
        return [(*self.ranges[i], self.responses[i]) for i in range(count)]

    def _make_room(self, ahead: int) -> bool:
        """Wait until another part may be encoded; False once a part has failed."""
        while self.pending >= ahead:
            self._collect()
        return not self.errors

    def _span(self, i: int) -> str:
        start, end = self.ranges[i]
        return f"({_clock(start)}-{_clock(end)})"

    def _encode(self, i: int, start: float, end: float | None) -> None:
        fd, name = tempfile.mkstemp(prefix="voxcli-part-", suffix=".flac")
        os.close(fd)
        self.temp[i] = Path(name)
        encoded = audio.encode_flac_16k_mono(self.work, self.temp[i], start=start, end=end)
        if encoded.bytes > MAX_UPLOAD_BYTES:  # cannot happen with max_part_seconds' bound
            raise InputError(
                f"{self.label}: part {i + 1} is {format_size(encoded.bytes)}, over the "
                f"{format_size(MAX_UPLOAD_BYTES)} upload limit",
                hint="pass a smaller --split-minutes",
            )

    def _transcribe(self, i: int, part: Path) -> None:
        """Send part ``i``, hand the answer to the main thread and cache it, here on the
        worker thread: the main thread may be busy encoding or waiting for the next cut,
        and after Ctrl-C the process ends without collecting what is queued."""
        name = f"{self.stem}.part{i + 1:03d}.flac"
        response = self.api.transcribe(self.params, AudioPayload(name, path=part))
        with self.store_lock:
            # Queued first, so the main thread sees answers in the order they came.
            self.results.put((i, response, None))
            if self.closed or self.cache is None or i not in self.keys:
                return
            try:
                self.cache.store(self.keys[i], response)
            except Exception as exc:  # never a second result for this part: warn instead
                self.cache_failure = exc if isinstance(exc, OSError) else OSError(str(exc))
                self.cache = None

    def _close_cache(self) -> None:
        """Let a cache write in progress finish, and start no other."""
        acquired = self.store_lock.acquire(timeout=10)
        self.closed = True
        if acquired:
            self.store_lock.release()

    def _collect(self) -> None:
        i, response, error = self.results.get()
        self.pending -= 1
        if (failure := self.cache_failure) is not None:  # set by a worker, reported once
            self.cache_failure = None
            if self.warn is not None:
                self.warn(
                    f"cannot write the part cache in {self.cache_root} "
                    f"({failure.strerror or failure}); continuing without it"
                )
        with contextlib.suppress(OSError):
            self.temp.pop(i).unlink()
        if error is not None:
            self.errors.append(error)
            return
        assert response is not None
        self.responses[i] = response
        self.say(f"{self.label}: part {i + 1} {self._span(i)} done")

    def _first_error(self) -> BaseException:
        error = self.errors[0]
        done = len(self.responses)
        if isinstance(error, VoxcliError) and self.cache is not None and done:
            note = (
                f"{done} finished part{'s are' if done > 1 else ' is'} saved in the cache: "
                "run the same command again to send only the others"
            )
            error.hint = f"{error.hint}; {note}" if error.hint else note
        return error


class _DaemonWorkers:
    """``count`` daemon threads running ``run(index, arg)``, which puts its own result in
    ``results``; a failure goes there as ``(index, None, error)``."""

    def __init__(
        self,
        count: int,
        run: Callable[[int, Path], None],
        results: queue.SimpleQueue[tuple[int, dict[str, Any] | None, BaseException | None]],
    ) -> None:
        self._run = run
        self._results = results
        self._tasks: queue.SimpleQueue[tuple[int, Path] | None] = queue.SimpleQueue()
        self._count = count
        for n in range(count):
            threading.Thread(target=self._loop, name=f"voxcli-part-{n}", daemon=True).start()

    def submit(self, index: int, arg: Path) -> None:
        self._tasks.put((index, arg))

    def stop(self) -> None:
        for _ in range(self._count):
            self._tasks.put(None)

    def _loop(self) -> None:
        while (task := self._tasks.get()) is not None:
            index, arg = task
            try:
                self._run(index, arg)
            except BaseException as exc:
                self._results.put((index, None, exc))


# --- merging -------------------------------------------------------------------------------------


def merge_parts(
    parts: Sequence[tuple[float, float, Transcript]],
    *,
    source: str | None = None,
    duration: float | None = None,
) -> Transcript:
    """Merge ``(start, end, transcript)`` parts, each timed from its own start, into one.

    Times are shifted by each part's start and kept inside the part's range; segments and
    words come out in order and never overlap (a stretch that would overlap the one before
    starts where that one ends).
    """
    segments: list[Segment] = []
    words: list[Word] = []
    seg_end = word_end = 0.0
    for start, end, part in parts:
        for segment in _in_time_order(part.segments):
            if segment.start is None or segment.end is None:
                segments.append(segment)
                continue
            s, e = _place(segment.start, segment.end, start, end, seg_end)
            segments.append(replace(segment, start=s, end=e))
            seg_end = e
        for word in part.words:
            s, e = _place(word.start, word.end, start, end, word_end)
            words.append(replace(word, start=s, end=e))
            word_end = e
    transcripts = [part for _, _, part in parts]
    return Transcript(
        text=_join_texts(t.text for t in transcripts),
        language=_main_language(parts),
        model=next((t.model for t in transcripts if t.model), None),
        segments=tuple(segments),
        words=tuple(words),
        usage=_sum_usage(t.usage for t in transcripts),
        source=source,
        duration=duration,
    )


def _in_time_order(segments: Sequence[Segment]) -> list[Segment]:
    if all(s.start is not None and s.end is not None for s in segments):
        return sorted(segments, key=lambda s: (s.start, s.end))
    return list(segments)  # untimed entries: keep the API's order


def _place(
    start: float, end: float, lo: float, hi: float, previous_end: float
) -> tuple[float, float]:
    """Shift a part-relative span by ``lo``, keep it in ``[lo, hi]`` and after ``previous_end``."""
    s = min(max(start + lo, lo, previous_end), hi)
    e = min(max(end + lo, s), hi)
    return s, max(e, s)


def _join_texts(texts: Any) -> str:
    joined = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if joined and not (_no_space_script(joined[-1]) and _no_space_script(text[0])):
            joined += " "
        joined += text
    return joined


def _no_space_script(char: str) -> bool:
    """Scripts written without spaces between words (CJK, kana, Thai, fullwidth marks)."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x0E00 <= code <= 0x0E7F  # Thai
        or 0x20000 <= code <= 0x2FFFF
    )


def _main_language(parts: Sequence[tuple[float, float, Transcript]]) -> str | None:
    """The language heard for the longest total time (the first part's on a tie)."""
    weight: Counter[str] = Counter()
    for start, end, part in parts:
        if part.language:
            weight[part.language] += max(end - start, 1e-9)
    if not weight:
        return None
    best = max(weight.values())
    return next(p.language for _, _, p in parts if p.language and weight[p.language] == best)


def _sum_usage(usages: Any) -> Usage | None:
    present = [u for u in usages if u is not None]
    if not present:
        return None

    def total(name: str) -> Any:
        values = [getattr(u, name) for u in present if getattr(u, name) is not None]
        return sum(values) if values else None

    return Usage(
        prompt_tokens=total("prompt_tokens"),
        completion_tokens=total("completion_tokens"),
        total_tokens=total("total_tokens"),
        prompt_audio_seconds=total("prompt_audio_seconds"),
    )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
