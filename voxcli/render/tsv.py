"""Tab-separated values, like whisper's: ``start``, ``end`` (integer milliseconds), ``text``.

One row per segment, sorted by start (segments missing times get them from
their neighbours, as for subtitles; empty ones are dropped). Without timed
segments but with word timestamps, one row per word. Tabs and line breaks in
text become spaces. When the transcript has speakers, a fourth column
``speaker`` follows.

Rows are written by Python's own ``csv`` writer with the ``excel-tab`` dialect
(lines end with ``\\n``): a field holding a double quote is put in double quotes,
its own quotes doubled (``say "hi" now`` is written ``"say ""hi"" now"``), so it
reads back exactly with ``csv.reader(f, dialect="excel-tab")``, pandas'
``read_csv(f, sep="\\t", dtype=str, keep_default_na=False)`` and spreadsheets.
Every other field is written as it is.
"""

from __future__ import annotations

import csv
import io

from voxcli.render.clean import clean_speaker, clean_text, finite_time
from voxcli.render.cues import require_times, timed_segments
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.timefmt import to_millis
from voxcli.transcript import Transcript


def render_tsv(transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS) -> str:
    """Header line then one row per timed segment (or word)."""
    require_times(transcript, "tsv")
    rows: list[tuple[int, int, str, str | None]] = [
        (s.start, s.end, s.text, s.speaker) for s in timed_segments(transcript, options)
    ]
    if not rows:
        for word in transcript.words:
            start, end, text = finite_time(word.start), finite_time(word.end), clean_text(word.text)
            if start is None or end is None or not text:
                continue
            start_ms = to_millis(start)
            rows.append((start_ms, max(start_ms, to_millis(end)), text, word.speaker))
        rows.sort(key=lambda r: (r[0], r[1]))
    with_speaker = any(clean_speaker(r[3]) for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel-tab", lineterminator="\n")
    writer.writerow(["start", "end", "text", *(["speaker"] if with_speaker else [])])
    for start, end, text, speaker in rows:
        row = [str(start), str(end), text]
        if with_speaker:
            row.append(clean_speaker(speaker) or "")
        writer.writerow(row)
    return out.getvalue()
