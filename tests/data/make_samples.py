"""Regenerate the small audio samples committed in ``tests/data``.

Usage (from the repository root)::

    .venv/bin/python tests/data/make_samples.py

Needs ``espeak-ng`` on PATH (``apt-get install espeak-ng``) plus the project's own
dependencies (soundfile, numpy, soxr). It writes, next to this script:

- ``speech.wav``  - the phrase below spoken by espeak-ng, 16 kHz mono PCM_16 (~2.8 s)
- ``speech.flac`` - the same audio, FLAC PCM_16
- ``speech.mp3``  - the same audio, MPEG layer III (written by libsndfile)
- ``speech.ogg``  - the same audio, Ogg Vorbis
- ``not_audio.wav`` - a text file with a ``.wav`` name
- ``empty.wav``   - a 0 byte file

espeak-ng output is deterministic for a given version, so re-running reproduces the
WAV, FLAC and MP3 files byte for byte (with the same espeak-ng/libsndfile); the Ogg file
differs on every run (random stream serial number) but decodes to the same audio.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
PHRASE = "Hello from vox C L I. This is a test."
SAMPLERATE = 16_000


def speak(text: str) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with espeak-ng and return (float32 mono samples, rate)."""
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng not found: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "175", "-w", str(raw), text],
            check=True,
        )
        data, rate = sf.read(raw, dtype="float32", always_2d=True)
    return data[:, 0], rate


def main() -> None:
    data, rate = speak(PHRASE)
    if rate != SAMPLERATE:
        data = soxr.resample(data, rate, SAMPLERATE, quality="HQ")
    # Trim espeak's leading/trailing silence, normalise to -3 dBFS, then pad 0.1 s each side.
    peak = float(np.max(np.abs(data))) or 1.0
    loud = np.flatnonzero(np.abs(data) > peak * 0.01)
    if loud.size:
        data = data[loud[0] : loud[-1] + 1]
    data = (data / peak * 10 ** (-3 / 20)).astype(np.float32)
    pad = np.zeros(SAMPLERATE // 10, dtype=np.float32)
    data = np.concatenate([pad, data, pad])

    sf.write(HERE / "speech.wav", data, SAMPLERATE, format="WAV", subtype="PCM_16")
    sf.write(HERE / "speech.flac", data, SAMPLERATE, format="FLAC", subtype="PCM_16")
    # compression_level 0.6 keeps the lossy files tiny; plenty for speech.
    sf.write(
        HERE / "speech.mp3",
        data,
        SAMPLERATE,
        format="MP3",
        subtype="MPEG_LAYER_III",
        compression_level=0.6,
    )
    sf.write(
        HERE / "speech.ogg", data, SAMPLERATE, format="OGG", subtype="VORBIS", compression_level=0.6
    )

    (HERE / "not_audio.wav").write_text(
        "This is not audio. It is a plain text file with a .wav extension,\n"
        "used to check that voxcli rejects files it cannot decode.\n",
        encoding="utf-8",
    )
    (HERE / "empty.wav").write_bytes(b"")

    for name in ("speech.wav", "speech.flac", "speech.mp3", "speech.ogg"):
        info = sf.info(HERE / name)
        size = (HERE / name).stat().st_size
        print(f"{name:12s} {size:7d} B  {info.duration:5.2f} s  {info.format}/{info.subtype}")


if __name__ == "__main__":
    main()
