"""``voxcli live``: :mod:`.command` (flags), :mod:`.request` (rules), :mod:`.run`."""
