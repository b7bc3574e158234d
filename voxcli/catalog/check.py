"""Check a request against a model's card before anything is sent (pure functions).

:func:`check` refuses what the card says the model cannot do (:class:`ModelMismatch`, exit
2) and returns warnings (a deprecated model); :func:`unknown_model` is the error for a name
the server does not list; :func:`translate_refusal` turns the API's own 400/404 about a
model into the same errors, for when the catalogue was unavailable and nothing was checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from voxcli.catalog.card import ModelCard, distinct_models, find_card
from voxcli.catalog.kinds import DEFAULT_MODELS, KIND_LABELS, Kind
from voxcli.catalog.listing import format_audio_length
from voxcli.errors import ApiError, UsageError

MAX_SPEAKER_REFERENCES = 8
"""Mistral's limit on ``speaker_references`` clips per request."""

MODELS_HINT = "`voxcli models` lists what each model can do"


class ModelMismatch(UsageError):
    """The request asks for something the model cannot do."""


class UnknownModel(UsageError):
    """The server does not know the model (never existed, or retired)."""


@dataclass(frozen=True)
class Needs:
    """What a request needs from its model.

    ``timestamps`` holds the granularities asked for; ``-t word`` and ``--highlight-words``
    both need ``word``. ``bias`` counts ``context_bias`` terms and ``speakers`` speaker
    reference clips (which need diarization).
    """

    kind: Kind = "offline"
    timestamps: tuple[str, ...] = ()
    diarize: bool = False
    bias: int = 0
    language: str | None = None
    speakers: int = 0


Support = Callable[[ModelCard], bool | None]
"""Whether a card supports one feature: True, False, or None when the card does not say."""


def check(
    card: ModelCard, needs: Needs, catalogue: Iterable[ModelCard] = (), *, name: str | None = None
) -> list[str]:
    """Warnings for this request on ``card`` (``name``: how the user named it); raises
    :class:`ModelMismatch` naming what the model lacks and what it supports, with a hint
    naming a model of ``catalogue`` that supports the whole request. More than
    :data:`MAX_SPEAKER_REFERENCES` speaker references is refused whatever the model."""
    if needs.speakers > MAX_SPEAKER_REFERENCES:
        raise _too_many(MAX_SPEAKER_REFERENCES, needs.speakers)
    shown = _shown(card, name)
    missing = _missing(card, needs)
    if missing:
        lacks = f"cannot do {_join(missing)}" if card.is_audio else "takes no audio"
        label = _join(missing) if card.is_audio else KIND_LABELS[needs.kind]
        raise ModelMismatch(
            f"model {shown} {lacks}; it supports {support_summary(card)}",
            hint=_capable_hint(label, needs, catalogue, exclude=card),
        )
    return [deprecation_warning(card, shown)] if card.deprecation else []


def deprecation_warning(card: ModelCard, shown: str | None = None) -> str:
    """One line: the model's retirement date and its replacement."""
    when = f" and retires on {card.deprecation:%Y-%m-%d}" if card.deprecation else ""
    line = f"model {shown or card.id} is deprecated{when}"
    if card.deprecation_replacement_model:
        line += f"; use -m {card.deprecation_replacement_model} instead"
    return line


def unknown_model(name: str, kind: Kind, default: str | None = None) -> UnknownModel:
    """The error for a model the server does not list or answers 404 for: the hint names
    the current default of ``kind`` (``default`` if given) and ``voxcli models``."""
    default = default or DEFAULT_MODELS[kind]
    if name == default:
        hint = f"see `voxcli models` for the models this server offers for {KIND_LABELS[kind]}"
    else:
        hint = f"the current {KIND_LABELS[kind]} default is -m {default}; {MODELS_HINT}"
    return UnknownModel(
        f"unknown model {name}: the server does not offer it (it may have been retired)", hint
    )


def support_summary(card: ModelCard) -> str:
    """What a card says the model does, for messages: "offline transcription, segment
    timestamps, diarization, context bias, languages en fr de"."""
    if not card.is_audio:
        return "text chat only" if card.completion_chat else "none of voxcli's uses"
    parts = [KIND_LABELS[kind] for kind in card.kinds] or ["audio (no transcription or chat)"]
    if card.has_transcription_capabilities:
        stamps = card.timestamp_granularities
        if "offline" in card.kinds:
            parts.append(f"{' and '.join(stamps)} timestamps" if stamps else "no timestamps")
        parts.extend(
            label
            for label, present in (
                ("diarization", card.diarization),
                ("context bias", card.context_bias),
                ("turn detection", card.turn_detection),
            )
            if present
        )
        if card.languages:
            parts.append(f"languages {' '.join(card.languages)}")
    return ", ".join(parts)


