"""A many-file run against an unreachable server stops starting inputs after three in a
row could not reach it (issue 15, item 3)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from cli_runner import run_cli

DATA = Path(__file__).parent / "data"


def test_an_unreachable_server_stops_the_run_after_three_failures_in_a_row(
    api_env, tmp_path, monkeypatch
):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(8):
        (inputs / f"clip{n}.wav").write_bytes((DATA / "speech.wav").read_bytes())
    assert run_cli("models").exit_code == 0  # the model card is cached: checks pass offline
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api_env.stop()
    monkeypatch.setenv("MISTRAL_SERVER_URL", f"http://127.0.0.1:{port}")
    report = tmp_path / "report.jsonl"
    started = time.monotonic()
    result = run_cli(
        "transcribe", "-j", "1", "--retries", "0", "-r", str(inputs), "-d", str(tmp_path / "out"),
        "--report", str(report),
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    statuses = [json.loads(line)["status"] for line in report.read_text().splitlines()]
    assert statuses.count("failed") == 3 and statuses.count("cancelled") == 5
    assert "stopped early, 5 not run (the API could not be reached)" in result.stderr
