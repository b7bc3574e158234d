"""The live session's transcript so far, built from our events (thread-safe)."""

from __future__ import annotations

import threading

from voxcli.live.types import LanguageDetected, LiveEvent, SegmentDone, TextDelta
from voxcli.transcript import Segment, Transcript, speaker_label


class LiveTranscript:
    """Finished segments, the detected language and the unfinished text.

    :meth:`apply` takes each event as the session receives it: ``TextDelta`` pieces
    accumulate as the unfinished text until a ``SegmentDone`` replaces them with a
    segment (speaker ids become labels, ``speaker_1`` -> ``Speaker 1``). ``version``
    grows with every change, so a writer can tell whether there is anything new.
    """

    def __init__(
        self, *, model: str | None = None, source: str | None = None, language: str | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._model = model
        self._source = source
        self._language = language
        self._segments: list[Segment] = []
        self._pending: list[str] = []
        self._version = 0

    def apply(self, event: LiveEvent) -> bool:
        """Take one event; True if it changed the transcript."""
        with self._lock:
            if isinstance(event, TextDelta):
                if not event.text:
                    return False
                self._pending.append(event.text)
            elif isinstance(event, SegmentDone):
                self._pending.clear()
                if not event.text.strip():
                    self._version += 1
                    return True
                self._segments.append(
                    Segment(
                        text=event.text.strip(),
                        start=event.start,
                        end=event.end,
                        speaker=speaker_label(event.speaker),
                        speaker_id=event.speaker,
                    )
                )
            elif isinstance(event, LanguageDetected):
                if not event.language or event.language == self._language:
                    return False
                self._language = event.language
            else:
                return False
            self._version += 1
            return True

    @property
    def version(self) -> int:
        return self._version

    @property
    def pending(self) -> str:
        """The unfinished segment's text so far ("" when there is none)."""
        with self._lock:
            return "".join(self._pending)

    @property
    def segment_count(self) -> int:
        with self._lock:
            return len(self._segments)

    def snapshot(
        self, *, include_pending: bool = False, duration: float | None = None
    ) -> Transcript:
        """The transcript as it stands. ``include_pending`` adds the unfinished text as a
        last segment starting where the previous one ended (its end left unknown)."""
        with self._lock:
            segments = list(self._segments)
            pending = "".join(self._pending).strip()
            language = self._language
        if include_pending and pending:
            last_end = next((s.end for s in reversed(segments) if s.end is not None), None)
            segments.append(Segment(text=pending, start=last_end or 0.0))
        return Transcript(
            text=" ".join(s.text for s in segments),
            language=language,
            model=self._model,
            segments=tuple(segments),
            source=self._source,
            duration=duration,
        )
