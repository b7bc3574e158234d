"""Speaker references (``--speaker NAME=PATH``): short voice samples the API matches
diarized speakers against, so segments come back labelled with the names.

Mistral's limits: at most :data:`MAX_SPEAKERS` clips of 3 to 15 s, and only with
``diarize``. :func:`parse_speaker` and :func:`check_speakers` are pure (the request
builder's rules); :func:`load_reference` reads one clip, checks its length and returns
what the API takes: base64 of the clip as 16 kHz mono FLAC (a URL is passed as it is).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voxcli.catalog.check import MAX_SPEAKER_REFERENCES as MAX_SPEAKERS
from voxcli.errors import InputError, UsageError

SHORTEST_SECONDS = 3.0
LONGEST_SECONDS = 15.0


@dataclass(frozen=True)
class SpeakerFlag:
    """One ``--speaker NAME=PATH`` as typed: a name and a local file or an http(s) URL."""

    name: str
    source: str

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))


def parse_speaker(raw: str) -> SpeakerFlag:
    """``NAME=PATH`` split at the first ``=``; a usage error for anything else."""
    name, sep, source = raw.partition("=")
    name = name.strip()
    if not sep or not name or not source:
        raise UsageError(
            f"--speaker takes NAME=PATH, not {raw!r}", hint="e.g. --speaker Alice=alice.wav"
        )
    if any(not ch.isprintable() for ch in name):
        raise UsageError(f"--speaker name {name!r} holds control characters")
    return SpeakerFlag(name, source)


def check_speakers(speakers: Sequence[SpeakerFlag], *, diarize: bool) -> None:
    """The rules the API sets for references, checked before anything is read."""
    if not speakers:
        return
    if not diarize:
        raise UsageError(
            "--speaker needs --diarize", hint="add --diarize: references label diarized speakers"
        )
    if len(speakers) > MAX_SPEAKERS:
        raise UsageError(
            f"--speaker can be given at most {MAX_SPEAKERS} times, not {len(speakers)}"
        )
    names = [speaker.name for speaker in speakers]
    if len(set(names)) != len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise UsageError(f"--speaker names must differ: {repeated!r} is given twice")


def load_reference(speaker: SpeakerFlag, temp_dir: Path) -> str:
    """The reference to send for ``speaker``: its URL, or its clip as base64 FLAC.

    Raises InputError (exit 2) for a clip that is missing, not audio, or not 3 to 15 s.
    """
    if speaker.is_url:
        return speaker.source
    from voxcli.audio.encode import encode_flac_16k_mono
    from voxcli.audio.probe import probe
    from voxcli.audio.spool import temp_audio_path

    path = Path(speaker.source)
    try:
        info = probe(path)
    except InputError as exc:
        raise InputError(f"--speaker {speaker.name}: {exc.message}", hint=exc.hint) from None
    seconds = info.duration
    if not info.decodable or seconds is None or not math.isfinite(seconds):
        raise InputError(
            f"--speaker {speaker.name}: voxcli cannot read the length of {path} "
            f"({info.format or 'unknown format'})",
            hint="use a WAV, FLAC, MP3 or OGG clip",
        )
    if not SHORTEST_SECONDS <= seconds <= LONGEST_SECONDS:
        raise InputError(
            f"--speaker {speaker.name}: {path} is {seconds:.1f} s long; a reference must be "
            f"{SHORTEST_SECONDS:g} to {LONGEST_SECONDS:g} s of the speaker's voice"
        )
    with temp_audio_path(".flac", temp_dir) as flac:
        encode_flac_16k_mono(path, flac)
        return base64.b64encode(flac.read_bytes()).decode("ascii")
