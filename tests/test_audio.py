"""Unit tests for voxcli.audio: probe, upload planning, re-encoding, splitting, stdin."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxcli import audio
from voxcli.audio import AudioInfo, EncodeResult
from voxcli.errors import ExitCode, InputError

# --- helpers -------------------------------------------------------------------------------------


def tone(
    seconds: float, rate: int, freq: float = 1000.0, amp: float = 0.5, channels: int = 1
) -> np.ndarray:
    """A sine of ``freq`` Hz, float32, shaped (frames, channels)."""
    t = np.arange(round(seconds * rate)) / rate
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1)


def write(path: Path, data: np.ndarray, rate: int, **kwargs: object) -> Path:
    sf.write(str(path), data, rate, **kwargs)
    return path


def peak_hz(x: np.ndarray, rate: int) -> float:
    """The frequency of the strongest FFT bin (Hann-windowed)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def info(fmt: str | None, rate: int | None = 44100, channels: int | None = 2) -> AudioInfo:
    decodable = fmt not in ("MP4", "WEBM", "AAC")
    return AudioInfo(
        path=Path("x"),
        format=fmt,
        subtype=None,
        samplerate=rate if decodable else None,
        channels=channels if decodable else None,
        frames=1000 if decodable else None,
        duration=1.0 if decodable else None,
        size=1234,
        decodable=decodable,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty directory of our own (other fixtures may add files to tmp_path)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


# --- import cost ---------------------------------------------------------------------------------


def test_importing_audio_does_not_import_numpy_soundfile_or_soxr() -> None:
    code = (
        "import sys, voxcli.audio; "
        "print(','.join(m for m in ('numpy', 'soundfile', 'soxr') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


# --- probe ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "fmt", "subtype", "rate", "channels"),
    [
        ("a.wav", {}, "WAV", "PCM_16", 44100, 2),
        ("a.flac", {}, "FLAC", "PCM_16", 16000, 1),
        ("a.mp3", {"format": "MP3"}, "MP3", "MPEG_LAYER_III", 44100, 2),
        ("a.ogg", {"format": "OGG", "subtype": "VORBIS"}, "OGG", "VORBIS", 44100, 1),
        ("a.opus", {"format": "OGG", "subtype": "OPUS"}, "OGG", "OPUS", 48000, 1),
        ("a.aiff", {"subtype": "PCM_24"}, "AIFF", "PCM_24", 22050, 1),
    ],
)
def test_probe_decodable_formats(
    tmp_path: Path, name: str, kwargs: dict, fmt: str, subtype: str, rate: int, channels: int
) -> None:
    path = write(tmp_path / name, tone(1.5, rate, channels=channels), rate, **kwargs)
    got = audio.probe(path)
    assert got.decodable
    assert (got.format, got.subtype) == (fmt, subtype)
    assert (got.samplerate, got.channels) == (rate, channels)
    assert got.duration == pytest.approx(1.5, abs=0.05)  # MP3 counts are estimates
    assert got.frames == pytest.approx(1.5 * rate, abs=0.05 * rate)
    assert got.size == path.stat().st_size
    assert got.path == path


def expect_input_error(path: Path, words: str) -> InputError:
    with pytest.raises(InputError) as excinfo:
        audio.probe(path)
    err = excinfo.value
    assert words in err.message
    assert str(path) in err.message
    assert "\n" not in err.message
    assert err.exit_code == ExitCode.USAGE
    return err


def test_probe_missing_file(tmp_path: Path) -> None:
    expect_input_error(tmp_path / "nope.wav", "no such file")


def test_probe_directory(tmp_path: Path) -> None:
    expect_input_error(tmp_path, "is a directory")


def test_probe_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    expect_input_error(path, "is empty")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_probe_named_pipe_is_not_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    err = expect_input_error(path, "is not a regular file")
    assert err.hint and "'-'" in err.hint


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything"
)
def test_probe_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.wav", tone(0.1, 8000), 8000)
    path.chmod(0)
    try:
        expect_input_error(path, "is not readable")
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_probe_permission_denied_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "locked.wav", tone(0.1, 8000), 8000)
    real_open = Path.open

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    expect_input_error(path, "is not readable")


