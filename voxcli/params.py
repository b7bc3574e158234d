"""Pure validation of transcription flags into API parameters.

Each rule here is an API constraint the SDK does not check, so a bad value
becomes a usage error before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from voxcli.errors import UsageError
from voxcli.sources import looks_like_url

MAX_BIAS_TERMS = 100
MAX_BIAS_TERM_LENGTH = 100
"""Characters in one bias term: the API documents no limit, and a word or name (even a
long German compound or a chemical name) is far shorter; longer is a mistake, such as a
sentence pasted into --bias, and would only eat the context window."""
GRANULARITIES = ("segment", "word")
URL_TRACK_MESSAGE = (
    "--audio-track applies to local files and stdin; the API fetches a URL itself "
    "and picks its own audio stream"
)
URL_TRACK_HINT = "download it first, or drop --audio-track"
_LANGUAGE = re.compile(r"^[A-Za-z]{2}$")
_WHITESPACE = re.compile(r"\s+")
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs "
    "cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha "
    "he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn "
    "ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb "
    "nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd "
    "se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw "
    "ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
"""Every ISO 639-1 language code (the API's ``language`` is one of them)."""


def normalise_language(code: str | None) -> str | None:
    """A two-letter ISO 639-1 code, lower-cased; anything else is a usage error."""
    if code is None:
        return None
    code = code.strip()
    if not _LANGUAGE.match(code):
        raise UsageError(
            f"--language must be a two-letter ISO 639-1 code such as 'en' or 'fr', not {code!r}",
            hint="the API accepts exactly two letters; omit --language to detect it automatically",
        )
    if code.lower() not in ISO_639_1:
        raise UsageError(
            f"--language {code!r} is not an ISO 639-1 language code",
            hint="use a code such as 'en', 'fr' or 'de', or omit --language to detect it",
        )
    return code.lower()


def bias_term(raw: str) -> str:
    """One context-bias term as the API wants it: no spaces (underscores), no commas."""
    return _WHITESPACE.sub("_", raw.strip())


def split_bias_values(values: Iterable[str]) -> list[str]:
    """Terms from ``--bias`` values, each of which may hold a comma-separated list."""
    return [bias_term(part) for value in values for part in value.split(",")]


def bias_terms_from_text(text: str) -> list[str]:
    """Terms from a bias file's text: one per line (commas also separate), ``#`` comments."""
    terms: list[str] = []
    for line in text.splitlines():
        content = line.split("#", 1)[0]
        terms.extend(bias_term(part) for part in content.split(","))
    return terms


def collect_bias_terms(terms: Sequence[str]) -> tuple[str, ...]:
    """All bias terms, empty ones dropped, duplicates removed keeping order, at most 100."""
    unique = tuple(dict.fromkeys(term for term in terms if term))
    if too_long := next((t for t in unique if len(t) > MAX_BIAS_TERM_LENGTH), None):
        raise UsageError(
            f"a bias term is at most {MAX_BIAS_TERM_LENGTH} characters, not {len(too_long)} "
            f"({too_long[:30]}...)",
            hint="bias terms are words or names; split a phrase into its words",
        )
    if len(unique) > MAX_BIAS_TERMS:
        raise UsageError(
            f"--bias: {len(unique)} terms given, but the API accepts at most {MAX_BIAS_TERMS}",
            hint="keep the names and jargon the model is most likely to get wrong",
        )
    return unique


def timestamp_granularities(
    requested: Sequence[str],
    *,
    language: str | None,
    needs_timestamps: bool,
    fmt: str,
    wants_timestamps: bool = False,
) -> tuple[str, ...]:
    """The granularities to request, rejecting the API's language/timestamps conflict.

    ``needs_timestamps``: the format cannot do without them (a usage error with
    ``--language``). ``wants_timestamps``: ask for segments when nothing forbids it.
    """
    granularities = tuple(dict.fromkeys(requested))
    if granularities and language:
        raise UsageError(
            "--language and --timestamps cannot be used together: "
            "the API does not accept both in one request",
            hint="drop --language (the language is detected automatically) to get timestamps, "
            "or drop --timestamps to pin the language",
        )
    if needs_timestamps and not granularities:
        if language:
            raise UsageError(
                f"--format {fmt} needs timestamps, and the API does not accept "
                "--language together with timestamps",
                hint=f"drop --language to get {fmt} output (the language is detected "
                "automatically), or choose --format text or json",
            )
        granularities = ("segment",)
    if wants_timestamps and not granularities and not language:
        granularities = ("segment",)
    return granularities


def check_audio_track(track: int | None, api_fetched: Sequence[str]) -> None:
    """--audio-track counts from 0 and picks a stream of what voxcli decodes: not of a URL
    among ``api_fetched``, the SOURCE arguments the API would fetch itself (those found
    later, in --files-from lists, fail on their own)."""
    if track is None:
        return
    if track < 0:
        raise UsageError(f"--audio-track counts audio streams from 0 (the first), not {track}")
    url = next((raw for raw in api_fetched if looks_like_url(raw)), None)
    if url is not None:
        raise UsageError(f"{url}: {URL_TRACK_MESSAGE}", hint=URL_TRACK_HINT)
