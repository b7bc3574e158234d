"""The shared cue builder behind SRT and WebVTT (and the timing behind TSV).

A :class:`~voxcli.transcript.Transcript` becomes a list of :class:`Cue` in
five steps, all in whole milliseconds so that what we check is what we print:

1. **Timed segments.** Segments missing a start or an end take the gap
   between their timed neighbours (the previous one's end, the next one's
   start), shared among consecutive untimed segments by text length; before
   the first or after the last timed segment they get a span estimated from
   their text (``max_chars_per_second``, at least ``min_cue_duration`` each).
   Empty segments are then dropped and the rest sorted by start.
2. **Tokens.** With word timestamps, each word is a token with its own times
   and takes the speaker (when it has none) and the block of the segment it
   falls in (by its middle; an entry of several words is split like a
   segment, its words staying with the entry's segment); a segment that no
   word entry falls in is added as without words.
   Without word timestamps, each segment's text is split at whitespace and
   its span shared out by character position: split times are interpolated
   and never leave the segment.
3. **Shaping.** The tokens of one block (a segment; a speaker change always
   starts a new block, and so does a pause of :data:`PAUSE_MS` between words)
   are packed into cues of at most ``max_lines`` lines of at most
   ``max_line_width`` characters lasting at most ``max_cue_duration``. Breaks
   are classed by :mod:`voxcli.render.linebreaks`: after a sentence (or a
   pause of 1.5 s), after a clause (or a pause of 0.5 s), before a conjunction
   or preposition, neutral, and bad (after an article, a preposition, a
   conjunction, a possessive; between a number and its unit), with word lists
   for the transcript's language (English, French, Spanish, German; English
   otherwise). A full cue ends in the second half of what fits, preferring,
   in order: no piece shorter than ``min_cue_duration``, no bad break (at its
   end or between its lines), the best break, the latest. When the rest of
   the block fits in one more cue, the two are cut together, the same way and
   then as evenly as possible, so a split never leaves a tiny tail when a
   better split exists. Lines are laid out in as few lines as possible: the
   fewest bad breaks, then the best breaks, and balanced only among those.
   A word is never broken: a word wider than a line stands alone on its line,
   and a word that would need one line too many starts the next cue.
4. **Timeline.** Cues are sorted by start. A cue starting less than
   :data:`COLLISION_MS` after the previous one's start (duplicate or
   zero-length API times) is moved to that distance, so starts stay in
   order (``min_cue_duration`` instead, when shorter; at least 1 ms).
   Then each cue's end is set, in this order:

   - no cue lasts longer than ``max_cue_duration``;
   - a cue shorter than ``min_cue_duration`` is extended to it, and a cue
     (so extended or not) ending less than :data:`CLOSE_GAP_MS` (half a
     second) before the next one is extended to :data:`MIN_GAP_MS` before it:
     Netflix closes such gaps so that the screen does not flicker blank for a
     moment. Neither extension goes past ``max_cue_duration`` or the
     transcript's known duration, so a cue may stay on screen into the
     silence after its words, never over the next cue;
   - **the gap rule**: a cue ends at least :data:`MIN_GAP_MS` (84 ms: two
     whole frames at 23.976 fps or faster) before the next one starts.
     An end later than that (a smaller gap, touching, or overlapping, which is
     so resolved in favour of the later cue's start) is pulled back to exactly
     that gap, but never so far that the cue lasts less than
     :data:`MIN_VISIBLE_MS` (one frame). Only starts closer than
     ``MIN_VISIBLE_MS + MIN_GAP_MS`` (126 ms), which take degenerate input,
     leave a smaller gap: the earlier cue then lasts at most one frame, and
     ends at the latest when the next one starts.

   So cues never overlap, every cue ends after it starts (by 1 ms at least),
   and any two consecutive cues are two frames apart or start within 126 ms.
5. **Speakers.** A cue shows its speaker (``Cue.show_speaker``) where the
   speaker changes, in the order shown, and on the first cue. SRT writes the
   label ``[Speaker 1] `` as text on those cues only; it counts in their first
   line's width (room is kept for it when shaping) and in the reading speed.

``--highlight-words`` then turns each cue into one cue per word, the word
underlined from its start to the next word's start (words with no time of
their own are skipped); the minimum duration and the gap rule apply to the
whole line, whose per-word cues touch so that the line never flickers.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voxcli.errors import UsageError
from voxcli.render.clean import clean_speaker, clean_text, finite_time
from voxcli.render.linebreaks import BAD, ENGLISH, BreakRules, break_class, rules_for
from voxcli.render.options import DEFAULT_OPTIONS, RenderOptions
from voxcli.render.timefmt import to_millis
from voxcli.transcript import Segment, Transcript

PAUSE_MS = 3000
"""A silence this long between two words always ends a cue (whisper uses 3 s too)."""
MIN_GAP_MS = 84
"""The least gap between two cues: two whole frames at any rate from 23.976 fps up.

