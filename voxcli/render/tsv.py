"""Tab-separated values, like whisper's: ``start``, ``end`` (integer milliseconds), ``text``.

One row per segment, sorted by start (segments missing times get them from
their neighbours, as for subtitles; empty ones are dropped). Without timed
segments but with word timestamps, one row per word. Tabs and line breaks in
text become spaces. When the transcript has speakers, a fourth column
``speaker`` follows.
"""

from __future__ import annotations

from voxcli.render.clean import clean_text, finite_time
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
    with_speaker = any(r[3] for r in rows)
    header = "start\tend\ttext" + ("\tspeaker" if with_speaker else "")
    lines = [header]
    for start, end, text, speaker in rows:
        line = f"{start}\t{end}\t{text}"
        if with_speaker:
            line += f"\t{clean_text(speaker or '')}"
        lines.append(line)
    return "\n".join(lines) + "\n"