def translate_refusal(
    model: str,
    kind: Kind,
    status: int | None,
    detail: str | None,
    catalogue: Iterable[ModelCard] = (),
) -> UsageError | None:
    """The API's own refusal of a request about ``model`` as our error, or None if the
    answer is about something else. ``detail`` is the error text (the whole message of an
    :class:`~voxcli.errors.ApiError` will do: it is searched, not matched)."""
    if not detail or status is None:
        return None
    text = " ".join(detail.split())
    if status == 404:
        return unknown_model(model, kind) if re.search(r"\bmodel\b", text, re.I) else None
    if status not in (400, 422):
        return None
    cards = tuple(catalogue)
    for pattern, translate in _REFUSALS:
        found = re.search(pattern, text, re.I)
        if found:
            return translate(model, kind, found, cards, _said(text))
    return None


def translate_api_error(
    model: str, kind: Kind, error: ApiError, catalogue: Iterable[ModelCard] = ()
) -> UsageError | None:
    """:func:`translate_refusal` for an :class:`~voxcli.errors.ApiError` (its ``detail``
    if it has one, else its message)."""
    detail = getattr(error, "detail", None) or error.message
    return translate_refusal(model, kind, error.status, detail, catalogue)


# -- what a card lacks ---------------------------------------------------------------------


def _requirements(needs: Needs) -> list[tuple[str, Support]]:
    """The features a request needs beyond its kind, each with how to tell support."""
    reqs: list[tuple[str, Support]] = []
    for granularity in needs.timestamps:
        reqs.append((f"{granularity} timestamps", _granularity(granularity)))
    if needs.diarize or needs.speakers:
        reqs.append(("diarization", _detail(lambda c: c.diarization)))
    if needs.bias:
        reqs.append(("context bias", _detail(lambda c: c.context_bias)))
    if needs.language is not None:
        reqs.append((f"language {needs.language}", _language(needs.language)))
    return reqs


def _granularity(granularity: str) -> Support:
    return _detail(lambda c: granularity in c.timestamp_granularities)


def _language(language: str) -> Support:
    """An empty language list says nothing (older cards): unknown, not refused."""
    return lambda c: (language in c.languages) if c.languages else None


def _detail(present: Callable[[ModelCard], bool]) -> Support:
    """A transcription detail, unknown when the card has no transcription capabilities."""
    return lambda c: present(c) if c.has_transcription_capabilities else None


def _missing(card: ModelCard, needs: Needs) -> list[str]:
    """What ``card`` says it cannot do of ``needs``: audio, then the kind, then details."""
    if not card.is_audio:
        return ["audio input"]
    if needs.kind not in card.kinds:
        return [KIND_LABELS[needs.kind]]
    return [label for label, supports in _requirements(needs) if supports(card) is False]


def _fits(card: ModelCard, needs: Needs) -> bool:
    """Whether ``card`` says it does everything ``needs`` asks (unknown is not enough)."""
    return needs.kind in card.kinds and all(s(card) is True for _, s in _requirements(needs))


# -- hints -------------------------------------------------------------------------------


def capable_model(
    needs: Needs, catalogue: Iterable[ModelCard], exclude: ModelCard | None = None
) -> ModelCard | None:
    """The model of ``catalogue`` to suggest for ``needs``: the kind's default if it fits,
    else a non-deprecated one, else one with a ``-latest`` alias, else the first."""
    default = DEFAULT_MODELS[needs.kind]
    fitting = [
        card
        for card in distinct_models(catalogue)
        if _fits(card, needs) and (exclude is None or card.id != exclude.id)
    ]
    ranked = sorted(
        fitting,
        key=lambda c: (default not in c.names, c.deprecation is not None, not _latest_name(c)),
    )
    return ranked[0] if ranked else None


def suggested_name(card: ModelCard) -> str:
    """How a hint names a model: its ``-latest`` alias (with the id), else its id."""
    latest = _latest_name(card)
    return f"{latest} ({card.id})" if latest and latest != card.id else card.id


def _latest_name(card: ModelCard) -> str | None:
    return next((n for n in card.names if n.endswith("-latest")), None)


