"""``/v1/models`` through the real SDK against the fake server: what is requested, what
comes back (our own cards), a retired model's 404, and a server without the endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_mistral import TEST_API_KEY, FakeMistral
from fake_models import model_card, transcription_capabilities

from voxcli.api import MistralApi
from voxcli.api.models import ModelNotFound, list_models, retrieve_model
from voxcli.catalog.cache import ModelCatalog, Unchecked
from voxcli.catalog.card import ModelCard, parse_cards
from voxcli.catalog.check import UnknownModel, translate_api_error
from voxcli.config import Settings
from voxcli.errors import ApiError, AuthError, ExitCode


@pytest.fixture
def api(fake_server: FakeMistral) -> Iterator[MistralApi]:
    settings = Settings(
        api_key=TEST_API_KEY, key_origin="test", server_url=fake_server.url, retries=0
    )
    client = MistralApi(settings, max_in_flight=1)
    yield client
    client.close()


def test_list_models_returns_our_cards_for_every_model(api, fake_server):
    cards = list_models(api)
    assert all(type(card) is ModelCard for card in cards)
    assert cards == parse_cards(fake_server.models.values())  # nothing lost through the SDK
    assert [card.id for card in cards] == list(fake_server.models)
    [request] = fake_server.models_requests()
    assert (request.method, request.path, request.status) == ("GET", "/v1/models", 200)
    assert request.authorization == f"Bearer {TEST_API_KEY}"


def test_retrieve_by_alias_gives_the_canonical_card(api, fake_server):
    card = retrieve_model(api, "voxtral-mini-transcribe-latest")
    assert card.id == "voxtral-mini-transcribe-3-0"
    assert card.timestamp_granularities == ("segment",)
    assert card.max_context_length == 65536
    old = retrieve_model(api, "voxtral-mini-transcribe-realtime-2602")
    assert (
        old.deprecation is not None and old.deprecation.isoformat() == "2027-03-31T00:00:00+00:00"
    )
    assert old.streaming_delays_ms == ((80, 1200), (2400, 2400))
    assert [r.path for r in fake_server.models_requests()] == [
        "/v1/models/voxtral-mini-transcribe-latest",
        "/v1/models/voxtral-mini-transcribe-realtime-2602",
    ]


def test_a_retired_model_is_model_not_found(api, fake_server):
    with pytest.raises(ModelNotFound) as caught:
        retrieve_model(api, "voxtral-mini-2507")
    error = caught.value
    assert isinstance(error, ApiError)
    assert (error.model_id, error.status, error.exit_code) == (
        "voxtral-mini-2507",
        404,
        ExitCode.FAILURE,
    )
    assert "voxtral-mini-2507 does not exist" in error.message
    [request] = fake_server.models_requests()
    assert (request.path, request.status) == ("/v1/models/voxtral-mini-2507", 404)
    unknown = translate_api_error("voxtral-mini-2507", "chat", error)
    assert isinstance(unknown, UnknownModel)
    assert unknown.exit_code == ExitCode.USAGE
    assert "-m voxtral-small-latest" in (unknown.hint or "")


def test_other_failures_are_not_model_not_found(api, fake_server):
    fake_server.fail_next(500, path="/v1/models/voxtral-mini-latest")
    with pytest.raises(ApiError) as caught:
        retrieve_model(api, "voxtral-mini-latest")
    assert not isinstance(caught.value, ModelNotFound)
    assert caught.value.status == 500


def test_a_card_type_the_sdk_does_not_know_is_still_read(api, fake_server):
    future = model_card(
        "voxtral-future",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(timestamp_granularities=["segment", "word"]),
    )
    future["type"] = "distilled"
    fake_server.models["voxtral-future"] = future
    card = next(c for c in list_models(api) if c.id == "voxtral-future")
    assert card.timestamp_granularities == ("segment", "word")
    assert retrieve_model(api, "voxtral-future") == card


def test_without_the_models_endpoint_listing_fails_and_the_catalogue_is_unchecked(
    api, fake_server, tmp_path
):
    fake_server.models_endpoint = False
    with pytest.raises(ApiError) as caught:
        list_models(api)
    assert caught.value.status == 404
    assert not isinstance(caught.value, ModelNotFound)
    catalog = ModelCatalog(tmp_path / "cache", api.server_url, lambda: list_models(api))
    for name in ("voxtral-mini-transcribe-latest", "voxtral-small-latest", "anything"):
        found = catalog.lookup(name)
        assert isinstance(found, Unchecked)
        assert "HTTP 404" in found.reason
    assert [(r.path, r.status) for r in fake_server.models_requests()] == [
        ("/v1/models", 404),
        ("/v1/models", 404),
    ]  # one for list_models above, one for the whole catalogue
    assert not catalog.path.exists()


def test_the_catalogue_asks_once_for_many_lookups_and_again_on_refresh(api, fake_server, tmp_path):
    def catalog() -> ModelCatalog:
        return ModelCatalog(tmp_path / "cache", api.server_url, lambda: list_models(api))

    expected = ModelCard.from_json(fake_server.models["voxtral-mini-transcribe-3-0"])
    first = catalog()
    for _ in range(5):
        assert first.lookup("voxtral-mini-transcribe-latest") == expected
    for _ in range(5):
        found = catalog().lookup("voxtral-mini-latest")
        assert isinstance(found, ModelCard) and found.id == "voxtral-mini-2602"
    assert [r.path for r in fake_server.models_requests()] == ["/v1/models"]
    del fake_server.models["voxtral-mini-2602"]
    stale = catalog()
    stale.refresh()
    assert stale.lookup("voxtral-mini-latest") is None
    assert [r.path for r in fake_server.models_requests()] == ["/v1/models", "/v1/models"]


def test_a_server_error_leaves_the_catalogue_unchecked(api, fake_server, tmp_path):
    fake_server.fail_next(503, path="/v1/models")
    catalog = ModelCatalog(tmp_path / "cache", api.server_url, lambda: list_models(api))
    found = catalog.lookup("voxtral-mini-transcribe-latest")
    assert isinstance(found, Unchecked) and "HTTP 503" in found.reason


def test_a_rejected_key_is_an_auth_error_not_unchecked(api, fake_server, tmp_path):
    fake_server.reject_all_keys()
    catalog = ModelCatalog(tmp_path / "cache", api.server_url, lambda: list_models(api))
    with pytest.raises(AuthError):
        catalog.lookup("voxtral-mini-transcribe-latest")