def test_probe_text_renamed_to_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    err = expect_input_error(path, "is not an audio file voxcli can read (or it is damaged)")
    assert err.hint


def test_probe_zero_frame_wav(tmp_path: Path) -> None:
    path = write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), 16000)
    assert path.stat().st_size > 0
    expect_input_error(path, "contains no audio")


def make_m4a(path: Path) -> Path:
    """A real AAC-in-MP4 file from ffmpeg, or a minimal ftyp box when ffmpeg is missing."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        cmd = [ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=0.5"]
        subprocess.run([*cmd, "-c:a", "aac", "-y", str(path)], check=True)
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom" + bytes(200))
    return path


def test_probe_m4a_is_decoded_with_pyav_and_still_sent_as_it_is(tmp_path: Path) -> None:
    path = make_m4a(tmp_path / "talk.m4a")
    got = audio.probe(path)
    assert got.decodable and got.media and not got.video
    assert (got.format, got.subtype) == ("MP4", "AAC")
    assert got.duration == pytest.approx(0.5, abs=0.05)
    assert got.size == path.stat().st_size
    assert audio.plan_upload(got, "auto") == "original"  # compressed, and the API takes it
    assert audio.plan_upload(got, "opus") == "opus"


@pytest.mark.parametrize(
    ("name", "head"),
    [("a.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81"), ("a.aac", b"\xff\xf1\x50\x80\x02\x1f")],
)
def test_probe_other_pass_through_containers(tmp_path: Path, name: str, head: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(head + bytes(100))
    assert not audio.probe(path).decodable


def test_probe_rejects_a_pass_through_extension_without_its_magic(tmp_path: Path) -> None:
    path = tmp_path / "fake.m4a"
    path.write_text("hello, not an mp4\n" * 10)
    expect_input_error(path, "is not an audio file")


# --- plan_upload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "rate", "channels", "expected"),
    [
        ("WAV", 16000, 1, "reencode"),
        ("WAV", 44100, 2, "reencode"),
        ("WAVEX", 48000, 2, "reencode"),
        ("AIFF", 44100, 2, "reencode"),
        ("W64", 44100, 2, "reencode"),
        ("RF64", 44100, 2, "reencode"),
        ("CAF", 44100, 2, "reencode"),
        ("AU", 8000, 1, "reencode"),
        ("FLAC", 16000, 1, "original"),
        ("FLAC", 8000, 1, "original"),
        ("FLAC", 44100, 1, "reencode"),
        ("FLAC", 16000, 2, "reencode"),
        ("MP3", 44100, 2, "original"),
        ("OGG", 48000, 2, "original"),
        ("MP4", None, None, "original"),
        ("WEBM", None, None, "original"),
        ("AAC", None, None, "original"),
    ],
)
def test_plan_upload_auto(fmt: str, rate: int | None, channels: int | None, expected: str) -> None:
    assert audio.plan_upload(info(fmt, rate, channels), "auto") == expected


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "MP3", "MP4"])
def test_plan_upload_original_never_reencodes(fmt: str) -> None:
    assert audio.plan_upload(info(fmt), "original") == "original"


@pytest.mark.parametrize("mode", ["sometimes", "reencode"])  # reencode: never a --upload choice
def test_plan_upload_unknown_mode(mode: str) -> None:
    with pytest.raises(ValueError, match="upload mode"):
        audio.plan_upload(info("WAV"), mode)


def test_plan_upload_from_real_probes(tmp_path: Path) -> None:
    wav = write(tmp_path / "a.wav", tone(0.5, 44100, channels=2), 44100)
    flac = write(tmp_path / "a.flac", tone(0.5, 16000), 16000)
    mp3 = write(tmp_path / "a.mp3", tone(0.5, 44100), 44100, format="MP3")
    assert audio.plan_upload(audio.probe(wav), "auto") == "reencode"
    assert audio.plan_upload(audio.probe(flac), "auto") == "original"
    assert audio.plan_upload(audio.probe(mp3), "auto") == "original"


# --- encode_flac_16k_mono ------------------------------------------------------------------------


def encode(src: Path, tmp_path: Path, **kwargs: float | None) -> tuple[EncodeResult, np.ndarray]:
    dest = tmp_path / f"{src.stem}-out.flac"
    result = audio.encode_flac_16k_mono(src, dest, **kwargs)
    data, rate = sf.read(str(dest), dtype="float32")
    assert rate == 16000
    return result, data


def test_encode_stereo_44k_wav_to_16k_mono_flac(tmp_path: Path) -> None:
    src = write(tmp_path / "in.wav", tone(3.3, 44100, channels=2), 44100)
    dest = tmp_path / "out.flac"
    result = audio.encode_flac_16k_mono(src, dest)
    got = sf.info(str(dest))
    assert (got.format, got.subtype, got.samplerate, got.channels) == ("FLAC", "PCM_16", 16000, 1)
    assert got.duration == pytest.approx(3.3, abs=0.010)
    assert result == EncodeResult(path=dest, bytes=dest.stat().st_size, duration=got.frames / 16000)
    assert result.samplerate == 16000 and result.channels == 1


def test_encode_keeps_the_frequency_and_level_of_a_tone(tmp_path: Path) -> None:
    src = write(tmp_path / "in.wav", tone(3.3, 44100, 1000.0, channels=2), 44100)
    _, out = encode(src, tmp_path)
    assert peak_hz(out, 16000) == pytest.approx(1000.0, abs=2.0)
    assert rms(out[1600:-1600]) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_encode_downmixes_by_averaging_channels(tmp_path: Path) -> None:
    left = tone(1.0, 16000, 440.0)
    src = write(tmp_path / "in.wav", np.hstack([left, -left]), 16000, subtype="FLOAT")
    _, out = encode(src, tmp_path)
    assert np.abs(out).max() < 1e-4


def test_encode_filters_instead_of_aliasing(tmp_path: Path) -> None:
    # a 12 kHz tone is above the 8 kHz Nyquist limit: a naive decimator folds it to 4 kHz
    src = write(tmp_path / "in.wav", tone(3.3, 44100, 12000.0, channels=2), 44100)
    _, out = encode(src, tmp_path)
    naive = tone(3.3, 44100, 12000.0)[(np.arange(len(out)) * 44100 // 16000), 0]
    assert rms(naive) > 0.3
    assert rms(out[1600:-1600]) < 1e-3 * rms(naive)  # at least 60 dB down


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0.0, None, 3.3), (1.0, 2.5, 1.5), (0.0, 1.0, 1.0), (2.0, None, 1.3), (1.0, 99.0, 2.3)],
)
def test_encode_time_ranges(
    tmp_path: Path, start: float, end: float | None, expected: float
) -> None:
    src = write(tmp_path / "in.wav", tone(3.3, 44100, channels=2), 44100)
    result, out = encode(src, tmp_path, start=start, end=end)
    assert len(out) / 16000 == pytest.approx(expected, abs=0.010)
    assert result.duration == pytest.approx(expected, abs=0.010)


FORMATS = [
    ("in.wav", {}),
    ("in.flac", {}),
    ("in.mp3", {"format": "MP3"}),  # tonal content makes libsndfile write VBR frames
    ("in.ogg", {"format": "OGG", "subtype": "VORBIS"}),
]


def chirp(seconds: float, rate: int) -> np.ndarray:
    """A sweep from 200 Hz upwards: any time shift or glitch shows up as a large error."""
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * (200 * t + 150 * t**2))).astype(np.float32)[:, None]


@pytest.mark.parametrize(("name", "kwargs"), FORMATS)
def test_encode_output_does_not_depend_on_block_size(
    tmp_path: Path, name: str, kwargs: dict
) -> None:
    # python-soundfile re-seeks after every read, and seeking MP3/OGG lands on the wrong
    # samples: small blocks would then glitch after every block boundary.
    src = write(tmp_path / name, chirp(4.0, 44100), 44100, **kwargs)
    big = audio.encode_flac_16k_mono(src, tmp_path / "big.flac", block_seconds=100.0)
    small = audio.encode_flac_16k_mono(src, tmp_path / "small.flac", block_seconds=0.0371)
    a, _ = sf.read(str(big.path), dtype="int16")
    b, _ = sf.read(str(small.path), dtype="int16")
    assert len(a) == len(b) == 64000
    assert np.abs(a.astype(np.int32) - b).max() <= 1


@pytest.mark.parametrize(("name", "kwargs"), FORMATS)
def test_encode_range_matches_that_stretch_of_the_whole(
    tmp_path: Path, name: str, kwargs: dict
) -> None:
    src = write(tmp_path / name, chirp(4.0, 44100), 44100, **kwargs)
    whole = audio.encode_flac_16k_mono(src, tmp_path / "whole.flac")
    part = audio.encode_flac_16k_mono(src, tmp_path / "part.flac", start=2.3, end=3.7)
    a, _ = sf.read(str(whole.path), dtype="float32")
    b, _ = sf.read(str(part.path), dtype="float32")
    assert len(b) == round(1.4 * 16000)
    ref = a[round(2.3 * 16000) :][: len(b)]
    # the resampler starts and ends afresh at the cut, so allow a few ms for its filter
    assert np.abs(b[80:-80] - ref[80:-80]).max() < 0.01
    assert rms(b[:800]) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)  # no dropout at the start


@pytest.mark.parametrize(
    ("rate", "subtype"),
    [(48000, "PCM_16"), (8000, "PCM_16"), (22050, "PCM_16"), (44100, "PCM_24"), (32000, "FLOAT")],
)
def test_encode_other_rates_and_sample_formats(tmp_path: Path, rate: int, subtype: str) -> None:
    src = write(tmp_path / "in.wav", tone(2.0, rate, 700.0, channels=2), rate, subtype=subtype)
    result, out = encode(src, tmp_path)
    assert result.duration == pytest.approx(2.0, abs=0.010)
    assert peak_hz(out, 16000) == pytest.approx(700.0, abs=2.0)
    assert rms(out[800:-800]) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_encode_clips_instead_of_wrapping(tmp_path: Path) -> None:
    loud = tone(1.0, 16000, 50.0, amp=1.5)
    src = write(tmp_path / "in.wav", loud, 16000, subtype="FLOAT")
    _, out = encode(src, tmp_path)
    assert out.max() == pytest.approx(1.0, abs=1e-4)
    assert out.min() == pytest.approx(-1.0, abs=1e-4)
    # where the input is over full scale, the output sits at full scale with the same sign
    over = np.abs(loud[:, 0]) > 1.0
    assert np.all(np.abs(out[over]) > 0.999)
    assert np.all(np.sign(out[over]) == np.sign(loud[over, 0]))


def test_encode_start_past_the_end(tmp_path: Path) -> None:
    src = write(tmp_path / "in.wav", tone(1.0, 16000), 16000)
    dest = tmp_path / "out.flac"
    with pytest.raises(InputError, match="no audio after"):
        audio.encode_flac_16k_mono(src, dest, start=5.0)
    assert not dest.exists()


def test_encode_rejects_bad_arguments(tmp_path: Path) -> None:
    src = write(tmp_path / "in.wav", tone(1.0, 16000), 16000)
    dest = tmp_path / "out.flac"
    for kwargs in ({"start": -1.0}, {"start": 2.0, "end": 1.0}, {"block_seconds": 0.0}):
        with pytest.raises(ValueError):
            audio.encode_flac_16k_mono(src, dest, **kwargs)
    assert not dest.exists()


def test_encode_rejects_non_audio(tmp_path: Path) -> None:
    src = tmp_path / "notes.wav"
    src.write_text("not audio\n" * 10)
    with pytest.raises(InputError, match="not an audio file"):
        audio.encode_flac_16k_mono(src, tmp_path / "out.flac")


# --- spool_stdin ---------------------------------------------------------------------------------


class Trickle(io.RawIOBase):
    """A pipe-like stream that hands out at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._step, self._pos = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk


