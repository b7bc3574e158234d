"""``voxcli chat``: questions about audio."""
