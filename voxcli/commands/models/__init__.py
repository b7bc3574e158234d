"""``voxcli models``: :mod:`.command` (flags) and :mod:`.run` (fetch and print)."""