@pytest.mark.parametrize(
    ("head", "suffix"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", ".wav"),
        (b"fLaC\x00\x00\x00\x22", ".flac"),
        (b"OggS\x00\x02\x00\x00", ".ogg"),
        (b"ID3\x04\x00\x00\x00\x00", ".mp3"),
        (b"\xff\xfb\x90\x64\x00\x00", ".mp3"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", ".m4a"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", ".webm"),
        (b"FORM\x00\x00\x10\x00AIFFCOMM", ".aiff"),
        (b"\xff\xf1\x50\x80\x02\x1f", ".aac"),
    ],
)
def test_spool_stdin_names_the_file_by_its_magic(tmp_path: Path, head: bytes, suffix: str) -> None:
    payload = head + os.urandom(3 * 1024 * 1024 + 5)  # several copy chunks
    path = audio.spool_stdin(io.BytesIO(payload), tmp_path)
    try:
        assert path.parent == tmp_path
        assert path.suffix == suffix
        assert path.read_bytes() == payload
    finally:
        path.unlink()


def test_stdin_that_is_not_audio_is_refused_before_anything_is_spooled(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an audio file"):
        audio.spool_stdin(io.BytesIO(b"hello, world" + bytes(4096)), tmp_path / "spool")
    assert not (tmp_path / "spool").exists() or list((tmp_path / "spool").iterdir()) == []


def test_spool_stdin_sniffs_through_short_reads(tmp_path: Path) -> None:
    payload = b"fLaC" + bytes(1000)
    path = audio.spool_stdin(Trickle(payload, 3), tmp_path)  # type: ignore[arg-type]
    assert path.suffix == ".flac"
    assert path.read_bytes() == payload


def test_spool_stdin_real_audio_round_trip(tmp_path: Path) -> None:
    wav = write(tmp_path / "in.wav", tone(0.5, 16000), 16000)
    path = audio.spool_stdin(io.BytesIO(wav.read_bytes()), tmp_path)
    assert path.suffix == ".wav"
    assert audio.probe(path).format == "WAV"


def test_spool_stdin_empty(work: Path) -> None:
    with pytest.raises(InputError, match="stdin is empty"):
        audio.spool_stdin(io.BytesIO(b""), work)
    assert list(work.iterdir()) == []


def test_spool_stdin_removes_a_partial_file_on_interrupt(work: Path) -> None:
    class Interrupted(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() >= 100:
                raise KeyboardInterrupt
            return super().read(size)

    with pytest.raises(KeyboardInterrupt):
        audio.spool_stdin(Interrupted(b"RIFF" + bytes(5000)), work)
    assert list(work.iterdir()) == []


# --- splitting -----------------------------------------------------------------------------------

SILENCES = [(19.4, 20.4), (40.3, 41.3)]


def bursts(rate: int, noise: float) -> np.ndarray:
    """60 s of a 440 Hz tone with 1 s silences (``SILENCES``), plus optional noise."""
    x = tone(60.0, rate, 440.0, amp=0.3)[:, 0]
    for a, b in SILENCES:
        x[round(a * rate) : round(b * rate)] = 0.0
    if noise:
        x += noise * np.random.default_rng(7).standard_normal(len(x)).astype(np.float32)
    return x


def find_split_points(path: Path, part: float, **kwargs: float) -> list[float]:
    return list(audio.iter_split_points(path, part, **kwargs))


def split_ranges(duration: float, cuts: list[float]) -> list[tuple[float, float]]:
    bounds = [0.0, *cuts, duration]
    assert all(a < b for a, b in itertools.pairwise(bounds)), bounds
    return list(itertools.pairwise(bounds))


def reference_cuts(
    path: Path, part: float, *, search_seconds: float = 5.0, window_seconds: float = 0.05
) -> list[float]:
    """The cuts found from the whole file's envelope at once: what iter_split_points,
    which decides each cut while reading, must agree with."""
    with audio.open_reader(path) as reader:
        rate = reader.samplerate
        win = max(1, round(window_seconds * rate))
        block = win * max(1, round(10 * rate / win))
        buf = np.empty((block, reader.channels), dtype=np.float32)
        squares: list[np.ndarray] = []
        total = 0
        for mono in audio.mono_blocks(reader, buf, None):
            total += len(mono)
            whole = len(mono) // win * win
            if whole:
                squares.append(np.square(mono[:whole]).reshape(-1, win).mean(axis=1))
            if whole < len(mono):
                squares.append(np.square(mono[whole:]).mean(keepdims=True))
    env = np.sqrt(np.concatenate(squares)) if squares else np.zeros(0, np.float32)
    hop, duration = win / rate, total / rate
    cuts: list[float] = []
    pos = 0.0
    while window := audio.cut_window(pos, duration, part, search_seconds, hop, len(env)):
        cuts.append(audio.choose_cut(env, hop, *window))
        pos = cuts[-1]
    return cuts


@pytest.mark.parametrize("noise", [0.0, 1e-3])
def test_find_split_points_cuts_inside_silences(tmp_path: Path, noise: float) -> None:
    src = write(tmp_path / "talk.wav", bursts(16000, noise), 16000)
    cuts = find_split_points(src, 20.0)
    assert len(cuts) == 2
    for cut, (a, b) in zip(cuts, SILENCES, strict=True):
        assert a + 0.1 < cut < b - 0.1
    ranges = split_ranges(60.0, cuts)
    assert ranges[0][0] == 0.0 and ranges[-1][1] == 60.0
    assert all(r[1] == s[0] for r, s in itertools.pairwise(ranges))


def test_find_split_points_in_stereo_mp3(tmp_path: Path) -> None:
    """MP3 is decoded to 16 kHz mono FLAC once, then cut (what voxcli.longform does)."""
    stereo = np.repeat(bursts(22050, 0.0)[:, None], 2, axis=1)
    src = write(tmp_path / "talk.mp3", stereo, 22050, format="MP3")
    flac = audio.encode_flac_16k_mono(src, tmp_path / "talk.flac")
    assert flac.duration == pytest.approx(60.0, abs=0.1)
    cuts = find_split_points(tmp_path / "talk.flac", 20.0)
    assert [a < c < b for c, (a, b) in zip(cuts, SILENCES, strict=True)] == [True, True]


def test_find_split_points_short_file_has_no_cuts(tmp_path: Path) -> None:
    src = write(tmp_path / "short.wav", tone(24.9, 8000), 8000)
    assert find_split_points(src, 20.0) == []  # within part + search: one part


def test_find_split_points_never_cuts_near_the_ends(tmp_path: Path) -> None:
    x = tone(40.0, 8000, 440.0)[:, 0]
    x[2 * 8000 : 3 * 8000] = 0.0  # pauses within reach of the search, but too near the ends
    x[36 * 8000 : 37 * 8000] = 0.0
    src = write(tmp_path / "talk.wav", x, 8000)
    (cut,) = find_split_points(src, 20.0, search_seconds=15.0)
    assert 10.0 <= cut <= 30.0


def test_find_split_points_on_uniform_audio_cuts_at_the_targets(tmp_path: Path) -> None:
    src = write(tmp_path / "hum.wav", tone(50.0, 8000, 100.0), 8000)
    # 20 s, then the last 30 s shared evenly rather than 20 s and a 10 s stub
    assert find_split_points(src, 20.0) == pytest.approx([20.0, 35.0], abs=0.05)
    src = write(tmp_path / "hum2.wav", tone(26.5, 8000, 100.0), 8000)
    assert find_split_points(src, 20.0) == pytest.approx([13.25], abs=0.05)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.floats(1.0, 80.0),
    part=st.floats(2.0, 30.0),
    search=st.floats(0.0, 8.0),
    seed=st.integers(0, 2**16),
)
def test_find_split_points_invariants(
    duration: float, part: float, search: float, seed: int
) -> None:
    rate = 1000
    rng = np.random.default_rng(seed)
    x = (rng.random(round(duration * rate)) * rng.random(round(duration * rate))).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        src = write(Path(tmp) / "r.wav", x, rate, subtype="FLOAT")
        cuts = find_split_points(src, part, search_seconds=search)
    total = len(x) / rate
    ranges = split_ranges(total, cuts)
    edge = min(search, part / 2)
    lengths = [b - a for a, b in ranges]
    if cuts:
        assert all(length >= edge - 1e-6 for length in lengths)
    assert all(length <= part + search + 1e-6 for length in lengths)
    assert ranges[0][0] == 0.0 and ranges[-1][1] == total
    assert (cuts == []) == (total <= part + search)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.floats(1.0, 80.0),
    part=st.floats(2.0, 30.0),
    search=st.floats(0.0, 8.0),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_iter_split_points_matches_the_whole_file_reference(
    duration: float, part: float, search: float, channels: int, seed: int
) -> None:
    rate = 1000
    rng = np.random.default_rng(seed)
    n = round(duration * rate)
    x = (rng.random((n, channels)) * rng.random((n, 1))).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        src = write(Path(tmp) / "r.wav", x, rate, subtype="FLOAT")
        assert list(audio.iter_split_points(src, part, search_seconds=search)) == (
            reference_cuts(src, part, search_seconds=search)
        )


def test_iter_split_points_yields_each_cut_before_reading_the_rest(tmp_path: Path) -> None:
    src = write(tmp_path / "talk.wav", bursts(16000, 0.0), 16000)
    reads: list[int] = []
    real = audio.mono_blocks

    def counting(*args, **kwargs):
        for block in real(*args, **kwargs):
            reads.append(len(block))
            yield block

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audio.split, "mono_blocks", counting)
        cuts = audio.iter_split_points(src, 20.0)
        first = next(cuts)
        assert SILENCES[0][0] < first < SILENCES[0][1]
        assert sum(reads) <= 30 * 16000  # decided by 25 s of audio, not all 60
        assert SILENCES[1][0] < next(cuts) < SILENCES[1][1]
        assert list(cuts) == []


