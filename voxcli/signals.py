"""SIGINT and SIGTERM: the first one unwinds the run cleanly, a second one exits at once.

SIGINT raises :class:`KeyboardInterrupt` (Python's default) and SIGTERM raises
:class:`Terminated`, both in the main thread, so ``finally`` blocks remove temporary
files and release locks on the way out. While that clean-up runs, :func:`exit_on_next`
makes a repeated signal end the process immediately (the kernel still releases locks).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from voxcli.errors import ExitCode


class Terminated(BaseException):
    """SIGTERM arrived (a BaseException, like KeyboardInterrupt, so nothing swallows it)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` in the main thread."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_at_once(signum: int, frame: FrameType | None) -> None:
    """Say so and end the process now (a second signal while cleaning up)."""
    code = ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED
    try:
        sys.stderr.write("voxcli: error: interrupted again, exiting at once\n")
        sys.stderr.flush()
    finally:
        os._exit(int(code))


@contextmanager
def exit_on_next() -> Iterator[None]:
    """While the block runs (clean-up after a first signal), SIGINT/SIGTERM exit at once."""
    if not _in_main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, exit_at_once) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
