"""``--audio-track N`` (issue 14): the chosen audio stream of a video or multi-track file is
what reaches the API, for every command, and nothing made from one stream is reused for
another. End to end through the CLI and the real SDK against the fake servers; the
files are made here with PyAV (two tones that differ in pitch and length)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from audio_factory import write_media
from cli_runner import run_cli
from fake_mistral import TEST_API_KEY

RATE = 16_000
LOW, HIGH = 440.0, 1000.0  # track 0's pitch, track 1's pitch


def make_tracks(
    path: Path,
    tracks: list[tuple[float, float]],
    *,
    video: bool = True,
    codec: str = "flac",
) -> Path:
    """A media file with one mono audio stream per ``(seconds, hertz)`` tone, in order,
    and a few colour frames a second of video."""
    tones = [
        (0.5 * np.sin(2 * np.pi * hertz * np.arange(round(seconds * RATE)) / RATE) * 32767).astype(
            np.int16
        )
        for seconds, hertz in tracks
    ]
    longest = max(seconds for seconds, _ in tracks)
    return write_media(path, tones, video_seconds=longest if video else None, codec=codec)


def pitch(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of ``samples``, in Hz."""
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def heard(data: bytes | None) -> tuple[float, float, str]:
    """What an upload holds: (seconds, pitch, format) of its audio."""
    assert data is not None
    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    with soundfile.SoundFile(io.BytesIO(data)) as info:
        kind = f"{info.format}/{info.samplerate}/{info.channels}"
    return len(samples) / rate, pitch(samples, rate), kind


