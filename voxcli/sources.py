"""What a SOURCE argument names: a local file, stdin (``-``) or a URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlsplit

from voxcli.errors import UsageError

MAX_URL_LENGTH = 2083
STDIN_NAME = "stdin"

SourceKind = Literal["file", "stdin", "url"]


@dataclass(frozen=True)
class Source:
    """One input, as the user named it."""

    kind: SourceKind
    raw: str
    path: Path | None = None

    @property
    def is_url(self) -> bool:
        return self.kind == "url"

    @property
    def file_name(self) -> str:
        """The base name to send and to derive output names from."""
        if self.kind == "file" and self.path is not None:
            return self.path.name
        if self.kind == "url":
            name = PurePosixPath(unquote(urlsplit(self.raw).path)).name
            return name or "audio"
        return STDIN_NAME

    @property
    def stem(self) -> str:
        """The output name's stem: ``talk`` for ``talk.wav`` (never ``talk.wav``)."""
        name = self.file_name
        return PurePosixPath(name).stem or name

    @property
    def identity(self) -> str:
        """What makes two sources the same input: a file's real path, else the text given."""
        return os.path.realpath(self.path) if self.path is not None else self.raw

    @property
    def display_name(self) -> str:
        """How a progress display names it: the file's name, else as given."""
        return self.file_name if self.kind == "file" else str(self)

    def __str__(self) -> str:
        return "-" if self.kind == "stdin" else self.raw


def looks_like_url(raw: str) -> bool:
    """Whether a SOURCE argument names a URL (``http://`` or ``https://``, any case)."""
    return raw.lower().startswith(("http://", "https://"))


def parse_source(raw: str) -> Source:
    if raw == "-":
        return Source("stdin", raw)
    if looks_like_url(raw):
        if len(raw) > MAX_URL_LENGTH:
            raise UsageError(
                f"URL is {len(raw)} characters long; the API accepts at most {MAX_URL_LENGTH}"
            )
        if not urlsplit(raw).netloc:
            raise UsageError(f"not a valid URL: {raw}")
        if "%00" in raw or any(not ch.isprintable() or ch.isspace() for ch in raw):
            raise UsageError(
                f"not a valid URL (it holds a NUL, a space or a control character): {raw!r}"
            )
        return Source("url", raw)
    return Source("file", raw, Path(raw).expanduser())


def parse_sources(raws: list[str]) -> list[Source]:
    """Sources in input order, each processed once; ``-`` may appear only once."""
    sources = [parse_source(raw) for raw in raws]
    if sum(source.kind == "stdin" for source in sources) > 1:
        raise UsageError("'-' (stdin) can be given only once")
    seen: set[str] = set()
    unique: list[Source] = []
    for source in sources:
        if (key := source.identity) not in seen:
            seen.add(key)
            unique.append(source)
    return unique
