"""Every output from one request (issue 14): ``--dry-run`` for transcribe and detect-lang."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli
from fake_models import model_card, transcription_capabilities

DATA = Path(__file__).parent / "data"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dry_run_sends_nothing_and_prints_totals_and_cost(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    make_tone_wav(work / "long.wav", 61.0, silence_at=[(13.5, 15.5), (29.0, 31.0), (44.6, 46.4)])
    result = run_cli(
        "transcribe", "talk.wav", "long.wav", "--split-minutes", "0.25", "--dry-run",
        "--model", "voxtral-mini-2602",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert api_env.work_requests() == []  # only the model's card was read
    lines = result.stdout.splitlines()
    assert lines[0].startswith("talk.wav: 1 request, re-encoded to FLAC, at most ")
    assert lines[1].startswith("long.wav: 5 requests, re-encoded to FLAC, cut into 5 parts")
    assert "1:01 of audio" in lines[1]
    minutes = (61.0 + 2.8) / 60
    assert "as 6 request(s) to voxtral-mini-2602" in lines[2]
    assert f"{minutes:.2f} audio minutes" in lines[2]
    assert f"estimated cost ${minutes * 0.003:.4f} (at $0.003/min)" in lines[2]
    assert "no audio was sent" in lines[2]
    assert not (work / "talk.txt").exists()


def test_dry_run_needs_no_api_key(work, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")  # nothing listens
    shutil.copyfile(DATA / "speech.mp3", work / "talk.mp3")
    result = run_cli("transcribe", "talk.mp3", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "talk.mp3: 1 request, as is (MP3)" in result.stdout


def test_config_prices_override_the_built_in_ones(work, api_env, monkeypatch):
    config = work / "config.toml"
    config.write_text('[prices]\n"voxtral-mini-2602" = 0.5\nother = "cheap"\n')
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    make_tone_wav(work / "one.wav", 60.0)
    result = run_cli("transcribe", "one.wav", "--dry-run", "--model", "voxtral-mini-2602")
    assert result.exit_code == 0, result.output
    assert "estimated cost $0.5000 (at $0.5/min)" in result.stdout
    assert "prices.other must be a number" in result.stderr
    assert api_env.work_requests() == []


def test_a_model_without_a_price_has_no_cost(work, api_env):
    api_env.models["my-model"] = model_card(
        "my-model",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(),
    )
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--dry-run", "--model", "my-model")
    assert result.exit_code == 0, result.output
    assert "estimated cost unknown (no price known for my-model" in result.stdout


def test_detect_lang_dry_run_counts_the_sample(work, api_env):
    make_tone_wav(work / "long.wav", 61.0)
    result = run_cli("detect-lang", "long.wav", "--dry-run", "--model", "voxtral-mini-2602")
    assert result.exit_code == 0, result.output
    assert api_env.requests == []
    assert "its first 30 s re-encoded to FLAC" in result.stdout
    assert "as 1 request(s)" in result.stdout and "0.50 audio minutes" in result.stdout
    assert "estimated cost $0.0015" in result.stdout


def test_several_formats_one_request_one_file_each(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    result = run_cli("transcribe", "talk.wav", "-f", "srt,json", "-d", "out")
    assert result.exit_code == 0, result.output
    assert len(api_env.work_requests()) == 1
    assert sorted(p.name for p in (work / "out").iterdir()) == ["talk.json", "talk.srt"]
    # One request serves every format, so JSON gets the segments SRT asks for.
    for fmt, extra in (("srt", ()), ("json", ("--timestamps", "segment"))):
        single = run_cli("transcribe", "talk.wav", "-f", fmt, *extra, "-d", f"single-{fmt}")
        assert single.exit_code == 0, single.output
        ext = f"talk.{fmt}"
        assert (work / "out" / ext).read_bytes() == (work / f"single-{fmt}" / ext).read_bytes()


def test_verbose_cue_notes_name_their_format_when_there_are_several(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    result = run_cli("transcribe", "talk.wav", "-f", "srt,vtt", "-d", "out", "-v")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if " cue" in line]
    assert [note.split(":")[1] for note in notes] == [" talk.wav (srt)", " talk.wav (vtt)"]


def test_several_formats_with_aliases_and_beside_the_input(work, api_env):
    (work / "in").mkdir()
    shutil.copyfile(DATA / "speech.wav", work / "in" / "talk.wav")
    result = run_cli("transcribe", "in/talk.wav", "-f", "txt, vtt", "-d", ".")
    assert result.exit_code == 0, result.output
    assert (work / "in" / "talk.txt").is_file() and (work / "in" / "talk.vtt").is_file()


def test_several_formats_need_an_output_dir(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    result = run_cli("transcribe", "talk.wav", "-f", "srt,json")
    assert result.exit_code == 2 and "needs --output-dir" in result.stderr
    bad = run_cli("transcribe", "talk.wav", "-f", "srt,docx", "-d", "out")
    assert bad.exit_code == 2 and "docx" in bad.stderr
    assert api_env.requests == []


def test_skip_existing_with_several_formats_needs_every_output(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    (work / "out").mkdir()
    (work / "out" / "talk.srt").write_text("old\n")
    args = ("transcribe", "talk.wav", "-f", "srt,json", "-d", "out", "--skip-existing")
    first = run_cli(*args)
    assert first.exit_code == 0, first.output
    assert len(api_env.work_requests()) == 1  # talk.json was missing: done again
    assert (work / "out" / "talk.srt").read_text() != "old\n"
    second = run_cli(*args)
    assert second.exit_code == 0, second.output
    assert len(api_env.work_requests()) == 1  # both exist: skipped


def test_name_template_with_the_detected_language(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    result = run_cli(
        "transcribe", "talk.wav", "-f", "srt", "-d", "out", "--name", "{stem}.{lang}.{ext}"
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in (work / "out").iterdir()] == ["talk.en.srt"]


def test_name_template_with_the_given_language_and_every_field(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "talk.wav")
    template = "{stem}-{lang}-{model}-{date}.{ext}"
    result = run_cli(
        "transcribe", "talk.wav", "-f", "json,txt", "-d", "out", "--name", template,
        "--language", "fr", "--model", "voxtral-mini-2602",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (work / "out").iterdir())
    assert len(names) == 2 and names[0].startswith("talk-fr-voxtral-mini-2602-2")
    assert names[0].endswith(".json") and names[1].endswith(".txt")


def test_name_template_collisions_and_mistakes(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "a.wav")
    shutil.copyfile(DATA / "speech.wav", work / "b.wav")
    result = run_cli("transcribe", "a.wav", "b.wav", "-d", "out", "--name", "same.{ext}")
    assert result.exit_code == 1 and "would both be written to" in result.stderr
    late = run_cli("transcribe", "a.wav", "b.wav", "-d", "late", "--name", "x.{lang}.{ext}")
    assert late.exit_code == 1 and "would both be written to" in late.stderr
    assert len(list((work / "late").iterdir())) == 1
    for template, message in (
        ("{stem}.{color}", "unknown field {color}"),
        ("sub/{stem}.{ext}", "without a directory"),
        ("{stem}", "needs {ext}"),
    ):
        bad = run_cli("transcribe", "a.wav", "-f", "srt,json", "-d", "o", "--name", template)
        assert bad.exit_code == 2 and message in bad.stderr, bad.stderr
    assert run_cli("transcribe", "a.wav", "--name", "{stem}.{ext}").exit_code == 2
    skip = run_cli(
        "transcribe", "a.wav", "-d", "o", "--skip-existing", "--name", "{stem}.{lang}.{ext}"
    )
    assert skip.exit_code == 2 and "--language" in skip.stderr
