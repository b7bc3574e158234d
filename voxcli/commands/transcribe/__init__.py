"""``voxcli transcribe``: the command, and the pure request it builds from the flags."""