def _capable_hint(
    label: str, needs: Needs, catalogue: Iterable[ModelCard], exclude: ModelCard | None = None
) -> str:
    """The hint "<label>: use -m <model>", for a model that fits all of ``needs``."""
    card = capable_model(needs, catalogue, exclude)
    if card is None:
        return f"no listed model supports {label}; {MODELS_HINT}"
    return f"{label}: use -m {suggested_name(card)}"


# -- the API's own refusals ----------------------------------------------------------------

Translate = Callable[[str, Kind, re.Match[str], Sequence[ModelCard], str], UsageError]


def _said(text: str) -> str:
    """The API's words, without our "... refused the request (HTTP 400): " prefix."""
    return re.sub(r"^.*?\(HTTP \d{3}\)(?: after \d+ attempts)?: ", "", text)


def _lacks(feature: str, needs: Callable[[Kind, re.Match[str]], Needs]) -> Translate:
    """A translator for a refusal of one feature ``feature`` (formatted with the match's
    groups); the hint names a model of the catalogue that has it, if the catalogue is known."""

    def translate(
        model: str, kind: Kind, found: re.Match[str], cards: Sequence[ModelCard], said: str
    ) -> UsageError:
        label = feature.format(*found.groups())
        if cards:
            hint = _capable_hint(label, needs(kind, found), cards, exclude=find_card(cards, model))
        else:
            hint = f"choose another model with -m; {MODELS_HINT}"
        return ModelMismatch(f"model {model} cannot do {label} (the API said: {said})", hint)

    return translate


def _too_long(
    model: str, kind: Kind, found: re.Match[str], cards: Sequence[ModelCard], said: str
) -> UsageError:
    card = find_card(cards, model)
    seconds = card.max_audio_seconds() if card else None
    if kind == "chat":
        hint = "send shorter audio or a shorter prompt"
    elif seconds:
        hint = (
            f"{model} holds {format_audio_length(seconds)} of audio per request: split it "
            f"with --split-minutes {max(1, int(seconds // 60))}, or pass fewer --bias terms"
        )
    else:
        hint = "split the recording with --split-minutes, or pass fewer --bias terms"
    return ModelMismatch(f"the request is too long for model {model} (the API said: {said})", hint)


def _too_many_speakers(
    model: str, kind: Kind, found: re.Match[str], cards: Sequence[ModelCard], said: str
) -> UsageError:
    most, got = found.groups()
    return _too_many(int(most), int(got))


def _too_many(most: int, got: int) -> UsageError:
    return ModelMismatch(
        f"at most {most} speaker references are allowed per request, got {got}",
        hint=f"pass at most {most} --speaker clips",
    )


def _speakers_need_diarize(
    model: str, kind: Kind, found: re.Match[str], cards: Sequence[ModelCard], said: str
) -> UsageError:
    return ModelMismatch(
        f"speaker references need diarization (the API said: {said})", hint="add --diarize"
    )


_REFUSALS: tuple[tuple[str, Translate], ...] = (
    (
        r"word-level segments are not enabled",
        _lacks("word timestamps", lambda k, m: Needs(kind=k, timestamps=("word",))),
    ),
    (
        r"segment-level timestamps are not enabled",
        _lacks("segment timestamps", lambda k, m: Needs(kind=k, timestamps=("segment",))),
    ),
    (
        r"diarization is not enabled",
        _lacks("diarization", lambda k, m: Needs(kind=k, diarize=True)),
    ),
    (r"context bias is not enabled", _lacks("context bias", lambda k, m: Needs(kind=k, bias=1))),
    (
        r"language '?(\w+)'? is not supported",
        _lacks("language {0}", lambda k, m: Needs(kind=k, language=m.group(1))),
    ),
    (
        r"does not support audio transcription",
        _lacks("offline transcription", lambda k, m: Needs(kind="offline")),
    ),
    (r"at most (\d+) speaker references are supported, got (\d+)", _too_many_speakers),
    (r"speaker_references requires diarize", _speakers_need_diarize),
    (r"\btokens?\b.*\bcontext\b|\bcontext\b.*\btokens?\b", _too_long),
)


def _shown(card: ModelCard, name: str | None) -> str:
    return f"{name} ({card.id})" if name and name != card.id else card.id


def _join(items: Sequence[str]) -> str:
    """Items as prose: "a", "a or b", "a, b or c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"
