"""File names a shell can hand us: spaces, unicode, and bytes that are not UTF-8."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_runner import run_cli

WAV = Path(__file__).parent / "data" / "speech.wav"


@pytest.mark.parametrize("upload", ["auto", "original"])
def test_non_utf8_file_names_work(api_env, tmp_path, upload):
    source = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9 talk.wav"))
    shutil.copy(WAV, source)
    target = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/out\xff.srt"))
    result = run_cli("transcribe", str(source), "--upload", upload, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith("1\n")
    [request] = api_env.transcription_requests()
    assert request.files["file"][0].filename.startswith("caf\ufffd talk.")


def test_unicode_and_spaces_in_names(api_env, tmp_path):
    source = tmp_path / "réunion d'équipe ☕.flac"
    shutil.copy(WAV.with_suffix(".flac"), source)
    result = run_cli("transcribe", str(source), "-d", str(tmp_path / "out"), "-f", "vtt")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "réunion d'équipe ☕.vtt").is_file()
