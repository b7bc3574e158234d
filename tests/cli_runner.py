"""Run the voxcli CLI in-process, the way a shell would, and capture what it prints."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from unittest import mock

from voxcli import console
from voxcli.cli import run


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class _Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def run_cli(*args: str, stdin: bytes | str = b"") -> Result:
    """Call ``voxcli ARGS`` in this process with the given stdin; never raises SystemExit."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    fake_stdin = _Stdin(io.BytesIO(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    console.stderr_console.cache_clear()
    with (
        mock.patch.object(sys, "stdin", fake_stdin),
        mock.patch.object(sys, "stdout", out),
        mock.patch.object(sys, "stderr", err),
    ):
        code = run(list(args))
    console.stderr_console.cache_clear()
    return Result(int(code), out.getvalue(), err.getvalue())


def subprocess_env(server: object, **extra: str) -> dict[str, str]:
    """The environment for ``python -m voxcli`` in a subprocess, talking to the fake *server*."""
    import os

    from fake_mistral import TEST_API_KEY

    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env.update(MISTRAL_API_KEY=TEST_API_KEY, MISTRAL_SERVER_URL=server.url, **extra)  # type: ignore[attr-defined]
    return env
