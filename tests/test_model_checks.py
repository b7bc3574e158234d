"""Requests checked against the model's card before anything is sent (issue 11), end to end
through the real SDK against the fake server's catalogue (``fake_models.default_catalogue``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli
from fake_models import model_card, transcription_capabilities

DATA = Path(__file__).parent / "data"
WAV = str(DATA / "speech.wav")


def _no_work_sent(server) -> bool:
    return server.work_requests() == []


@pytest.mark.parametrize(
    ("args", "lacks", "hint"),
    [
        (("-t", "word"), "cannot do word timestamps", "use -m voxtral-mini-latest"),
        (("-f", "vtt", "--highlight-words"), "cannot do word timestamps", "voxtral-mini-2602"),
    ],
)
def test_word_timestamps_on_voxtral_3_are_refused_before_sending(api_env, args, lacks, hint):
    result = run_cli("transcribe", WAV, *args)
    assert result.exit_code == 2
    first, second = result.stderr.splitlines()
    assert first.startswith("voxcli: error: model voxtral-mini-transcribe-latest")
    assert lacks in first and "segment timestamps" in first  # what it does support
    assert second.startswith("voxcli: hint: word timestamps:") and hint in second
    assert _no_work_sent(api_env)


def test_features_a_model_lacks_are_refused_with_a_capable_model_named(api_env):
    api_env.models["voxtral-plain-1"] = model_card(
        "voxtral-plain-1",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(
            timestamp_granularities=["segment"], languages=["en"]
        ),
        max_context_length=65536,
    )
    for args, lacks in [
        (("--diarize",), "diarization"),
        (("--bias", "Mistral"), "context bias"),
        (("-l", "fr"), "language fr"),
    ]:
        result = run_cli("transcribe", WAV, "-m", "voxtral-plain-1", *args)
        assert result.exit_code == 2, result.stderr
        assert f"model voxtral-plain-1 cannot do {lacks}" in result.stderr
        assert "hint:" in result.stderr and "-m voxtral-mini-transcribe-latest" in result.stderr
    assert _no_work_sent(api_env)


def test_a_transcription_only_model_is_refused_for_chat(api_env):
    result = run_cli("chat", WAV, "-p", "Summarize", "-m", "voxtral-mini-transcribe-latest")
    assert result.exit_code == 2
    assert "model voxtral-mini-transcribe-latest" in result.stderr
    assert "-m voxtral-small-latest" in result.stderr
    assert _no_work_sent(api_env)


def test_a_chat_model_is_refused_for_transcription(api_env):
    result = run_cli("transcribe", WAV, "-m", "voxtral-small-latest")
    assert result.exit_code == 2
    assert "voxtral-small-latest" in result.stderr.splitlines()[0]
    assert _no_work_sent(api_env)


def test_a_retired_model_is_exit_2_naming_the_default_and_voxcli_models(api_env):
    result = run_cli("chat", WAV, "-p", "Hi", "-m", "voxtral-mini-2507")
    assert result.exit_code == 2
    assert "unknown model voxtral-mini-2507" in result.stderr
    assert "-m voxtral-small-latest" in result.stderr and "voxcli models" in result.stderr
    assert _no_work_sent(api_env)


def test_a_deprecated_model_gets_one_warning_with_date_and_replacement(api_env):
    api_env.models["voxtral-old-1"] = model_card(
        "voxtral-old-1",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(timestamp_granularities=["segment"]),
        max_context_length=65536,
        deprecation="2027-01-31T00:00:00Z",
        deprecation_replacement_model="voxtral-mini-transcribe-3-0",
    )
    api_env.unlisted_models.add("voxtral-old-1")  # the fake's transcription accepts it
    result = run_cli("transcribe", WAV, "-m", "voxtral-old-1")
    assert result.exit_code == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert warning == (
        "voxcli: warning: model voxtral-old-1 is deprecated and retires on 2027-01-31; "
        "use -m voxtral-mini-transcribe-3-0 instead"
    )
    assert run_cli("transcribe", WAV, "-m", "voxtral-old-1", "-q").stderr == ""


def test_the_model_list_is_fetched_once_and_then_read_from_the_cache(api_env, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(10):
        (inputs / f"clip{n}.wav").write_bytes(Path(WAV).read_bytes())
    result = run_cli("transcribe", "-r", str(inputs), "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    for _ in range(3):
        assert run_cli("detect-lang", WAV).exit_code == 0
    assert len(api_env.transcription_requests()) == 13
    assert len(api_env.models_requests()) == 1


def test_a_model_refusal_from_the_api_refreshes_the_cache(api_env):
    assert run_cli("transcribe", WAV).exit_code == 0  # caches the catalogue
    # The server changes its mind (the cached card still says segment timestamps are fine).
    card = api_env.models["voxtral-mini-transcribe-3-0"]
    card["audio_transcription_capabilities"]["timestamp_granularities"] = []
    result = run_cli("transcribe", WAV, "-f", "srt")
    assert result.exit_code == 2
    assert "cannot do segment timestamps" in result.stderr
    assert len(api_env.models_requests()) == 2  # refreshed after the 400
    again = run_cli("transcribe", WAV, "-f", "srt")
    assert again.exit_code == 2  # now refused from the refreshed cache, nothing sent
    assert len(api_env.transcription_requests()) == 2


def test_without_a_models_endpoint_the_request_goes_and_its_400_is_translated(api_env):
    api_env.models_endpoint = False
    ok = run_cli("transcribe", WAV, "-v")
    assert ok.exit_code == 0, ok.stderr
    assert "not checked" in ok.stderr
    result = run_cli("transcribe", WAV, "-t", "word")
    assert result.exit_code == 2
    assert "voxtral-mini-transcribe-latest" in result.stderr
    assert "word timestamps" in result.stderr and "Traceback" not in result.stderr
    assert len(api_env.transcription_requests()) == 2  # it was sent, and refused


def test_a_recording_longer_than_the_context_is_split_to_fit_and_merged(api_env, tmp_path):
    # Two hours with a quiet second every two minutes; FLAC keeps the file small.
    quiet = [(t, t + 1.0) for t in range(120, 7200, 120)]
    long = make_tone_wav(tmp_path / "two-hours.flac", 7200, samplerate=8000, silence_at=quiet)
    result = run_cli("transcribe", str(long), "-v", "-f", "json", "-t", "segment", "-j", "2")
    assert result.exit_code == 0, result.stderr
    assert "one voxtral-mini-transcribe-latest request holds about 1:05:" in result.stderr
    requests = api_env.transcription_requests()
    assert len(requests) == 2
    assert all(r.audio_seconds is not None and r.audio_seconds < 65536 / 12.5 for r in requests)
    data = json.loads(result.stdout)
    assert data["duration"] == pytest.approx(7200, abs=1)
    ends = [segment["end"] for segment in data["segments"]]
    assert ends == sorted(ends) and ends[-1] > 3600  # the second part's times are offset
