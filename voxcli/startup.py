"""Imported first by :mod:`voxcli.cli`: no garbage collection while the CLI's modules load.

Loading Typer, Rich and voxcli's own modules allocates tens of thousands of objects that
live until the process exits and frees almost none of them, so the collections Python runs
meanwhile, and the one at exit, walk them all for nothing. :func:`loaded` moves what
exists out of the collector's sight (:func:`gc.freeze`) and turns collection back on.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_collecting = gc.isenabled()
gc.disable()


def loaded() -> None:
    """The modules are loaded: freeze what they built; collect again if we were."""
    gc.freeze()
    if _collecting:
        gc.enable()


@contextmanager
def loading() -> Iterator[None]:
    """Load more modules (the help renderer, say) the same way."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
