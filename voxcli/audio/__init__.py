"""Everything that touches audio: probe, decode, re-encode, split, spool stdin.

Only this package uses soundfile, numpy and soxr, and it imports them inside the
functions that need them, so ``voxcli --help`` stays fast. Everything streams in
blocks: memory stays flat however long the recording is.
"""

from __future__ import annotations

from voxcli.audio.decode import mono_blocks, open_reader
from voxcli.audio.encode import EncodeResult, encode_flac_16k_mono
from voxcli.audio.formats import AUDIO_EXTENSIONS, PASSTHROUGH_SUFFIXES
from voxcli.audio.probe import (
    TARGET_RATE,
    UPLOAD_MODES,
    AudioInfo,
    plan_upload,
    probe,
    seeks_exactly,
)
from voxcli.audio.split import choose_cut, cut_window, iter_split_points
from voxcli.audio.spool import content_hash, spool_stdin, temp_audio_path

__all__ = [
    "AUDIO_EXTENSIONS",
    "PASSTHROUGH_SUFFIXES",
    "TARGET_RATE",
    "UPLOAD_MODES",
    "AudioInfo",
    "EncodeResult",
    "choose_cut",
    "content_hash",
    "cut_window",
    "encode_flac_16k_mono",
    "iter_split_points",
    "mono_blocks",
    "open_reader",
    "plan_upload",
    "probe",
    "seeks_exactly",
    "spool_stdin",
    "temp_audio_path",
]
