"""``--speaker NAME=PATH`` (speaker references) and ``voxcli models``, end to end through the
real SDK against the fake server."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
import soundfile
from audio_factory import make_tone_wav
from cli_runner import run_cli

DATA = Path(__file__).parent / "data"
WAV = str(DATA / "speech.wav")


@pytest.fixture
def voices(tmp_path: Path) -> dict[str, Path]:
    """Two reference clips of valid length (5 s and 4 s, 44.1 kHz stereo to be re-encoded)."""
    return {
        "Alice": make_tone_wav(tmp_path / "alice.wav", 5.0, samplerate=44100, channels=2),
        "Bob": make_tone_wav(tmp_path / "bob.flac", 4.0),
    }


def test_speaker_references_are_sent_as_one_json_part_and_label_every_format(
    api_env, voices, tmp_path
):
    refs = [f"--speaker={name}={path}" for name, path in voices.items()]
    for fmt in ("json", "srt", "vtt"):
        result = run_cli("transcribe", WAV, "--diarize", *refs, "-f", fmt)
        assert result.exit_code == 0, result.stderr
        if fmt == "json":
            speakers = {s["speaker"] for s in json.loads(result.stdout)["segments"]}
        else:
            speakers = set(re.findall(r"(?:^|\[|<v )(Alice|Bob)\b", result.stdout, re.M))
        assert speakers == {"Alice", "Bob"}, result.stdout
    request = api_env.transcription_requests()[0]
    sent = request.speaker_references
    assert sent is not None and list(sent) == ["Alice", "Bob"]
    alice = soundfile.info(io.BytesIO(base64.b64decode(sent["Alice"])))
    assert (alice.format, alice.samplerate, alice.channels) == ("FLAC", 16000, 1)
    assert alice.duration == pytest.approx(5.0, abs=0.01)
    assert request.field("diarize") == "true"


def test_a_url_source_with_references_is_sent_as_multipart(api_env, voices):
    ref = f"Alice={voices['Alice']}"
    result = run_cli("transcribe", "https://example.com/talk.mp3", "--diarize", "--speaker", ref)
    assert result.exit_code == 0, result.stderr
    [request] = api_env.transcription_requests()
    assert request.field("file_url") == "https://example.com/talk.mp3"
    assert list(request.speaker_references or {}) == ["Alice"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--speaker", "Alice=a.wav"), "--speaker needs --diarize"),
        (("--diarize", "--speaker", "Alice"), "--speaker takes NAME=PATH"),
        (("--diarize", "--speaker", "=a.wav"), "--speaker takes NAME=PATH"),
        (("--diarize", "--speaker", "A=a.wav", "--speaker", "A=b.wav"), "given twice"),
        (
            ("--diarize", *[a for n in range(9) for a in ("--speaker", f"S{n}=x.wav")]),
            "at most 8",
        ),
    ],
)
def test_speaker_flag_rules_are_usage_errors_before_anything_is_read(api_env, args, message):
    result = run_cli("transcribe", WAV, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert api_env.requests == []


@pytest.mark.parametrize(("seconds", "word"), [(2.0, "2.0 s long"), (16.0, "16.0 s long")])
def test_a_reference_clip_outside_3_to_15_seconds_is_refused_locally(
    api_env, tmp_path, seconds, word
):
    clip = make_tone_wav(tmp_path / "clip.wav", seconds)
    result = run_cli("transcribe", WAV, "--diarize", "--speaker", f"Alice={clip}")
    assert result.exit_code == 2
    assert "--speaker Alice" in result.stderr and word in result.stderr
    assert "3 to 15 s" in result.stderr
    assert api_env.requests == []


def test_a_missing_reference_clip_is_an_input_error(api_env, tmp_path):
    result = run_cli("transcribe", WAV, "--diarize", "--speaker", f"Al={tmp_path / 'no.wav'}")
    assert result.exit_code == 2
    assert "--speaker Al: no such file" in result.stderr


def test_split_recordings_carry_the_references_to_every_part_without_a_warning(
    api_env, voices, tmp_path
):
    long = make_tone_wav(tmp_path / "long.wav", 40.0, silence_at=[(14, 16), (29, 31)])
    refs = [f"--speaker={name}={path}" for name, path in voices.items()]
    result = run_cli(
        "transcribe", str(long), "--diarize", *refs, "--split-minutes", "0.25", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert "speaker labels restart" not in result.stderr
    requests = api_env.transcription_requests()
    assert len(requests) >= 2
    assert all(list(r.speaker_references or {}) == ["Alice", "Bob"] for r in requests)


def test_models_lists_audio_models_one_line_each(api_env):
    result = run_cli("models")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["MODEL", "ALIASES", "USE"]
    by_id = {row.split()[0]: row for row in rows}
    assert "mistral-small-2506" not in by_id  # no audio
    assert "segment,word" in by_id["voxtral-mini-2602"]
    assert "≈ 1 h 5 min" in by_id["voxtral-mini-transcribe-3-0"]
    deprecated = by_id["voxtral-mini-transcribe-realtime-2602"]
    assert "2027-03-31 → voxtral-mini-transcribe-realtime-3-0" in deprecated
    assert "chat" in by_id["voxtral-small-2507"]


def test_models_json_all_includes_every_model_and_refreshes_the_cache(api_env):
    assert run_cli("transcribe", WAV).exit_code == 0  # fills the cache
    result = run_cli("models", "--all", "-f", "json")
    assert result.exit_code == 0, result.stderr
    models = {m["id"]: m for m in json.loads(result.stdout)}
    assert "mistral-small-2506" in models and models["mistral-small-2506"]["audio"] is False
    assert models["voxtral-mini-transcribe-3-0"]["timestamp_granularities"] == ["segment"]
    assert len(api_env.models_requests()) == 2  # voxcli models always asks the server


def test_models_without_a_models_endpoint_is_a_clear_failure(api_env):
    api_env.models_endpoint = False
    result = run_cli("models")
    assert result.exit_code == 1
    assert result.stderr.startswith("voxcli: error: ") and "404" in result.stderr
    assert "Traceback" not in result.stderr