Netflix asks for two frames; at 24 fps that is 83.33 ms, so 83 ms is a third of a
millisecond short and becomes one frame when times are snapped to a 24 fps grid.
84 ms is at least two frames at 23.976, 24, 25, 29.97, 30, 50 and 60 fps whatever
the rounding, with no frame rate to ask for."""
MIN_VISIBLE_MS = 42
"""Pulling a cue's end back for the gap never leaves it shorter than this: one frame."""
CLOSE_GAP_MS = 500
"""A gap shorter than this (12 frames) is closed to :data:`MIN_GAP_MS` (Netflix)."""
COLLISION_MS = 100
"""Cues starting closer than this (degenerate API times) are spread out this far."""

NO_TIMESTAMPS_MESSAGE = (
    "the {fmt} format needs timestamps, and this transcript has none: "
    "request timestamps with `--timestamps segment`"
)
NO_WORDS_MESSAGE = "--highlight-words needs word timestamps: request them with `--timestamps word`"


@dataclass(frozen=True)
class Token:
    """A word (never split) with its time span in milliseconds."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TimedSegment:
    """A non-empty segment with complete times in milliseconds (whitespace collapsed)."""

    start: int
    end: int
    text: str
    speaker: str | None


@dataclass(frozen=True)
class Cue:
    """One subtitle: times in milliseconds and its words laid out in lines.

    ``highlight`` is the index (in reading order, over all lines) of the word
    being spoken in a ``--highlight-words`` cue, else None. ``show_speaker`` is
    True where the speaker changes (a format that shows the speaker as text,
    SRT, labels only those cues). Text is raw: each format escapes it.
    """

    start_ms: int
    end_ms: int
    line_words: tuple[tuple[str, ...], ...]
    speaker: str | None = None
    highlight: int | None = None
    word_starts: tuple[int, ...] = ()
    show_speaker: bool = False

    @property
    def start(self) -> float:
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        return self.end_ms / 1000

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(" ".join(words) for words in self.line_words)

    @property
    def text(self) -> str:
        """All lines joined by spaces, as a reader reads them."""
        return " ".join(self.lines)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(word for line in self.line_words for word in line)


# --------------------------------------------------------------------------- segments


def _segment_has_time(segment: Segment) -> bool:
    return finite_time(segment.start) is not None or finite_time(segment.end) is not None


def _fill_missing_times(
    segments: Sequence[Segment], options: RenderOptions, duration: float | None
) -> list[tuple[float, float]]:
    """Complete every segment's (start, end), in the API's order (see module docs)."""
    starts = [finite_time(s.start) for s in segments]
    ends = [finite_time(s.end) for s in segments]
    times: list[tuple[float, float]] = []
    n = len(segments)
    i = 0
    while i < n:
        start, end = starts[i], ends[i]
        if start is not None and end is not None:
            times.append((start, end))
            i += 1
            continue
        # A run of incomplete segments ends at any known time, so a known start or
        # end inside the API's answer is never traded for an interpolated one.
        j = i + 1
        while j < n and starts[j] is None and ends[j - 1] is None:
            j += 1
        weights = [len(clean_text(s.text)) for s in segments[i:j]]
        estimate = max(
            sum(weights) / options.max_chars_per_second, options.min_cue_duration * (j - i)
        )
        lo = starts[i] if starts[i] is not None else (times[-1][1] if times else None)
        hi = ends[j - 1] if ends[j - 1] is not None else (starts[j] if j < n else None)
        if lo is None and hi is None:
            lo = 0.0
        if lo is None:
            assert hi is not None
            lo = max(0.0, hi - estimate)
        if hi is None:
            hi = lo + estimate
            if duration is not None and duration > lo:
                hi = min(hi, duration)
        hi = max(hi, lo)
        total = sum(weights)
        done = 0
        for weight in weights:
            a = lo + (hi - lo) * (done / total if total else 0.0)
            done += weight
            b = lo + (hi - lo) * (done / total if total else 1.0)
            times.append((a, b))
        i = j
    return times


def has_any_times(transcript: Transcript) -> bool:
    """True when at least one segment or word carries a usable time."""
    return uses_words(transcript) or any(map(_segment_has_time, transcript.segments))


def has_content(transcript: Transcript) -> bool:
    """True when there is any text to show (control characters alone are none)."""
    return bool(
        clean_text(transcript.text)
        or any(clean_text(s.text) for s in transcript.segments)
        or any(clean_text(w.text) for w in transcript.words)
    )


def require_times(transcript: Transcript, fmt: str) -> None:
    """Raise UsageError when a timed format is asked of a transcript with text but no times."""
    if has_content(transcript) and not has_any_times(transcript):
        raise UsageError(NO_TIMESTAMPS_MESSAGE.format(fmt=fmt.upper()))


def timed_segments(
    transcript: Transcript, options: RenderOptions = DEFAULT_OPTIONS
) -> list[TimedSegment]:
    """The transcript's non-empty segments with complete times, sorted by start."""
    segments = transcript.segments
    if not any(map(_segment_has_time, segments)):
        return []
    duration = finite_time(transcript.duration)
    times = _fill_missing_times(segments, options, duration)
    out = []
    for segment, (start, end) in zip(segments, times, strict=True):
        text = clean_text(segment.text)
        if not text:
            continue
        start_ms = to_millis(start)
        out.append(
            TimedSegment(
                start_ms, max(start_ms, to_millis(end)), text, clean_speaker(segment.speaker)
            )
        )
    out.sort(key=lambda s: (s.start, s.end))
    return out


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Block:
    tokens: tuple[Token, ...]
    speaker: str | None


