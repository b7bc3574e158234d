"""``voxcli live``: realtime transcription (session driver, audio sources, sinks)."""
