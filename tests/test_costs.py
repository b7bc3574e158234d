"""Estimated costs (issue 14): on ``--report`` lines, in the ``-v`` summary, in the dry runs
of ``transcribe`` and ``batch submit``; and dry runs that plan by the model's card."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli
from fake_models import model_card, transcription_capabilities

from voxcli.env import Limits
from voxcli.pricing import BATCH_PRICE_FACTOR, PriceList

DATA = Path(__file__).parent / "data"
SILENCES = [(13.5, 15.5), (29.0, 31.0), (44.6, 46.4)]
SMALL_MODEL = "voxtral-small-context-test"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def add_small_context_model(api_env) -> None:
    """A model whose context holds about 40 s of audio: (1,684 - 1,024) / 16.5."""
    api_env.models[SMALL_MODEL] = model_card(
        SMALL_MODEL,
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(timestamp_granularities=["segment"]),
        max_context_length=1684,
    )


def test_price_table_and_batch_factor():
    listed = PriceList({})
    assert listed.per_minute("voxtral-mini-2602") == 0.003
    assert listed.per_minute("voxtral-mini-transcribe-realtime-2602") == 0.006
    assert PriceList({"voxtral-mini-2602": 0.01}).per_minute("voxtral-mini-2602") == 0.01
    assert listed.per_minute("nope") is None and listed.per_minute(None) is None
    batch = PriceList({}, factor=BATCH_PRICE_FACTOR)
    assert batch.per_minute("voxtral-mini-2602") == pytest.approx(0.0015)
    assert batch.cost(120.0, "nope", "voxtral-mini-2602") == pytest.approx(0.003)
    assert batch.cost(None, "voxtral-mini-2602") is None
    assert PriceList({}).cost(60.0, "nope") is None


def test_report_lines_and_verbose_summary_carry_the_estimated_cost(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "a.wav")
    make_tone_wav(work / "b.wav", 61.0, silence_at=SILENCES)
    result = run_cli(
        "transcribe", "a.wav", "b.wav", "-d", "out", "--report", "r.jsonl", "-v",
        "--model", "voxtral-mini-2602", "--split-minutes", "0.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = sorted(records(work / "r.jsonl"), key=lambda r: r["source"])
    billed = [r["usage"]["prompt_audio_seconds"] for r in lines]
    assert billed[1] >= 61  # the parts' usage, summed
    for record, seconds in zip(lines, billed, strict=True):
        assert "extra" not in record["usage"]  # the API's usage object, flat as in JSON
        assert record["model"] == "voxtral-mini-2602"
        assert record["estimated_cost_usd"] == round(seconds / 60 * 0.003, 6)
    total = sum(billed) / 60 * 0.003
    assert re.search(rf"2 done, .*audio minutes \(about \${total:.4f}\) in ", result.stderr)


def test_a_model_without_a_price_has_a_null_cost_and_none_in_the_summary(
    work, api_env, monkeypatch
):
    api_env.models["my-model"] = model_card(
        "my-model",
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(),
        max_context_length=65536,
    )
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--model", "my-model", "--report", "r.jsonl", "-v")
    assert result.exit_code == 0, result.output
    [record] = records(work / "r.jsonl")
    assert record["estimated_cost_usd"] is None and record["model"] == "my-model"
    assert "about $" not in result.stderr

    config = work / "config.toml"
    config.write_text('[prices]\n"my-model" = 0.6\n')
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    again = run_cli("transcribe", "one.wav", "--model", "my-model", "--report", "r.jsonl", "-v")
    assert again.exit_code == 0, again.output
    assert records(work / "r.jsonl")[-1]["estimated_cost_usd"] == pytest.approx(0.06)
    assert "(about $0.0600)" in again.stderr


def test_the_dry_run_plans_the_parts_the_run_sends_by_the_models_context(work, api_env):
    add_small_context_model(api_env)
    make_tone_wav(work / "long.wav", 61.0, silence_at=SILENCES)
    dry = run_cli("transcribe", "long.wav", "--dry-run", "--model", SMALL_MODEL)
    assert dry.exit_code == 0, dry.output
    assert api_env.work_requests() == []
    planned = int(re.search(r"as (\d+) request\(s\)", dry.stdout).group(1))
    assert planned >= 2 and f"cut into {planned} parts" in dry.stdout
    assert "no audio was sent" in dry.stdout

    run = run_cli("transcribe", "long.wav", "--model", SMALL_MODEL)
    assert run.exit_code == 0, run.output
    assert len(api_env.transcription_requests()) == planned


def test_the_dry_run_reads_a_cached_card_without_a_key(work, api_env, monkeypatch):
    add_small_context_model(api_env)
    make_tone_wav(work / "long.wav", 61.0, silence_at=SILENCES)
    assert run_cli("models").exit_code == 0  # fills the cache for this server
    monkeypatch.delenv("MISTRAL_API_KEY")
    before = len(api_env.requests)
    dry = run_cli("transcribe", "long.wav", "--dry-run", "--model", SMALL_MODEL)
    assert dry.exit_code == 0, dry.output
    assert len(api_env.requests) == before and "not checked" not in dry.stderr
    assert "cut into" in dry.stdout


def test_without_a_card_the_dry_run_says_what_it_could_not_plan(work, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://127.0.0.1:9")  # nothing listens
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "not checked: the model list is unavailable (no Mistral API key found)" in (
        result.stderr
    )
    assert "not by what one request holds" in result.stderr
    assert "one.wav: 1 request" in result.stdout


def test_the_dry_run_refuses_what_the_run_would_refuse(work, api_env):
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--dry-run", "-t", "word")
    assert result.exit_code == 2
    assert "word" in result.stderr and "Traceback" not in result.stderr
    assert api_env.work_requests() == []


def test_an_unreachable_server_costs_the_dry_run_one_attempt(work, api_env):
    api_env.fail_next(503, path="/v1/models", times=10)
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "not checked" in result.stderr
    assert len(api_env.models_requests()) == 1


def test_batch_dry_run_shows_the_cost_at_batch_prices(work, api_env):
    add_small_context_model(api_env)
    (work / "in").mkdir()
    make_tone_wav(work / "in" / "long.wav", 61.0, silence_at=SILENCES)
    make_tone_wav(work / "in" / "short.wav", 30.0)
    dry = run_cli(
        "batch", "submit", "-r", "in", "-d", "out", "--dry-run", "--model", "voxtral-mini-2602"
    )
    assert dry.exit_code == 0, dry.output
    total = 91.0 / 60 * 0.003 * BATCH_PRICE_FACTOR
    assert f"estimated cost ${total:.4f} (at $0.0015/min, batch price)" in dry.stdout
    assert f"about ${30 / 60 * 0.0015:.4f}" in dry.stdout
    assert "nothing was uploaded or submitted" in dry.stdout
    small = run_cli("batch", "submit", "-r", "in", "-d", "out", "--dry-run", "--model", SMALL_MODEL)
    assert small.exit_code == 0, small.output
    assert "in/long.wav -> " in small.stdout and "(cut into parts)" in small.stdout
    assert f"no price known for {SMALL_MODEL}" in small.stdout
    assert api_env.work_requests() == []


def test_batch_collect_reports_the_cost_at_batch_prices(work, api_env):
    api_env.batch_step_seconds = 0
    (work / "in").mkdir()
    shutil.copyfile(DATA / "speech.wav", work / "in" / "a.wav")
    make_tone_wav(work / "in" / "b.wav", 30.0)
    submit = run_cli("batch", "submit", "-r", "in", "-d", "out", "--model", "voxtral-mini-2602")
    assert submit.exit_code == 0, submit.output
    collect = run_cli("batch", "collect", "--report", "r.jsonl", "-v")
    assert collect.exit_code == 0, collect.output
    lines = records(work / "r.jsonl")
    assert len(lines) == 2
    for record in lines:
        seconds = record["usage"]["prompt_audio_seconds"]
        assert record["model"] == "voxtral-mini-2602"
        assert record["estimated_cost_usd"] == round(seconds / 60 * 0.0015, 6)
    total = sum(r["usage"]["prompt_audio_seconds"] for r in lines) / 60 * 0.0015
    assert f"(about ${total:.4f})" in collect.stderr


def test_a_price_set_under_the_models_id_counts_for_its_alias(work, api_env, monkeypatch):
    config = work / "config.toml"
    config.write_text('[prices]\n"voxtral-mini-transcribe-3-0" = 0.6\n')
    monkeypatch.setenv("VOXCLI_CONFIG", str(config))
    make_tone_wav(work / "one.wav", 6.0)  # default model: voxtral-mini-transcribe-latest
    dry = run_cli("transcribe", "one.wav", "--dry-run")
    assert "(at $0.6/min)" in dry.stdout, dry.output
    run = run_cli("transcribe", "one.wav", "--report", "r.jsonl", "-v")
    assert run.exit_code == 0, run.output
    [record] = records(work / "r.jsonl")
    seconds = record["usage"]["prompt_audio_seconds"]
    assert record["estimated_cost_usd"] == round(seconds / 60 * 0.6, 6)
    api_env.batch_step_seconds = 0
    (work / "in").mkdir()
    make_tone_wav(work / "in" / "b.wav", 6.0)
    assert run_cli("batch", "submit", "in/b.wav", "-d", "out").exit_code == 0
    collect = run_cli("batch", "collect", "--report", "b.jsonl")
    assert collect.exit_code == 0, collect.output
    [batch] = records(work / "b.jsonl")
    assert batch["estimated_cost_usd"] == round(seconds / 60 * 0.3, 6)  # batch: half


def test_the_dry_run_shows_what_a_run_would_skip(work, api_env):
    (work / "in").mkdir()
    make_tone_wav(work / "in" / "done.wav", 6.0)
    make_tone_wav(work / "in" / "new.wav", 6.0)
    old = os.stat(work / "in" / "done.wav").st_mtime - 3600
    os.utime(work / "in" / "done.wav", (old, old))
    (work / "out").mkdir()
    (work / "out" / "done.txt").write_text("earlier\n")
    dry = run_cli(
        "transcribe", "-r", "in", "-d", "out", "--skip-existing", "--dry-run", limits=Limits()
    )
    assert dry.exit_code == 0, dry.output
    assert "in/done.wav: skipped, " in dry.stdout and "done.txt exists" in dry.stdout
    assert "in/new.wav: skipped, modified 0 s ago (--min-age 10 s)" in dry.stdout
    assert "would send 0 input(s) as 0 request(s)" in dry.stdout
    assert "; 2 skipped; no audio was sent" in dry.stdout


def test_the_dry_run_waits_for_the_model_list_at_most_its_limit(work, api_env, monkeypatch):
    monkeypatch.setattr("voxcli.commands.modelcheck.DRY_RUN_LOOKUP_SECONDS", 0.5)
    api_env.slow_next(30.0, path="/v1/models")
    make_tone_wav(work / "one.wav", 6.0)
    result = run_cli("transcribe", "one.wav", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "not checked" in result.stderr and "one.wav: 1 request" in result.stdout
    assert len(api_env.models_requests()) == 1  # no retry


def test_the_dry_run_uses_an_expired_model_list_when_it_cannot_read_a_new_one(
    work, api_env, monkeypatch
):
    add_small_context_model(api_env)
    make_tone_wav(work / "long.wav", 61.0, silence_at=SILENCES)
    assert run_cli("models").exit_code == 0
    [cache] = (Path(os.environ["XDG_CACHE_HOME"]) / "voxcli" / "models").glob("*.json")
    entry = json.loads(cache.read_text())
    entry["fetched_at"] -= 3 * 24 * 3600
    cache.write_text(json.dumps(entry))
    monkeypatch.delenv("MISTRAL_API_KEY")
    dry = run_cli("transcribe", "long.wav", "--dry-run", "--model", SMALL_MODEL)
    assert dry.exit_code == 0, dry.output
    assert "not checked" not in dry.stderr and "cut into" in dry.stdout
