"""``/v1/models``: the model cards, converted to our :class:`~voxcli.catalog.ModelCard`.

A 404 from ``retrieve_model`` is :class:`ModelNotFound`. A server without the models
endpoint answers 404 too, so only :func:`list_models` can tell "no endpoint" (its own 404,
an :class:`~voxcli.errors.ApiError`) from "no such model" (absent from the list):
:class:`~voxcli.catalog.ModelCatalog` therefore works from the list.
"""

from __future__ import annotations

from typing import Any

from voxcli.api.client import ApiClient
from voxcli.catalog.card import ModelCard, parse_cards
from voxcli.errors import ApiError


class ModelNotFound(ApiError):
    """The server answered 404 for one model: unknown, retired, or no models endpoint."""

    def __init__(self, model_id: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, status=404)
        self.model_id = model_id


def list_models(client: ApiClient) -> list[ModelCard]:
    """Every model the account can use, as the server lists it (entries that are not
    model cards are skipped)."""
    with client.call() as sdk:
        listing = sdk.models.list()
    return parse_cards(_card_json(item) for item in listing.data or [])


def retrieve_model(client: ApiClient, model_id: str) -> ModelCard:
    """One model's card (by id or alias); :class:`ModelNotFound` on a 404."""
    try:
        with client.call() as sdk:
            answer = sdk.models.retrieve(model_id=model_id)
    except ApiError as exc:
        if exc.status == 404:
            raise ModelNotFound(model_id, exc.message, exc.hint) from None
        raise
    data = _card_json(answer)
    try:
        return ModelCard.from_json(data or {})
    except ValueError:
        raise ApiError(f"{client.where} sent a model card voxcli does not understand") from None


def _card_json(item: Any) -> Any:
    """A card as plain JSON: the SDK model dumped, or the raw payload of a card type the
    SDK does not know."""
    if getattr(item, "is_unknown", False):
        return getattr(item, "raw", None)
    return item.model_dump(mode="json", by_alias=True)