def _segment_tokens(segment: TimedSegment) -> tuple[Token, ...]:
    """Split a segment at spaces; each word owns its characters and the space after it."""
    words = segment.text.split(" ")
    length = len(segment.text)
    span = segment.end - segment.start
    offsets = []
    position = 0
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    offsets.append(length)

    def at(offset: int) -> int:
        return segment.start + round(span * offset / length)

    return tuple(Token(word, at(offsets[k]), at(offsets[k + 1])) for k, word in enumerate(words))


def _word_blocks(
    transcript: Transcript, segments: list[TimedSegment]
) -> tuple[list[_Block], list[int]]:
    """The words' blocks, and the sorted middles of the word entries (to place segments)."""
    words = []
    for word in transcript.words:
        text = clean_text(word.text)
        start, end = finite_time(word.start), finite_time(word.end)
        if not text or start is None or end is None:
            continue
        start_ms = to_millis(start)
        span = TimedSegment(start_ms, max(start_ms, to_millis(end)), text, None)
        middle = (span.start + span.end) // 2
        # An entry holding several words ("New York") is split like a segment; its
        # words stay in the segment the entry falls in.
        for token in _segment_tokens(span):
            words.append((token.start, token.end, token.text, clean_speaker(word.speaker), middle))
    words.sort(key=lambda w: (w[0], w[1]))
    seg_starts = [s.start for s in segments]
    blocks: list[_Block] = []
    current: list[Token] = []
    current_key: tuple[int, str | None] | None = None
    for start, end, text, speaker, middle in words:
        index = bisect.bisect_right(seg_starts, middle) - 1
        if speaker is None and index >= 0:
            speaker = segments[index].speaker
        key = (index, speaker)
        if current and (key != current_key or start - current[-1].end >= PAUSE_MS):
            blocks.append(_Block(tuple(current), current_key[1] if current_key else None))
            current = []
        current.append(Token(text, start, end))
        current_key = key
    if current:
        blocks.append(_Block(tuple(current), current_key[1] if current_key else None))
    return blocks, sorted(w[4] for w in words)


