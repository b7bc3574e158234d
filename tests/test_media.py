"""Any media in (issue 14): video and compressed containers decoded with PyAV, split,
sampled and re-encoded like lossless audio; ``--upload opus``. End to end through the real
SDK against the fake server; the files are made here with PyAV."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
from audio_factory import write_media
from cli_runner import run_cli

DATA = Path(__file__).parent / "data"


def speech(seconds: float, rate: int = 16_000) -> np.ndarray:
    data, native = soundfile.read(DATA / "speech.wav", dtype="float32")
    assert native == rate
    return np.resize(data, round(seconds * rate))


def make_media(
    path: Path, seconds: float, *, video: bool, audio: bool = True, codec: str = "aac"
) -> Path:
    """A media file: a few colour frames a second and/or a mono speech track."""
    tracks = [(speech(seconds) * 32767).astype(np.int16)] if audio else []
    return write_media(path, tracks, video_seconds=seconds if video else None, codec=codec)


def sent_audio(request) -> soundfile.SoundFile:
    [upload] = request.files["file"]
    return soundfile.SoundFile(io.BytesIO(upload.data))


@pytest.mark.parametrize("name", ["screen.mkv", "phone.mov", "talk.mp4"])
def test_a_video_is_sent_as_16k_mono_flac_of_its_audio(api_env, tmp_path, name):
    video = make_media(tmp_path / name, 4.0, video=True)
    result = run_cli("transcribe", str(video), "-v")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    with sent_audio(request) as flac:
        assert (flac.format, flac.samplerate, flac.channels) == ("FLAC", 16000, 1)
        assert flac.frames / 16000 == pytest.approx(4.0, abs=0.1)
    assert request.files["file"][0].filename == f"{Path(name).stem}.flac"


def test_upload_original_sends_a_video_untouched_with_a_warning(api_env, tmp_path):
    video = make_media(tmp_path / "screen.mov", 3.0, video=True)
    result = run_cli("transcribe", str(video), "--upload", "original")
    assert result.exit_code == 0, result.output
    [request] = api_env.transcription_requests()
    assert request.file().data == video.read_bytes()  # as asked
    assert "sent as it is (--upload original), but the API may not take" in result.stderr
    quiet = run_cli("transcribe", str(video), "--upload", "original", "-q")
    assert quiet.stderr == ""


def test_a_video_without_audio_is_exit_2_naming_the_file(api_env, tmp_path):
    silent = make_media(tmp_path / "slides.mkv", 2.0, video=True, audio=False)
    result = run_cli("transcribe", str(silent))
    assert result.exit_code == 2
    assert f"{silent} has no audio stream" in result.stderr
    assert api_env.work_requests() == []


def test_an_m4a_is_sent_as_it_is_but_can_be_split(api_env, tmp_path):
    m4a = make_media(tmp_path / "memo.m4a", 40.0, video=False)
    assert run_cli("transcribe", str(m4a)).exit_code == 0
    [whole] = api_env.transcription_requests()
    assert whole.files["file"][0].data == m4a.read_bytes()  # compressed: kept as it is
    result = run_cli("transcribe", str(m4a), "--split-minutes", "0.25", "-f", "json")
    assert result.exit_code == 0, result.stderr
    parts = api_env.transcription_requests()[1:]
    assert len(parts) >= 2
    assert all(p.files["file"][0].filename.endswith(".flac") for p in parts)


def test_detect_lang_samples_the_start_of_a_video(api_env, tmp_path):
    video = make_media(tmp_path / "talk.mov", 12.0, video=True)
    result = run_cli("detect-lang", str(video), "--sample", "3")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    with sent_audio(request) as flac:
        assert flac.frames / 16000 == pytest.approx(3.0, abs=0.05)


def test_recursive_runs_pick_video_files_too(api_env, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    make_media(folder / "a.mkv", 2.0, video=True)
    make_media(folder / "b.m4a", 2.0, video=False)
    (folder / "notes.txt").write_text("not media")
    result = run_cli("transcribe", "-r", str(folder), "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt", "b.txt"]


def test_upload_opus_sends_ogg_opus_several_times_smaller_than_flac(api_env, tmp_path):
    wav = tmp_path / "talk.wav"
    soundfile.write(wav, speech(60.0), 16_000, subtype="PCM_16")
    assert run_cli("transcribe", str(wav)).exit_code == 0
    assert run_cli("transcribe", str(wav), "--upload", "opus").exit_code == 0
    flac, opus = api_env.transcription_requests()
    flac_bytes = len(flac.files["file"][0].data)
    opus_upload = opus.files["file"][0]
    assert opus_upload.filename == "talk.ogg"
    with soundfile.SoundFile(io.BytesIO(opus_upload.data)) as ogg:
        assert (ogg.format, ogg.subtype, ogg.channels) == ("OGG", "OPUS", 1)
        assert ogg.frames / ogg.samplerate == pytest.approx(60.0, abs=0.1)
    assert len(opus_upload.data) * 3 < flac_bytes


def test_mp3_length_comes_from_pyav(tmp_path):
    from voxcli import audio

    info = audio.probe(DATA / "speech.mp3")
    with av.open(str(DATA / "speech.mp3")) as container:
        stream = container.streams.audio[0]
        expected = float(stream.duration * stream.time_base)
    assert info.format == "MP3" and info.duration == pytest.approx(expected, abs=1e-6)
