"""The error hierarchy and the exit codes it maps onto.

Library code raises these; only ``voxcli.cli`` catches them and prints them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (see README, "Exit codes")."""

    OK = 0
    FAILURE = 1  # the API or network failed after retries, or some inputs failed
    USAGE = 2  # bad or conflicting flags, a missing, unreadable, empty or non-audio file
    AUTH = 3  # no API key found, or the key was rejected
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    STDOUT_CLOSED = 141  # the reader of stdout went away, as a SIGPIPE death reports
    TERMINATED = 143  # SIGTERM


class VoxcliError(Exception):
    """An error with a one-line message, an optional hint and an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(VoxcliError):
    """Bad or conflicting flags or settings."""

    exit_code = ExitCode.USAGE


class InputError(VoxcliError):
    """An input that cannot be used: missing, unreadable, empty or not audio."""

    exit_code = ExitCode.USAGE


class AuthError(VoxcliError):
    """No API key, or the API rejected it."""

    exit_code = ExitCode.AUTH


class ApiError(VoxcliError):
    """The API answered with an error, or could not be reached, after retries."""

    exit_code = ExitCode.FAILURE

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.detail = detail
        """The server's own explanation, when it sent one."""
