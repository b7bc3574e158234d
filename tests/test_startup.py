"""--help, --version and completion stay instant: no SDK, numpy or soundfile imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("mistralai", "numpy", "soundfile", "soxr", "httpx2")

PROBE = """
import sys
from voxcli.cli import run
code = run({argv!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')
sys.exit(code)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["transcribe", "--help"],
        [],
        ["chat", "--help"],
        ["detect-lang", "--help"],
    ],
    ids=["help", "version", "transcribe-help", "no-args", "chat-help", "detect-lang-help"],
)
def test_help_and_version_do_not_import_heavy_modules(argv):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 2), result.stderr
    assert "HEAVY=\n" in result.stderr, result.stderr
    assert "voxcli" in result.stdout or "Usage" in result.stdout


def test_console_script_and_module_entry_points():
    result = subprocess.run(
        [sys.executable, "-m", "voxcli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("voxcli ")