def test_find_split_points_rejects_bad_arguments(tmp_path: Path) -> None:
    src = write(tmp_path / "a.wav", tone(1.0, 8000), 8000)
    with pytest.raises(ValueError):
        find_split_points(src, 0.0)
    with pytest.raises(ValueError):
        find_split_points(src, 10.0, window_seconds=0.0)


# --- temp files and hashing ----------------------------------------------------------------------


def test_temp_audio_path_is_removed_after_use(work: Path) -> None:
    with audio.temp_audio_path(".flac", dir=work) as path:
        assert path.exists() and path.suffix == ".flac" and path.parent == work
        path.write_bytes(b"data")
    assert not path.exists()


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_temp_audio_path_is_removed_on_errors(work: Path, exc: type[BaseException]) -> None:
    with pytest.raises(exc), audio.temp_audio_path(".wav", dir=work) as path:
        path.write_bytes(b"partial")
        raise exc
    assert not path.exists()
    assert list(work.iterdir()) == []


def test_temp_audio_path_tolerates_the_file_being_removed_early(work: Path) -> None:
    with audio.temp_audio_path(".wav", dir=work) as path:
        path.unlink()
    assert list(work.iterdir()) == []


def test_content_hash_streams_sha256(tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert audio.content_hash(path) == hashlib.sha256(data).hexdigest()
