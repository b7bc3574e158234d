"""Shared fixtures: a clean environment for every test, the fake Mistral server, samples.

Import helpers directly (``tests/`` is on ``sys.path`` under pytest)::

    from fake_mistral import TEST_API_KEY, FakeMistral
    from audio_factory import make_tone_wav
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Make ``fake_mistral`` and ``audio_factory`` importable as top-level modules whatever the
# import mode or package layout of ``tests/`` (pytest only adds this dir in rootdir mode).
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_mistral import TEST_API_KEY, FakeMistral

__all__ = ["DATA_DIR", "TEST_API_KEY"]

DATA_DIR = Path(__file__).resolve().parent / "data"

_REMOVED_VARS = {
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
}


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user config, key, server URL, colour setting or proxy leaks into a test.

    Removes every ``MISTRAL_*`` variable (MISTRAL_API_KEY, MISTRAL_SERVER_URL, MISTRAL_DEBUG,
    and MISTRAL_SA_TOKEN_PATH, which the SDK would otherwise prefer over the API key), every
    ``VOXCLI_*`` variable, colour switches and proxies; points HOME and the XDG dirs into
    ``tmp_path/home``; pins ``COLUMNS=120`` and ``TERM=dumb``.
    """
    for name in list(os.environ):
        if name.startswith(("MISTRAL_", "VOXCLI_")) or name in _REMOVED_VARS:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake_server() -> Iterator[FakeMistral]:
    """A running :class:`FakeMistral`, stopped after the test."""
    with FakeMistral() as server:
        yield server


@pytest.fixture
def api_env(fake_server: FakeMistral, monkeypatch: pytest.MonkeyPatch) -> FakeMistral:
    """``MISTRAL_API_KEY=TEST_API_KEY`` and ``MISTRAL_SERVER_URL`` pointing at the fake."""
    monkeypatch.setenv("MISTRAL_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("MISTRAL_SERVER_URL", fake_server.url)
    return fake_server


@pytest.fixture
def data_dir() -> Path:
    """``tests/data`` (read-only: copy samples to ``tmp_path`` before changing them)."""
    return DATA_DIR


@pytest.fixture
def wav_file() -> Path:
    """~2.8 s of espeak-ng speech, 16 kHz mono PCM_16 WAV."""
    return DATA_DIR / "speech.wav"


@pytest.fixture
def flac_file() -> Path:
    """The same speech as FLAC."""
    return DATA_DIR / "speech.flac"


@pytest.fixture
def mp3_file() -> Path:
    """The same speech as MP3."""
    return DATA_DIR / "speech.mp3"


@pytest.fixture
def ogg_file() -> Path:
    """The same speech as Ogg Vorbis."""
    return DATA_DIR / "speech.ogg"


@pytest.fixture
def not_audio_file() -> Path:
    """A text file named ``not_audio.wav``."""
    return DATA_DIR / "not_audio.wav"


@pytest.fixture
def empty_wav_file() -> Path:
    """A 0 byte ``empty.wav``."""
    return DATA_DIR / "empty.wav"


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where voxcli's temporary files go during the test (must be empty afterwards)."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path
