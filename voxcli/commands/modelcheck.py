"""The chosen model, checked against its card before anything is sent.

:func:`check_model` looks the model up in the server's catalogue (cached for a day under
the cache directory), refuses what the card says the model cannot do, and warns about a
deprecated model. The returned :class:`ModelGuard` carries the card (for the longest audio
one request holds) and turns the API's own refusals about the model into the same errors,
refreshing the cached catalogue, which was evidently out of date.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ParamSpec, TypeVar

from voxcli.api import MistralApi
from voxcli.audio.references import LONGEST_SECONDS
from voxcli.catalog.cache import ModelCatalog, Unchecked
from voxcli.catalog.card import AUDIO_TOKENS_PER_SECOND, ModelCard, estimate_bias_tokens
from voxcli.catalog.check import (
    ModelMismatch,
    Needs,
    UnknownModel,
    check,
    translate_api_error,
    unknown_model,
)
from voxcli.commands.common import open_api
from voxcli.config import Settings
from voxcli.console import Say, silent
from voxcli.env import Environment
from voxcli.errors import ApiError, AuthError, VoxcliError
from voxcli.pricing import PriceList, Pricing

DRY_RUN_LOOKUP_SECONDS = 10.0
"""The longest a dry run waits for the model list (sent once, without retries)."""

P = ParamSpec("P")
R = TypeVar("R")


def stops_run(error: BaseException) -> bool:
    """Errors every other input would meet too: a refused key, a model that cannot serve
    the request."""
    return isinstance(error, (AuthError, ModelMismatch, UnknownModel))


@dataclass
class ModelGuard:
    """The run's model: its card (None when the catalogue was unavailable) and how the
    API's refusals about it are translated."""

    model: str
    needs: Needs
    catalog: ModelCatalog
    card: ModelCard | None

    def request_seconds(self, context_bias: Sequence[str], speakers: int) -> float | None:
        """The longest audio one request holds after the share of the context that the bias
        terms and ``speakers`` references take (each counted at its longest); None
        without a card."""
        if self.card is None:
            return None
        references = math.ceil(LONGEST_SECONDS * AUDIO_TOKENS_PER_SECOND) * speakers
        return self.card.max_audio_seconds(estimate_bias_tokens(context_bias) + references)

    def pricing(self, prices: Mapping[str, float], factor: float = 1.0) -> Pricing:
        """How this run's audio is priced: ``prices`` (the config's) by the model's name or
        any other name on its card."""
        return Pricing(PriceList(prices, factor), self.model, self.card.names if self.card else ())

    def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)``, with a refusal about the model translated."""
        try:
            return fn(*args, **kwargs)
        except VoxcliError as exc:
            raise self.translate(exc) from None

    def translate(self, error: BaseException) -> BaseException:
        """``error`` as our clear message when the API refused the request because of the
        model (exit 2); else ``error`` itself."""
        if not isinstance(error, ApiError) or error.status not in (400, 404, 422):
            return error
        cards: tuple[ModelCard, ...] = ()
        if self.catalog.unavailable is None:
            self.catalog.refresh()
            try:
                cards = self.catalog.cards()
            except ApiError:
                cards = ()
        translated = translate_api_error(self.model, self.needs.kind, error, cards)
        if translated is None:
            return error
        translated.__cause__ = error
        return translated


def check_model(
    env: Environment,
    api: MistralApi,
    settings: Settings,
    needs: Needs,
    *,
    quiet: bool = False,
    say: Say = silent,
) -> ModelGuard:
    """Look ``settings.model`` up and check ``needs`` against its card; raise
    :class:`~voxcli.catalog.check.ModelMismatch` or ``UnknownModel`` (exit 2) before
    anything is sent. With the models endpoint unavailable, go ahead unchecked."""
    catalog = ModelCatalog(env.cache_dir, settings.server_url, api.list_models)
    return _checked(env, catalog, settings.model, needs, quiet=quiet, say=say)


def check_model_for_dry_run(
    env: Environment, settings: Settings, needs: Needs, *, quiet: bool = False
) -> ModelGuard:
    """:func:`check_model` for ``--dry-run``: the cached catalogue, else one models request
    sent once, without retries, waiting at most :data:`DRY_RUN_LOOKUP_SECONDS` (never any
    audio). Without an API key, or when that request fails, an expired cache is used;
    without one either the card is unknown (None), and a warning (unless ``quiet``) says
    what the plan therefore leaves out."""

    def fetch() -> Sequence[ModelCard]:
        try:
            settings.require_key()
        except AuthError as exc:  # the list is read with the key; the dry run needs none
            raise ApiError(exc.message) from None
        quick = replace(settings, retries=0, timeout=min(settings.timeout, DRY_RUN_LOOKUP_SECONDS))
        with open_api(quick, jobs=1) as api:
            return api.list_models()

    catalog = ModelCatalog(env.cache_dir, settings.server_url, fetch, expired_will_do=True)
    guard = _checked(env, catalog, settings.model, needs, quiet=quiet, say=silent)
    if guard.card is None and not quiet:
        reason = catalog.unavailable
        why = f" ({reason.reason})" if reason is not None else ""
        env.console.warn(
            f"model {settings.model} not checked: the model list is unavailable{why}; parts "
            "are planned by --split-minutes and the upload limit only, not by what one "
            "request holds"
        )
    return guard


def _checked(
    env: Environment, catalog: ModelCatalog, model: str, needs: Needs, *, quiet: bool, say: Say
) -> ModelGuard:
    found = catalog.lookup(model)
    if isinstance(found, Unchecked):
        say(f"model {model} not checked: the model list is unavailable ({found.reason})")
        return ModelGuard(model, needs, catalog, None)
    if found is None:
        raise unknown_model(model, needs.kind)
    warnings = check(found, needs, catalog.cards(), name=model)
    if not quiet:
        for warning in warnings:
            env.console.warn(warning)
    return ModelGuard(model, needs, catalog, found)
