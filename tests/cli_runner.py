"""Run the voxcli CLI in-process, the way a shell would, and capture what it prints.

The run gets an :class:`~voxcli.env.Environment` built here (streams, terminal state,
variables, temporary directory, limits) instead of the process's own. ``sys.std*`` are
pointed at the same streams only for what Click itself prints (help, usage errors).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from unittest import mock

from voxcli.cli import run
from voxcli.env import Environment, Limits


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def make_env(
    *,
    stdin: bytes | str = b"",
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin_isatty: bool = False,
    stderr_isatty: bool = False,
    limits: Limits | None = None,
    temp_dir: Path | None = None,
) -> Environment:
    """A test environment: the given stdin, in-memory stdout/stderr, this process's
    variables, and ``tempfile.gettempdir()`` unless ``temp_dir`` is given.

    Without ``limits``, inputs are never too young (``--min-age`` 0): tests write their
    inputs just before the run. Pass ``Limits()`` for the real defaults."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return Environment(
        stdin=io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
        stdout=stdout if stdout is not None else io.StringIO(),
        stderr=stderr if stderr is not None else io.StringIO(),
        environ=dict(os.environ),
        temp_dir=temp_dir or Path(tempfile.gettempdir()),
        stdin_isatty=stdin_isatty,
        stderr_isatty=stderr_isatty,
        limits=limits if limits is not None else Limits(min_age_seconds=0.0),
    )


def run_env(env: Environment, *args: str) -> int:
    """Call ``voxcli ARGS`` with ``env``; Click's own output goes to env's streams too."""
    with (
        mock.patch.object(sys, "stdin", env.stdin),
        mock.patch.object(sys, "stdout", env.stdout),
        mock.patch.object(sys, "stderr", env.stderr),
    ):
        return int(run(list(args), env))


def run_cli(*args: str, stdin: bytes | str = b"", limits: Limits | None = None) -> Result:
    """Call ``voxcli ARGS`` in this process with the given stdin; never raises SystemExit."""
    env = make_env(stdin=stdin, limits=limits)
    code = run_env(env, *args)
    assert isinstance(env.stdout, io.StringIO) and isinstance(env.stderr, io.StringIO)
    return Result(code, env.stdout.getvalue(), env.stderr.getvalue())


def subprocess_env(server: object, **extra: str) -> dict[str, str]:
    """The environment for ``python -m voxcli`` in a subprocess, talking to the fake *server*."""
    from fake_mistral import TEST_API_KEY

    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["VOXCLI_MIN_AGE"] = "0"  # inputs are written just before the run (see make_env)
    env.update(MISTRAL_API_KEY=TEST_API_KEY, MISTRAL_SERVER_URL=server.url, **extra)  # type: ignore[attr-defined]
    return env