def sent(request) -> tuple[float, float, str]:
    return heard(request.file().data)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A video whose track 0 is 4 s at 440 Hz and track 1 is 2 s at 1000 Hz."""
    return make_tracks(tmp_path / "clip.mkv", [(4.0, LOW), (2.0, HIGH)])


# -- transcribe: which stream is sent ---------------------------------------------------------


def test_audio_track_1_sends_the_second_stream_as_16k_mono_flac(api_env, clip):
    result = run_cli("transcribe", str(clip), "--audio-track", "1", "-v")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    seconds, hertz, kind = sent(request)
    assert kind == "FLAC/16000/1"
    assert seconds == pytest.approx(2.0, abs=0.05)
    assert hertz == pytest.approx(HIGH, abs=5)
    assert request.file().filename == "clip.flac"
    assert "FLAC of audio stream 1" in result.stderr


@pytest.mark.parametrize("args", [(), ("--audio-track", "0")], ids=["default", "track-0"])
def test_the_default_and_track_0_send_the_first_stream(api_env, clip, args):
    result = run_cli("transcribe", str(clip), *args)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    seconds, hertz, _ = sent(request)
    assert seconds == pytest.approx(4.0, abs=0.05)
    assert hertz == pytest.approx(LOW, abs=5)


def test_the_chosen_stream_has_its_own_length_in_the_output(api_env, clip):
    result = run_cli("transcribe", str(clip), "--audio-track", "1", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["duration"] == pytest.approx(2.0, abs=0.05)


def test_stdin_and_stream_and_opus_read_the_chosen_stream_too(api_env, clip):
    piped = run_cli("transcribe", "-", "--audio-track", "1", stdin=clip.read_bytes())
    assert piped.exit_code == 0, piped.stderr
    streamed = run_cli("transcribe", str(clip), "--audio-track", "1", "--stream")
    assert streamed.exit_code == 0, streamed.stderr
    opus = run_cli("transcribe", str(clip), "--audio-track", "1", "--upload", "opus")
    assert opus.exit_code == 0, opus.stderr
    first, second, third = api_env.transcription_requests()
    for request in (first, second):
        seconds, hertz, kind = sent(request)
        assert kind == "FLAC/16000/1" and seconds == pytest.approx(2.0, abs=0.05)
        assert hertz == pytest.approx(HIGH, abs=5)
    assert third.file().filename == "clip.ogg"
    seconds, hertz, kind = sent(third)
    assert kind.startswith("OGG/") and seconds == pytest.approx(2.0, abs=0.1)
    assert hertz == pytest.approx(HIGH, abs=10)


def test_an_m4a_with_several_streams_is_never_sent_as_it_is(api_env, tmp_path):
    m4a = make_tracks(tmp_path / "memo.m4a", [(3.0, LOW), (2.0, HIGH)], video=False, codec="aac")
    single = make_tracks(tmp_path / "one.m4a", [(3.0, LOW)], video=False, codec="aac")
    assert run_cli("transcribe", str(single)).exit_code == 0
    assert run_cli("transcribe", str(m4a)).exit_code == 0
    assert run_cli("transcribe", str(m4a), "--audio-track", "0").exit_code == 0
    assert run_cli("transcribe", str(m4a), "--upload", "original").exit_code == 0
    one, first, chosen, untouched = api_env.transcription_requests()
    assert one.file().data == single.read_bytes()  # compressed audio the API takes: as it is
    assert untouched.file().data == m4a.read_bytes()  # as asked
    for request in (first, chosen):  # the API would pick a stream itself: the first is sent
        assert request.file().filename == "memo.flac"
        seconds, hertz, _ = sent(request)
        assert seconds == pytest.approx(3.0, abs=0.1) and hertz == pytest.approx(LOW, abs=5)


def test_upload_original_with_a_stream_of_several_is_refused(api_env, clip, tmp_path):
    result = run_cli("transcribe", str(clip), "--audio-track", "1", "--upload", "original")
    assert result.exit_code == 2
    assert "--upload original sends the file as it is" in result.stderr
    assert "2 audio streams" in result.stderr and "--audio-track 1" in result.stderr
    assert api_env.work_requests() == []
    # A file with one stream has nothing to pick from: sent untouched, as asked.
    wav = tmp_path / "one.wav"
    soundfile.write(wav, np.zeros(RATE, dtype=np.float32), RATE)
    result = run_cli("transcribe", str(wav), "--audio-track", "0", "--upload", "original")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.file().data == wav.read_bytes()


# -- streams that do not exist, URLs ----------------------------------------------------------


def test_a_missing_stream_is_exit_2_naming_the_file_and_its_streams(api_env, clip):
    result = run_cli("transcribe", str(clip), "--audio-track", "2")
    assert result.exit_code == 2
    assert f"{clip} has 2 audio streams; --audio-track 2 does not exist" in result.stderr
    assert "pick 0 to 1" in result.stderr
    assert api_env.work_requests() == []


def test_a_missing_stream_on_stdin_names_stdin(api_env, clip):
    result = run_cli("transcribe", "-", "--audio-track", "5", stdin=clip.read_bytes())
    assert result.exit_code == 2
    assert "audio on stdin has 2 audio streams; --audio-track 5 does not exist" in result.stderr


@pytest.mark.parametrize("name", ["speech.wav", "speech.flac", "speech.ogg", "speech.mp3"])
def test_a_file_with_one_stream_takes_track_0_only(api_env, data_dir, name):
    path = data_dir / name
    ok = run_cli("transcribe", str(path), "--audio-track", "0")
    assert ok.exit_code == 0, ok.stderr
    missing = run_cli("transcribe", str(path), "--audio-track", "1")
    assert missing.exit_code == 2
    assert f"{path} has 1 audio stream; --audio-track 1 does not exist" in missing.stderr
    assert len(api_env.transcription_requests()) == 1


def test_with_several_inputs_a_missing_stream_fails_that_input_only(api_env, clip, data_dir):
    out = clip.parent / "out"
    wav = data_dir / "speech.wav"
    result = run_cli("transcribe", str(clip), str(wav), "--audio-track", "1", "-d", str(out))
    assert result.exit_code == 1
    assert f"{wav} has 1 audio stream; --audio-track 1 does not exist" in result.stderr
    assert "1 of 2 inputs failed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["clip.txt"]
    [request] = api_env.transcription_requests()
    assert sent(request)[1] == pytest.approx(HIGH, abs=5)


@pytest.mark.parametrize(
    "command", [("transcribe",), ("detect-lang",), ("batch", "submit", "-d", "out")]
)
def test_a_url_with_audio_track_is_exit_2_in_one_line(api_env, command):
    result = run_cli(*command, "https://example.com/talk.mp4", "--audio-track", "0")
    assert result.exit_code == 2
    [line, hint] = result.stderr.splitlines()  # one error line, then its hint
    assert "https://example.com/talk.mp4: --audio-track applies to local files and stdin" in line
    assert hint.startswith("voxcli: hint:")
    assert api_env.work_requests() == []


def test_a_url_from_a_list_with_audio_track_fails_on_its_own(api_env, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("https://example.com/talk.mp4\n")
    result = run_cli("transcribe", "--files-from", str(listing), "--audio-track", "1")
    assert result.exit_code == 2
    assert "--audio-track applies to local files and stdin" in result.stderr
    assert api_env.work_requests() == []


# -- detect-lang, split recordings, the part cache ---------------------------------------------


@pytest.mark.parametrize(("args", "hertz"), [((), LOW), (("--audio-track", "1"), HIGH)])
def test_detect_lang_samples_the_chosen_stream(api_env, clip, args, hertz):
    result = run_cli("detect-lang", str(clip), "--sample", "1", *args)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    seconds, heard_hertz, kind = sent(request)
    assert kind == "FLAC/16000/1" and seconds == pytest.approx(1.0, abs=0.02)
    assert heard_hertz == pytest.approx(hertz, abs=5)


def test_detect_lang_whole_short_stream_is_reencoded(api_env, clip):
    result = run_cli("detect-lang", str(clip), "--sample", "0", "--audio-track", "1")
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    seconds, hertz, _ = sent(request)
    assert seconds == pytest.approx(2.0, abs=0.05) and hertz == pytest.approx(HIGH, abs=5)


SPLIT = ("--split-minutes", "0.25")  # parts of about 15 s


def test_a_split_recording_is_cut_from_the_chosen_stream(api_env, tmp_path):
    video = make_tracks(tmp_path / "talk.mkv", [(3.0, LOW), (40.0, HIGH)])
    result = run_cli("transcribe", str(video), "--audio-track", "1", *SPLIT, "-f", "json")
    assert result.exit_code == 0, result.stderr
    parts = [sent(request) for request in api_env.transcription_requests()]
    assert len(parts) >= 2
    assert sum(seconds for seconds, _, _ in parts) == pytest.approx(40.0, abs=0.1)
    assert all(hertz == pytest.approx(HIGH, abs=5) for _, hertz, _ in parts)
    assert json.loads(result.stdout)["duration"] == pytest.approx(40.0, abs=0.1)


def test_the_part_cache_never_serves_one_stream_for_another(api_env, tmp_path):
    video = make_tracks(tmp_path / "talk.mkv", [(40.0, LOW), (40.0, HIGH)])

    def run(*args: str) -> list[float]:
        before = len(api_env.transcription_requests())
        result = run_cli("transcribe", str(video), *SPLIT, *args)
        assert result.exit_code == 0, result.stderr
        return [sent(r)[1] for r in api_env.transcription_requests()[before:]]

    track_1 = run("--audio-track", "1")
    assert len(track_1) >= 2 and all(h == pytest.approx(HIGH, abs=5) for h in track_1)
    assert run("--audio-track", "1") == []  # every part from the cache
    track_0 = run("--audio-track", "0")  # the same spans of another stream: sent anew
    assert len(track_0) == len(track_1) and all(h == pytest.approx(LOW, abs=5) for h in track_0)
    assert run() == []  # no --audio-track is the first stream: the same parts as track 0


# -- batch submit ------------------------------------------------------------------------------


def test_batch_submit_uploads_the_chosen_stream(api_env, clip, monkeypatch):
    api_env.batch_step_seconds = 0
    monkeypatch.chdir(clip.parent)
    result = run_cli("batch", "submit", clip.name, "-d", "out", "--audio-track", "1")
    assert result.exit_code == 0, result.output
    [upload] = [f for f in api_env.uploaded_files.values() if f.purpose == "audio"]
    seconds, hertz, _ = heard(upload.data)
    assert seconds == pytest.approx(2.0, abs=0.05) and hertz == pytest.approx(HIGH, abs=5)
    again = run_cli("batch", "submit", clip.name, "-d", "out", "--audio-track", "0")
    assert again.exit_code == 0, again.output
    assert "already submitted" not in again.stderr  # another stream: another submission
    audio = [f for f in api_env.uploaded_files.values() if f.purpose == "audio"]
    assert [round(heard(f.data)[1]) for f in audio] == [1000, 440]


def test_dry_runs_measure_the_chosen_stream(api_env, clip, monkeypatch):
    monkeypatch.chdir(clip.parent)
    for command in (("transcribe",), ("detect-lang",), ("batch", "submit", "-d", "out")):
        first = run_cli(*command, clip.name, "--dry-run")
        second = run_cli(*command, clip.name, "--dry-run", "--audio-track", "1")
        assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
        assert "0:04" in first.stdout and "0:02" in second.stdout
        missing = run_cli(*command, clip.name, "--dry-run", "--audio-track", "5")
        assert "left out:" in missing.stdout and "--audio-track 5 does not exist" in missing.stdout
    assert api_env.work_requests() == []


def _submit(api_env, tmp_path: Path, clip: Path, track: int | None):
    """Submit ``clip`` through :func:`voxcli.batch.submit.submit_batch` (the library the
    command drives) with ``track``; return the store, the result and the submission."""
    from voxcli.api import MistralApi, TranscriptionParams
    from voxcli.batch.options import BatchOptions
    from voxcli.batch.store import BatchStore
    from voxcli.batch.submit import Submission, SubmitSettings, submission_key, submit_batch
    from voxcli.batch.upload import PlannedInput
    from voxcli.config import Settings
    from voxcli.sources import Source

    options = BatchOptions(TranscriptionParams(model="voxtral-mini-latest"), "text", tmp_path)
    planned = PlannedInput(
        0, Source("file", str(clip), clip), str(clip), clip.name, tmp_path / "clip.txt", track
    )
    submission = Submission(
        options=options,
        params=options.params,
        inputs=(planned,),
        key=submission_key(options, (planned,)),
    )
    store = BatchStore(tmp_path / "state")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    api = MistralApi(Settings(api_key=TEST_API_KEY, key_origin="test", server_url=api_env.url))
    try:
        settings = SubmitSettings(temp_dir=tmp_path / "tmp", limit=1 << 30, max_requests=100)
        return store, submit_batch(store, api, submission, settings), submission
    finally:
        api.close()


def test_batch_uploads_the_chosen_stream_and_keys_the_submission_by_it(api_env, clip, tmp_path):
    store, first, submission = _submit(api_env, tmp_path, clip, 1)
    [upload] = [f for f in api_env.uploaded_files.values() if f.purpose == "audio"]
    seconds, hertz, _ = heard(upload.data)
    assert seconds == pytest.approx(2.0, abs=0.05) and hertz == pytest.approx(HIGH, abs=5)
    [entry] = first.manifest.inputs
    assert entry.audio_track == 1  # what --retry-failed reads back
    saved = json.loads((store.path(first.manifest.name) / "manifest.json").read_text())
    assert saved["inputs"][0]["audio_track"] == 1
    _, same, _ = _submit(api_env, tmp_path, clip, 1)
    assert same.already
    _, other, other_submission = _submit(api_env, tmp_path, clip, 0)
    assert not other.already and other_submission.key != submission.key
    _, default, default_submission = _submit(api_env, tmp_path, clip, None)
    assert default_submission.key not in (submission.key, other_submission.key)
    audio = [f for f in api_env.uploaded_files.values() if f.purpose == "audio"]
    assert [round(heard(f.data)[1]) for f in audio] == [1000, 440, 440]
    assert "audio_track" not in json.dumps(default.manifest.to_json()["inputs"])


def test_batch_submit_with_retry_failed_refuses_audio_track(api_env):
    result = run_cli("batch", "submit", "--retry-failed", "abc", "--audio-track", "1")
    assert result.exit_code == 2
    assert "--audio-track" in result.stderr


# -- live --------------------------------------------------------------------------------------


@pytest.fixture
def rt(api_env):
    from fake_realtime import FakeRealtime

    with FakeRealtime(api_env, segment_seconds=0.5) as realtime:
        yield realtime


def test_live_plays_the_chosen_stream_of_a_file(api_env, rt, clip):
    result = run_cli("live", str(clip), "--pace", "0", "--audio-track", "1")
    assert result.exit_code == 0, result.stderr
    [session] = rt.sessions
    samples = np.frombuffer(bytes(session.audio), dtype="<i2").astype(np.float32)
    assert len(samples) / RATE == pytest.approx(2.0, abs=0.05)
    assert pitch(samples, RATE) == pytest.approx(HIGH, abs=5)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ((), b"", "the microphone has no streams"),
        (("-",), b"\x00\x01" * 8000, "raw PCM on stdin has no streams"),
        (("CLIP", "--pace", "0"), b"", "has 2 audio streams; --audio-track 3 does not exist"),
    ],
    ids=["microphone", "raw-pcm", "missing"],
)
def test_live_refuses_what_has_no_such_stream(api_env, rt, clip, args, stdin, message):
    argv = [str(clip) if arg == "CLIP" else arg for arg in args]
    result = run_cli("live", *argv, "--audio-track", "3", stdin=stdin)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert rt.sessions == []


def test_live_takes_track_0_of_a_wav_on_stdin(api_env, rt, data_dir):
    wav = (data_dir / "speech.wav").read_bytes()
    assert run_cli("live", "-", "--audio-track", "0", stdin=wav).exit_code == 0
    result = run_cli("live", "-", "--audio-track", "1", stdin=wav)
    assert result.exit_code == 2
    assert "stdin has 1 audio stream; --audio-track 1 does not exist" in result.stderr
    assert len(rt.sessions) == 1


def test_no_temporary_file_is_left_behind(api_env, clip, temp_dir):
    assert run_cli("transcribe", str(clip), "--audio-track", "1").exit_code == 0
    assert run_cli("transcribe", str(clip), "--audio-track", "4").exit_code == 2
    assert [p for p in temp_dir.rglob("*") if p.is_file()] == []
