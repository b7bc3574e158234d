"""The Batch API engine: submit many inputs as jobs now, collect their results later.

One submission (``voxcli batch submit``) is one local *batch*: a directory under the state
directory (:mod:`.store`) holding its manifest (:mod:`.manifest`), made of one or more API
jobs (more when the requests exceed the per-job limit, :mod:`.plan`). :mod:`.submit`
prepares and uploads the audio, journaling each finished upload so an interrupted submit
resumes; :mod:`.collect` downloads the results and writes each input's outputs exactly as
``voxcli transcribe`` would, journaling each written input so a killed collect resumes.
"""
