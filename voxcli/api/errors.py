"""SDK and transport failures turned into our errors, matched by exception type.

The one place that knows the SDK's and httpx2's exception classes; messages are one line
and never carry the key (the caller's messages pass through :func:`voxcli.redact.redact`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from voxcli.console import printable
from voxcli.errors import ApiError, AuthError
from voxcli.sizes import format_size

NETWORK_HINT = "check the network and --server-url, or raise --timeout/--retries"


class ResponseTooLarge(Exception):
    """The answer went over the size cap; reading stopped there (never retried)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


class RedirectRefused(Exception):
    """A request carrying a body (audio) was redirected to another origin (never followed)."""

    def __init__(self, status: int, origin: str) -> None:
        super().__init__(f"HTTP {status} redirect to {origin}")
        self.status = status
        self.origin = origin


class EncodingRefused(Exception):
    """The answer came compressed although voxcli asked for none (its size is unbounded)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(f"unrequested Content-Encoding {encoding}")
        self.encoding = encoding


class RetriesExhausted(Exception):
    """Raised by the HTTP client when the SDK asks for one attempt too many."""

    def __init__(self, attempts: int, status: int | None, detail: str | None) -> None:
        super().__init__(f"gave up after {attempts} attempts")
        self.attempts = attempts
        self.status = status
        self.detail = detail


def describe_transport_error(exc: BaseException) -> str:
    """A transport failure in a few words ("the request timed out")."""
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return "the request timed out"
    if isinstance(exc, httpx2.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.WriteError):
        return "the connection was dropped"
    return printable(one_line(str(exc))) or type(exc).__name__


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_detail(body: str | None) -> str | None:
    """The human part of an API error body, on one line, control characters escaped
    (``\\x1b``): it ends up in messages and ``--debug`` tracebacks."""
    detail = _raw_error_detail(body)
    return printable(one_line(detail)) if detail else None


def _raw_error_detail(body: str | None) -> str | None:
    """Mistral sends JSON with a message; other servers may send anything."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        text = " ".join(body.split())
        return text[:200] or None
    if isinstance(data, Mapping):
        for key in ("message", "detail", "error"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping) and isinstance(value.get("message"), str):
                return value["message"]
            if isinstance(value, list) and value:
                first = value[0]
                if isinstance(first, Mapping) and first.get("msg"):
                    return str(first["msg"])
    return " ".join(body.split())[:200]


def status_error(status: int, detail: str | None, where: str, attempts: int = 1) -> Exception:
    """Our error for an HTTP error status."""
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    detail_text = f"{tried}: {detail}" if detail else tried
    if status in (401, 403):
        return AuthError(
            f"the API key was rejected (HTTP {status}){detail_text}",
            hint="check MISTRAL_API_KEY, the config file's api_key or --api-key-file",
        )
    if status == 429:
        return ApiError(
            f"rate limited by {where} (HTTP 429){detail_text}",
            hint="wait and try again, or raise --retries",
            status=status,
            detail=detail,
        )
    if status >= 500:
        return ApiError(
            f"{where} failed (HTTP {status}){detail_text}",
            hint="the service may be having trouble; try again later or raise --retries",
            status=status,
            detail=detail,
        )
    return ApiError(
        f"{where} refused the request (HTTP {status}){detail_text}", status=status, detail=detail
    )


@contextmanager
def translated_errors(where: str) -> Iterator[None]:
    """Re-raise SDK and transport failures inside the block as our errors."""
    import httpx2
    from mistralai.client import errors as sdk_errors

    try:
        yield
    except RetriesExhausted as exc:
        if exc.status is not None:
            raise status_error(exc.status, exc.detail, where, exc.attempts) from None
        raise ApiError(
            f"{where}: {exc.detail or 'request failed'} (gave up after {exc.attempts} attempts)",
            hint=NETWORK_HINT,
        ) from None
    except ResponseTooLarge as exc:
        raise ApiError(
            f"{where} sent more than {format_size(exc.limit)}; voxcli stopped reading the answer",
            hint="a transcript is far smaller: check --server-url",
        ) from None
    except RedirectRefused as exc:
        raise ApiError(
            f"{where} redirected the request (HTTP {exc.status}) to another server, "
            f"{exc.origin}; voxcli sends audio only to the server it was given",
            hint="if that server is the right one, pass it as --server-url",
        ) from None
    except EncodingRefused as exc:
        raise ApiError(
            f"{where} sent a compressed answer ({printable(exc.encoding)}) voxcli did not ask for"
        ) from None
    except sdk_errors.ResponseValidationError as exc:
        cause = printable(one_line(str(exc.cause), 200))
        raise ApiError(f"{where} sent a response voxcli does not understand: {cause}") from None
    except sdk_errors.SDKError as exc:
        raise status_error(exc.status_code, error_detail(exc.body), where) from None
    except sdk_errors.MistralError as exc:  # typed HTTP errors, e.g. HTTPValidationError (422)
        raise status_error(exc.status_code, error_detail(exc.body), where) from None
    except sdk_errors.NoResponseError:
        raise ApiError(f"{where} sent no response") from None
    except httpx2.RequestError as exc:
        raise ApiError(f"{where}: {describe_transport_error(exc)}", hint=NETWORK_HINT) from None
