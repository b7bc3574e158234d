"""The model catalogue: what each model can do, cached, and checked before sending.

Standard library only (no SDK import): :mod:`.card` (our :class:`~.card.ModelCard` and the
longest audio one request holds), :mod:`.cache` (:class:`~.cache.ModelCatalog`, a day-long
cache per server with the fetch injected), :mod:`.check` (refusals, hints, deprecation
warnings, the API's own refusals translated), :mod:`.listing` (``voxcli models`` output)
and :mod:`.kinds` (the default model of each use). :mod:`voxcli.api.models` fetches the
cards. This file imports none of them, so ``voxcli.catalog.kinds`` is free at start-up.
"""
