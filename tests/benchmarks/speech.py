"""Speech for the benchmarks: espeak-ng reading a few paragraphs, looped to any length.

Tones compress to almost nothing in FLAC and cost the encoder little, so they flatter
every upload and CPU figure. The benchmarks use speech instead: :func:`speech` runs
``espeak-ng`` once per process on :data:`TEXT` (two voices, paragraph by paragraph,
about a minute and a half), and :func:`write_speech` loops it to the length wanted at
the rate and channel count wanted, with a -60 dBFS noise floor per channel (a quiet
room, so FLAC cannot shrink digital silence to nothing), block by block, so hour-long
files need little memory. Each file can start at its own offset in the loop.

Without espeak-ng (``apt-get install espeak-ng``) it falls back to looping the short
committed sample ``tests/data/speech.wav`` (also espeak-ng, 2.8 s) and says so in
:attr:`Speech.origin`, which every benchmark prints above its table.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

DATA = Path(__file__).resolve().parents[1] / "data"

TEXT = (
    (
        "en-us",
        "Good morning, and thank you all for joining the weekly planning call. Before we "
        "start, a quick reminder that the office will be closed on Friday for maintenance, "
        "so please take your laptops home on Thursday evening. Today we have three topics: "
        "the release schedule, the customer feedback from last month, and the budget for "
        "the next quarter.",
    ),
    (
        "en-gb",
        "Let me begin with the release. The new version was supposed to ship two weeks "
        "ago, but we found a problem with large recordings. Files longer than an hour were "
        "sometimes cut in the wrong place, in the middle of a word, which made the "
        "transcripts hard to read. The fix is ready, and the tests pass, so I would like "
        "to ship it on Tuesday, if nobody objects.",
    ),
    (
        "en-us",
        "That sounds reasonable. On the feedback, most people were happy with the speed, "
        "but several asked for subtitles that follow the speaker, and a few wanted a way "
        "to send a whole folder of interviews at once. One journalist wrote that she "
        "transcribed forty hours of tape in an afternoon, which is exactly the kind of "
        "story we hoped to hear.",
    ),
    (
        "en-gb",
        "Finally, the budget. We spent a little less than planned on servers, because the "
        "uploads are smaller now, and a little more on travel. I suggest we keep the "
        "difference for the conference in the spring. Are there any questions? If not, "
        "let us meet again next week at the same time. Thank you, and have a good day.",
    ),
)
"""What espeak-ng reads: (voice, paragraph) pairs, an invented meeting."""

PAUSE_SECONDS = 0.6
"""Silence between paragraphs (the noise floor is added on top)."""

NOISE_DBFS = -60.0
LEVEL_DBFS = -3.0


@dataclass(frozen=True)
class Speech:
    """A mono speech loop at ``rate`` and where it came from."""

    samples: np.ndarray  # float32, mono
    rate: int
    origin: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


@functools.cache
def speech(rate: int = 16000) -> Speech:
    """The speech loop at ``rate``: espeak-ng reading :data:`TEXT`, or the committed
    sample if espeak-ng is missing."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        data, source_rate = sf.read(DATA / "speech.wav", dtype="float32", always_2d=True)
        pieces = [data[:, 0], np.zeros(round(PAUSE_SECONDS * source_rate), np.float32)]
        origin = (
            "espeak-ng NOT FOUND: speech is the 2.8 s committed sample tests/data/speech.wav "
            "looped (apt-get install espeak-ng for the full text)"
        )
    else:
        version = subprocess.run([espeak, "--version"], capture_output=True, text=True)
        pieces, source_rate = [], 22050
        with tempfile.TemporaryDirectory(prefix="voxcli-speech-") as tmp:
            for i, (voice, paragraph) in enumerate(TEXT):
                wav = Path(tmp) / f"{i}.wav"
                subprocess.run(
                    [espeak, "-v", voice, "-s", "165", "-w", str(wav), paragraph], check=True
                )
                data, source_rate = sf.read(wav, dtype="float32", always_2d=True)
                pieces += [data[:, 0], np.zeros(round(PAUSE_SECONDS * source_rate), np.float32)]
        number = version.stdout.split("Data at")[0].split()[-1:] or ["?"]
        origin = f"speech: espeak-ng {number[0]} reading {len(TEXT)} paragraphs (en-us, en-gb)"
    loop = np.concatenate(pieces)
    if source_rate != rate:
        loop = soxr.resample(loop, source_rate, rate, quality="HQ").astype(np.float32)
    peak = float(np.max(np.abs(loop))) or 1.0
    loop = (loop * (10 ** (LEVEL_DBFS / 20) / peak)).astype(np.float32)
    seconds = len(loop) / rate
    return Speech(loop, rate, f"{origin}, {seconds:.0f} s looped, {NOISE_DBFS:g} dBFS noise floor")


def write_speech(
    path: Path,
    seconds: float,
    *,
    rate: int = 16000,
    channels: int = 1,
    offset: float = 0.0,
    subtype: str | None = "PCM_16",
    seed: int = 1,
) -> Path:
    """Write ``seconds`` of looped speech to ``path`` (format from its suffix), starting
    ``offset`` seconds into the loop; a second channel is the same voice at 0.8x, and
    every channel has its own noise floor."""
    loop = speech(rate).samples
    rng = np.random.default_rng(seed)
    noise = 10 ** (NOISE_DBFS / 20)
    total = round(seconds * rate)
    start = round(offset * rate)
    block = 10 * rate
    gains = np.array([1.0, 0.8][:channels] + [0.9] * max(0, channels - 2), np.float32)
    with sf.SoundFile(path, "w", rate, channels, subtype=subtype) as out:
        for first in range(0, total, block):
            n = min(block, total - first)
            mono = loop[(start + first + np.arange(n)) % len(loop)]
            data = mono[:, None] * gains[None, :]
            data += noise * rng.standard_normal((n, channels)).astype(np.float32)
            out.write(np.clip(data, -1.0, 1.0))
    return path
