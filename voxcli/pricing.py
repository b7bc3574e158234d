"""Estimated costs: a per-model price table in USD per audio minute.

The built-in prices are Mistral's listed ones (:data:`PRICES_AS_OF`); the config file's
``[prices]`` table overrides or extends them. Batch jobs are billed at
:data:`BATCH_PRICE_FACTOR` of the listed price. Costs are estimates: Mistral's invoice
is what counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voxcli.transcript import Transcript

PRICES_AS_OF = "2026-11"
"""When :data:`DEFAULT_PRICES` were taken from Mistral's model pages."""

DEFAULT_PRICES: Mapping[str, float] = {
    # listed by Mistral (USD per audio minute)
    "voxtral-mini-2602": 0.003,
    "voxtral-mini-transcribe-realtime-2602": 0.006,
    "voxtral-mini-transcribe-realtime-3-0": 0.008,  # Voxtral Mini Transcribe Realtime 3
    # assumed: the same as the listed model of their kind
    "voxtral-mini-latest": 0.003,
    "voxtral-mini-transcribe-latest": 0.003,
    "voxtral-mini-transcribe-3": 0.003,
    "voxtral-mini-transcribe-3-0": 0.003,
    "voxtral-small-transcribe-latest": 0.003,
    "voxtral-small-transcribe-3": 0.003,
    "voxtral-mini-transcribe-realtime-latest": 0.008,
    "voxtral-mini-transcribe-realtime-3": 0.008,
}
"""Built-in prices in USD per audio minute, as of :data:`PRICES_AS_OF`."""

BATCH_PRICE_FACTOR = 0.5
"""Batch jobs are billed at half the listed price."""


@dataclass(frozen=True)
class PriceList:
    """The prices a run estimates with: the config's table over the built-in one."""

    overrides: Mapping[str, float]
    factor: float = 1.0
    """:data:`BATCH_PRICE_FACTOR` for batch jobs, else 1."""

    def per_minute(self, *models: str | None) -> float | None:
        """The price of ``models``, names of one model (the name asked for, its card's id
        and aliases, the one the API says served it), with the batch factor applied: the
        config's price under any of the names first, else the built-in one."""
        names = [model for model in models if model is not None]
        for table in (self.overrides, DEFAULT_PRICES):
            for name in names:
                if name in table:
                    return table[name] * self.factor
        return None

    def cost(self, seconds: float | None, *models: str | None) -> float | None:
        """The estimated cost in USD of ``seconds`` of audio; None when either is unknown."""
        price = self.per_minute(*models)
        if seconds is None or price is None:
            return None
        return seconds / 60 * price


@dataclass(frozen=True)
class Pricing:
    """How a run's audio is priced: its price list and the model it asked for."""

    prices: PriceList
    model: str | None
    aliases: tuple[str, ...] = ()
    """The model's other names (its card's id and aliases): a price set under any is used."""

    def per_minute(self, served: str | None = None) -> float | None:
        """USD per audio minute; ``served``: the model the API says answered."""
        return self.prices.per_minute(self.model, *self.aliases, served)

    def cost(self, seconds: float | None, served: str | None = None) -> float | None:
        """The estimated cost in USD of ``seconds`` of audio; None when either is unknown."""
        return self.prices.cost(seconds, self.model, *self.aliases, served)

    def cost_of(self, transcript: Transcript | None) -> float | None:
        """The estimated cost of ``transcript``: the audio the API billed (else the
        audio's length) at the model's price (else that of the model the API says
        served it)."""
        if transcript is None:
            return None
        usage = transcript.usage
        seconds = usage.prompt_audio_seconds if usage is not None else None
        if seconds is None:
            seconds = transcript.duration
        return self.cost(seconds, transcript.model)


def format_cost(usd: float | None) -> str:
    """``$0.0123``, or ``unknown``."""
    return f"${usd:.4f}" if usd is not None else "unknown"
