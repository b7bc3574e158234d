"""``voxcli batch``'s flags turned into frozen requests, by pure functions.

``batch submit`` takes ``transcribe``'s request and output options and validates them
with ``transcribe``'s own :func:`~voxcli.commands.transcribe.request.build_request`, so
every rule (101 bias terms, ``--language`` with ``--timestamps``, formats...) is the same
and is applied before any input is read; the batch's own rules are added here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from voxcli.commands.transcribe.request import (
    TranscribeFlags,
    TranscribeRequest,
    build_request,
)
from voxcli.config import Settings
from voxcli.errors import UsageError

MAX_TIMEOUT_HOURS = 167
"""The API takes a job timeout under 7 days."""
RETRY_KEEPS = {"jobs", "verbose", "quiet", "api_key_file"}
"""The submit flags ``--retry-failed`` takes; every other option is the job's own."""


@dataclass(frozen=True)
class SubmitFlags:
    """``batch submit``'s command line: ``transcribe``'s flags plus the batch's own."""

    transcribe: TranscribeFlags = field(default_factory=TranscribeFlags)
    dry_run: bool = False
    retry_failed: str | None = None
    timeout_hours: int = 24
    again: bool = False


@dataclass(frozen=True)
class SubmitRequest:
    """A validated submit; ``transcribe`` is None with ``--retry-failed`` (the job's own
    options are used)."""

    transcribe: TranscribeRequest | None
    retry_failed: str | None = None
    dry_run: bool = False
    timeout_hours: int = 24
    again: bool = False
    jobs: int = 4
    verbose: bool = False
    quiet: bool = False


def build_submit_request(flags: SubmitFlags, settings: Settings) -> SubmitRequest:
    """The submit the flags describe; a :class:`UsageError` for any rule they break."""
    tf = flags.transcribe
    if not 1 <= flags.timeout_hours <= MAX_TIMEOUT_HOURS:
        raise UsageError(
            f"--timeout-hours must be 1 to {MAX_TIMEOUT_HOURS}, not {flags.timeout_hours}"
        )

    def request(transcribe: TranscribeRequest | None) -> SubmitRequest:
        return SubmitRequest(
            transcribe,
            retry_failed=flags.retry_failed,
            dry_run=flags.dry_run,
            timeout_hours=flags.timeout_hours,
            again=flags.again,
            jobs=tf.jobs,
            verbose=tf.verbose,
            quiet=tf.quiet,
        )

    if flags.retry_failed is not None:
        changed = _changed_options(tf)
        if changed:
            raise UsageError(
                f"--retry-failed resubmits JOB's failed inputs with JOB's own options; "
                f"it cannot take {', '.join(changed)}",
                hint="drop them, or submit the files anew",
            )
        return request(None)
    if tf.output_dir is None:
        raise UsageError(
            "batch submit needs --output-dir (-d) DIR: the results are written there when "
            "the batch is collected",
        )
    if "-" in tf.sources:
        raise UsageError(
            "batch submit reads files and URLs, not audio on stdin ('-')",
            hint="save the audio to a file first",
        )
    return request(build_request(tf, settings))


def _changed_options(flags: TranscribeFlags) -> list[str]:
    """The options given besides those ``--retry-failed`` takes, as flag names."""
    default = TranscribeFlags()
    names = []
    for f in fields(TranscribeFlags):
        if f.name not in RETRY_KEEPS and getattr(flags, f.name) != getattr(default, f.name):
            names.append(_flag(f.name))
    return names


def _flag(name: str) -> str:
    special = {"sources": "SOURCE", "bias_files": "--bias-file", "speakers": "--speaker"}
    if name in special:
        return special[name]
    if name == "fmt":
        return "--format"
    if name == "render":
        return "subtitle options"
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class CollectFlags:
    """``batch collect``'s command line."""

    refs: tuple[str, ...] = ()
    output_dir: Path | None = None
    fmt: str | None = None
    report: Path | None = None
    keep_uploads: bool = False
    wait: bool = False
    poll: float | None = None
    jobs: int = 4
    verbose: bool = False
    quiet: bool = False


DEFAULT_POLL = 30.0


@dataclass(frozen=True)
class CollectRequest:
    """A validated collect."""

    refs: tuple[str, ...]
    output_dir: Path | None
    fmt: str | None
    report: Path | None
    keep_uploads: bool
    wait: bool
    poll: float
    jobs: int
    verbose: bool
    quiet: bool


def build_collect_request(flags: CollectFlags) -> CollectRequest:
    """The collect the flags describe; a :class:`UsageError` for any rule they break."""
    if flags.output_dir is not None and len(flags.refs) != 1:
        raise UsageError(
            "--output-dir (-d) collects one job that has no local manifest: name that JOB",
            hint="e.g. voxcli batch collect JOB_ID -d DIR",
        )
    if flags.fmt is not None and flags.output_dir is None:
        raise UsageError(
            "--format applies to a job collected with -d DIR (a batch's own format was "
            "chosen when it was submitted)"
        )
    if flags.poll is not None and not flags.wait:
        raise UsageError("--poll sets how often --wait checks the jobs: add --wait")
    poll = DEFAULT_POLL if flags.poll is None else flags.poll
    if not (math.isfinite(poll) and poll > 0):
        raise UsageError(f"--poll must be a positive number of seconds, not {poll:g}")
    return CollectRequest(
        refs=flags.refs,
        output_dir=flags.output_dir,
        fmt=flags.fmt,
        report=flags.report,
        keep_uploads=flags.keep_uploads,
        wait=flags.wait,
        poll=poll,
        jobs=flags.jobs,
        verbose=flags.verbose,
        quiet=flags.quiet,
    )
