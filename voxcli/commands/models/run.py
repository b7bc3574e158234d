"""Fetch the server's model cards (refreshing the cache) and print them."""

from __future__ import annotations

from voxcli.catalog.cache import ModelCatalog
from voxcli.catalog.listing import render_json, render_table
from voxcli.commands import common
from voxcli.config import Settings
from voxcli.env import Environment
from voxcli.output.sinks import write_stdout


def list_models(env: Environment, settings: Settings, *, fmt: str, include_all: bool) -> None:
    """Print the models as a table or JSON; the cache is refreshed on the way."""
    with common.open_api(settings, jobs=1) as api:
        catalog = ModelCatalog(env.cache_dir, settings.server_url, api.list_models)
        catalog.refresh()
        cards = catalog.cards()
    render = render_json if fmt == "json" else render_table
    write_stdout(render(cards, include_all=include_all), env.stdout)
