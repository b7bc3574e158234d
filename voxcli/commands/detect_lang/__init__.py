"""``voxcli detect-lang``: :mod:`.command` (flags), :mod:`.request` (rules), :mod:`.run`."""