def _blocks(transcript: Transcript, options: RenderOptions, use_words: bool) -> list[_Block]:
    segments = timed_segments(transcript, options)
    if not use_words:
        return [_Block(_segment_tokens(s), s.speaker) for s in segments]
    blocks, middles = _word_blocks(transcript, segments)
    # A segment no word falls in (the API can leave a one-word segment out of the word list)
    # still shows, timed by interpolation like any segment.
    for segment in segments:
        first = bisect.bisect_left(middles, segment.start)
        if first == len(middles) or middles[first] > segment.end:
            blocks.append(_Block(_segment_tokens(segment), segment.speaker))
    return blocks


def uses_words(transcript: Transcript) -> bool:
    """Cue times come from words whenever the transcript has any timed word."""
    return any(
        clean_text(w.text) and finite_time(w.start) is not None and finite_time(w.end) is not None
        for w in transcript.words
    )


# --------------------------------------------------------------------------- shaping


def _break_at(tokens: Sequence[Token], k: int, rules: BreakRules) -> int:
    """The class (:mod:`voxcli.render.linebreaks`) of the point between tokens k-1 and k."""
    before = tokens[k - 1]
    after = tokens[k] if k < len(tokens) else None
    gap = after.start - before.end if after is not None else 0
    return break_class(before.text, after.text if after is not None else None, gap, rules)


def _line_count(lengths: Sequence[int], first_width: int, width: int) -> int:
    """Lines greedy wrapping needs (the minimum possible); a too-long word sits alone."""
    count, used, cap = 1, -1, first_width
    for length in lengths:
        if used < 0:
            used = length
        elif used + 1 + length <= cap:
            used += 1 + length
        else:
            count, used, cap = count + 1, length, width
    return count


def layout(
    tokens: Sequence[Token], width: int, reserve: int = 0, rules: BreakRules = ENGLISH
) -> tuple[tuple[str, ...], ...]:
    """Lay words out in as few lines as possible, breaking at the best places, balanced.

    Among the layouts with the fewest lines, the chosen one has the fewest bad breaks
    (after an article, a preposition, ...), then the best breaks (sentence, clause,
    before a connective: the sum of their classes), and only then the most balanced
    lines (bottom-heavy on a tie). ``reserve`` characters of the first line are taken
    (by a speaker label).
    """
    texts = [t.text for t in tokens]
    lengths = [len(t) for t in texts]
    n = len(texts)
    first_width = max(1, width - reserve)
    lines = _line_count(lengths, first_width, width)
    if lines == 1:
        return (tuple(texts),)
    prefix = [0]
    for length in lengths:
        prefix.append(prefix[-1] + length)
    classes = [0] + [_break_at(tokens, k, rules) for k in range(1, n)]

    def line_length(a: int, b: int) -> int:
        return prefix[b] - prefix[a] + (b - a - 1)

    Cost = tuple[int, int, float]
    worst: Cost = (n + 1, 0, math.inf)
    # best[k][b]: (cost, start of the last line) for words [0, b) in k + 1 lines. The cost
    # is (bad breaks, minus the sum of the good breaks' classes, balance): compared in that
    # order. Balance sums squared line lengths; a tiny extra per character of the first
    # line makes ties bottom-heavy.
    best: list[list[tuple[Cost, int]]] = [[(worst, -1)] * (n + 1) for _ in range(lines)]
    for b in range(1, n + 1):
        if b > 1 and line_length(0, b) > first_width:
            break
        used = line_length(0, b) + reserve
        best[0][b] = ((0, 0, (used / width) ** 2 + 1e-6 * used), 0)
    for k in range(1, lines):
        for b in range(k + 1, n + 1):
            for a in range(b - 1, k - 1, -1):
                if b - a > 1 and line_length(a, b) > width:
                    break
                (bad, good, balance), _ = best[k - 1][a]
                if balance == math.inf:
                    continue
                cls = classes[a]
                cost = (
                    bad + (cls == BAD),
                    good - max(cls, 0),
                    balance + (line_length(a, b) / width) ** 2,
                )
                if cost < best[k][b][0]:
                    best[k][b] = (cost, a)
    bounds = []
    b = n
    for k in range(lines - 1, -1, -1):
        a = best[k][b][1]
        bounds.append((a, b))
        b = a
    return tuple(tuple(texts[a:b]) for a, b in reversed(bounds))


