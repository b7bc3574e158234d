"""The run's environment: built once by :func:`voxcli.cli.run` and passed down.

It holds what the process gives a run: the standard streams and whether each is a
terminal, the environment variables, the directories (config, cache, state, temporary
files) and limits. Nothing else in voxcli reads ``sys.std*``'s terminal state or
``os.environ``, and nothing changes process-wide settings; tests build an
:class:`Environment` directly instead of patching ``sys`` (httpie's ``Environment``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from voxcli import paths
from voxcli.console import Console

MAX_UPLOAD_BYTES = 512 * 1000 * 1000
"""The API's file limit ("512 MB"; read as the smaller decimal megabytes)."""
MAX_BATCH_REQUESTS = 100_000
"""The Batch API's limit on requests in one job."""
MAX_RESPONSE_BYTES = 64 * 1000 * 1000
"""The largest answer voxcli reads (far above any transcript); more fails the request."""
MAX_STDIN_BYTES = 4 * 1000 * 1000 * 1000
"""The most audio voxcli spools from stdin (34 hours of 16 kHz mono PCM; endless input stops)."""
MIN_AGE_SECONDS = 10.0
"""``--min-age``'s default for inputs found in directories or ``--files-from`` lists."""


@dataclass(frozen=True)
class Limits:
    """Bounds a run works within; tests lower them instead of patching constants."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_batch_requests: int = MAX_BATCH_REQUESTS
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_stdin_bytes: int = MAX_STDIN_BYTES
    min_age_seconds: float = MIN_AGE_SECONDS


def is_terminal(stream: object) -> bool:
    """``stream.isatty()``, False for streams without one or already closed."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


@dataclass
class Environment:
    """Streams, their terminal state, variables, directories and limits of one run."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]
    temp_dir: Path
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    limits: Limits = field(default_factory=Limits)
    console: Console = field(init=False)

    def __post_init__(self) -> None:
        self.console = Console(
            self.stderr, color=self.stderr_isatty and not self.no_color, debug=self.env_debug
        )

    @classmethod
    def from_process(cls) -> Environment:
        """The environment this process was started with."""
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            environ=dict(os.environ),
            temp_dir=Path(tempfile.gettempdir()),
            stdin_isatty=is_terminal(sys.stdin),
            stdout_isatty=is_terminal(sys.stdout),
            stderr_isatty=is_terminal(sys.stderr),
        )

    @property
    def stdin_bytes(self) -> BinaryIO:
        """stdin as bytes (audio, NUL-separated file lists)."""
        return self.stdin.buffer

    @property
    def no_color(self) -> bool:
        """``NO_COLOR`` is set to anything but the empty string (no-color.org)."""
        return bool(self.environ.get("NO_COLOR"))

    @property
    def env_debug(self) -> bool:
        return self.environ.get("VOXCLI_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}

    @property
    def config_file(self) -> Path:
        return paths.config_file(self.environ)

    @property
    def cache_dir(self) -> Path:
        return paths.cache_dir(self.environ)

    @property
    def state_dir(self) -> Path:
        return paths.state_dir(self.environ)
