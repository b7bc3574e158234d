"""The engine: one bounded scheduler, the runner, long recordings, the part cache, locks."""