def _shape(
    block: _Block,
    options: RenderOptions,
    rules: BreakRules,
    *,
    reserve: int,
    label_first: bool,
    label_all: bool,
) -> list[tuple[Sequence[Token], bool]]:
    """Cut a block into cues: (tokens, whether room for the label was kept) for each.

    A cue takes as many words as fit (lines, width, ``max_cue_duration``) and ends in
    the second half of that: in order of preference, where no piece is shorter than
    ``min_cue_duration``, where no line of the cue nor the cue itself ends badly (on an
    article, a preposition, ...), at the best break, as late as possible. When the rest
    of the block fits in one more cue, the cut is chosen for the pair the same way, and
    then for the most even split.
    """
    tokens = block.tokens
    width = options.max_line_width
    max_lines = options.max_lines
    max_ms = max(1, to_millis(options.max_cue_duration))
    min_ms = to_millis(options.min_cue_duration)
    lengths = [len(t.text) for t in tokens]
    prefix = [0]
    for length in lengths:
        prefix.append(prefix[-1] + length)
    n = len(tokens)

    most_words = max_lines * ((width + 1) // 2)  # a line holds at most that many words

    def fits(i: int, j: int, labelled: bool) -> bool:
        if tokens[j - 1].end - tokens[i].start > max_ms or j - i > most_words:
            return False
        first_width = max(1, width - reserve) if labelled else width
        return _line_count(lengths[i:j], first_width, width) <= max_lines

    def chars(i: int, j: int) -> int:
        return prefix[j] - prefix[i] + (j - i - 1)

    def short(i: int, j: int) -> bool:
        return tokens[j - 1].end - tokens[i].start < min_ms

    classes = [0] + [_break_at(tokens, k, rules) for k in range(1, n)] + [0]

    def bad(i: int, j: int, labelled: bool) -> int:
        """Bad breaks in the cue of words [i, j): its line breaks (as :func:`layout` lays
        them out), and its end."""
        first_width = max(1, width - reserve) if labelled else width
        lines = _line_count(lengths[i:j], first_width, width)
        inside = 0 if lines == 1 else fewest_bad(i, j, first_width, lines)
        return inside + (classes[j] == BAD)

    def fewest_bad(i: int, j: int, first_width: int, lines: int) -> int:
        """The fewest bad line breaks of words [i, j) in ``lines`` lines."""

        def length(a: int, b: int) -> int:
            return prefix[b] - prefix[a] + (b - a - 1)

        worst = j - i + 1
        previous = [worst] * (j + 1)  # previous[b]: words [i, b) in k lines
        for b in range(i + 1, j + 1):
            if b > i + 1 and length(i, b) > first_width:
                break
            previous[b] = 0
        for k in range(1, lines):
            current = [worst] * (j + 1)
            for b in range(i + k + 1, j + 1):
                best = worst
                for a in range(b - 1, i + k - 1, -1):
                    if b - a > 1 and length(a, b) > width:
                        break
                    if previous[a] < worst:
                        best = min(best, previous[a] + (classes[a] == BAD))
                current[b] = best
            previous = current
        return previous[j]

    out: list[tuple[Sequence[Token], bool]] = []
    i = 0
    while i < n:
        labelled = label_all or (i == 0 and label_first)
        j = i + 1
        while j < n and fits(i, j + 1, labelled):
            j += 1
        if j < n:
            last = [k for k in range(i + 1, j + 1) if fits(k, n, label_all)]
            if last:  # the rest fits in one cue: choose the pair
                j = max(
                    last,
                    key=lambda k: (
                        -(short(i, k) + short(k, n)),
                        -(bad(i, k, labelled) + bad(k, n, label_all)),
                        _break_at(tokens, k, rules),
                        -abs(chars(i, k) - chars(k, n)),
                        k,
                    ),
                )
            else:
                floor = chars(i, j) / 2
                j = max(
                    (k for k in range(i + 1, j + 1) if k == j or chars(i, k) >= floor),
                    key=lambda k: (
                        not short(i, k),
                        -bad(i, k, labelled),
                        _break_at(tokens, k, rules),
                        k,
                    ),
                )
        out.append((tokens[i:j], labelled))
        i = j
    return out


# --------------------------------------------------------------------------- timeline


def _timeline(
    spans: Sequence[tuple[int, int]], options: RenderOptions, limit_ms: int | None
) -> list[tuple[int, int, int]]:
    """Order, spread, extend and pull back cue times (module docs, step 4).

    Returns (index in ``spans``, start, end) for each cue, in the order shown.
    """
    min_ms = to_millis(options.min_cue_duration)
    max_ms = max(1, to_millis(options.max_cue_duration))
    spacing = max(1, min(COLLISION_MS, min_ms))
    order = sorted(range(len(spans)), key=lambda k: spans[k][0])
    starts: list[int] = []
    for k in order:
        start = spans[k][0]
        if starts and start < starts[-1] + spacing:
            start = starts[-1] + spacing
        starts.append(start)
    out = []
    for position, k in enumerate(order):
        start = starts[position]
        following = starts[position + 1] if position + 1 < len(starts) else None
        end = min(max(spans[k][1], start + 1), start + max_ms)  # every cue lasts 1 ms at least
        # Extensions: up to the minimum duration, and across a small gap (no flicker).
        target = max(end, start + min_ms)
        if following is not None and following - target < CLOSE_GAP_MS:
            target = max(target, following - MIN_GAP_MS)
        target = min(target, start + max_ms)
        if limit_ms is not None:
            target = min(target, limit_ms)
        end = max(end, target)
        # The gap rule: end MIN_GAP_MS before the next start, keeping MIN_VISIBLE_MS
        # if the starts are too close for both (and never reaching the next start).
        if following is not None:
            end = min(end, max(following - MIN_GAP_MS, start + MIN_VISIBLE_MS), following)
        out.append((k, start, end))
    return out


def highlight_words(cues: Sequence[Cue]) -> list[Cue]:
    """Karaoke: each cue becomes one cue per word, underlined from its start to the next word's.

    The parts of one cue are contiguous (the line stays on screen while the
    underline moves); words with no time of their own are skipped.
    """
    return [part for cue in cues for part in _highlighted(cue)]


def _highlighted(cue: Cue) -> list[Cue]:
    count = len(cue.word_starts)
    starts = [cue.start_ms] + [
        min(max(s, cue.start_ms), cue.end_ms - 1) for s in cue.word_starts[1:]
    ]
    out = []
    for k in range(count):
        end = starts[k + 1] if k + 1 < count else cue.end_ms
        if end > starts[k]:
            out.append(replace(cue, start_ms=starts[k], end_ms=end, highlight=k))
    return out


def require_words(transcript: Transcript) -> None:
    """Raise UsageError when ``--highlight-words`` is asked of a transcript without word times."""
    if not uses_words(transcript):
        raise UsageError(NO_WORDS_MESSAGE)


def bracketed(speaker: str) -> str:
    """The SRT speaker label, ``[Speaker 1] ``, which takes room on a cue's first line."""
    return f"[{speaker}] "


@dataclass(frozen=True)
class _Draft:
    tokens: Sequence[Token]
    block: int
    speaker: str | None
    room: bool  # shaped with room for the label on its first line


def build_cues(
    transcript: Transcript,
    options: RenderOptions = DEFAULT_OPTIONS,
    *,
    speaker_prefix: bool = False,
    highlight: bool | None = None,
    previous_speaker: str | None = None,
) -> list[Cue]:
    """Shape a transcript into subtitle cues (see the module docs for the rules).

    A cue's ``show_speaker`` is set where the speaker changes: on a cue with a speaker
    whose previous cue (in the order shown) had another speaker or none, and on the
    first cue when it has one. ``previous_speaker`` is the speaker of the cue shown
    just before these (for a transcript rendered piece by piece, as ``voxcli live``
    does). ``speaker_prefix`` makes room on those cues' first line for an SRT-style
    ``[Speaker 1] `` label. ``highlight`` (default: ``options.highlight_words``)
    expands each cue with :func:`highlight_words` and needs word timestamps.
    """
    if highlight is None:
        highlight = options.highlight_words
    use_words = uses_words(transcript)
    if highlight:
        require_words(transcript)
    rules = rules_for(transcript.language)
    duration = finite_time(transcript.duration)
    limit_ms = to_millis(duration) if duration is not None else None
    blocks = _blocks(transcript, options, use_words)
    blocks.sort(key=lambda b: b.tokens[0].start)

    def reserve(speaker: str | None) -> int:
        return len(bracketed(speaker)) if speaker_prefix and speaker else 0

    # Room for a label is kept on each block's first cue when its speaker is not the
    # previous block's; cues of blocks that overlap in time may be shown after another
    # speaker's cue, so a block whose cue shows a label without room for it is shaped
    # again with room on every cue (rare: overlapping speech), until none is missing.
    label_all: set[int] = set()
    rounds = 0
    while True:
        drafts: list[_Draft] = []
        before = previous_speaker
        for index, block in enumerate(blocks):
            room = reserve(block.speaker)
            shaped = _shape(
                block,
                options,
                rules,
                reserve=room,
                label_first=room > 0 and block.speaker != before,
                label_all=room > 0 and index in label_all,
            )
            drafts.extend(_Draft(t, index, block.speaker, labelled) for t, labelled in shaped)
            before = block.speaker
        shown = _timeline(
            [(d.tokens[0].start, d.tokens[-1].end) for d in drafts], options, limit_ms
        )
        labels = []
        before = previous_speaker
        for k, _, _ in shown:
            speaker = drafts[k].speaker
            labels.append(speaker is not None and speaker != before)
            before = speaker
        missing = {
            drafts[k].block
            for (k, _, _), label in zip(shown, labels, strict=True)
            if label and reserve(drafts[k].speaker) and not drafts[k].room
        }
        if not missing:
            break
        label_all |= missing
        rounds += 1
        if rounds >= 3:  # degenerate input (many overlapping speakers): room everywhere
            label_all = set(range(len(blocks)))
    cues = []
    for (k, start, end), label in zip(shown, labels, strict=True):
        draft = drafts[k]
        room = reserve(draft.speaker) if label else 0
        cues.append(
            Cue(
                start_ms=start,
                end_ms=end,
                line_words=layout(draft.tokens, options.max_line_width, room, rules),
                speaker=draft.speaker,
                word_starts=tuple(t.start for t in draft.tokens),
                show_speaker=label,
            )
        )
    return highlight_words(cues) if highlight else cues
