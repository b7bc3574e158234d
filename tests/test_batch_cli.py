"""``voxcli batch`` end to end, in-process, through the real SDK against the fake server:
submit, status, collect (byte for byte what ``transcribe`` writes), parts, failures and
retries, cancelled / failed / timed-out jobs, the per-job limit, refusals, manifests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from audio_factory import make_tone_wav
from cli_runner import run_cli

from voxcli.env import Limits

DATA = Path(__file__).parent / "data"
SILENCES = [(13.5, 15.5), (29.0, 31.0), (44.6, 46.4)]


@pytest.fixture
def work(tmp_path, monkeypatch, api_env) -> Path:
    """A working directory with three short recordings under ``in/``; jobs finish at the
    first look (tests about running jobs set ``batch_step_seconds`` themselves)."""
    api_env.batch_step_seconds = 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    shutil.copyfile(DATA / "speech.wav", tmp_path / "in" / "a.wav")
    shutil.copyfile(DATA / "speech.mp3", tmp_path / "in" / "sub" / "b.mp3")
    shutil.copyfile(DATA / "speech.flac", tmp_path / "in" / "c.flac")
    return tmp_path


def batches() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "voxcli" / "batches"


def manifest(name: str) -> dict:
    return json.loads((batches() / name / "manifest.json").read_text())


def submitted(result) -> tuple[str, list[str]]:
    """The batch name and job ids ``batch submit`` printed."""
    assert result.exit_code == 0, result.output
    pairs = [line.split() for line in result.stdout.splitlines()]
    assert pairs and all(len(p) == 2 and p[0] == pairs[0][0] for p in pairs), result.stdout
    return pairs[0][0], [p[1] for p in pairs]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def report(path: Path) -> list[dict]:
    """The report's records (none when it was never written)."""
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def custom_ids(name: str) -> dict[str, list[str]]:
    return {e["source"]: [r["custom_id"] for r in e["requests"]] for e in manifest(name)["inputs"]}


@pytest.mark.parametrize(
    ("options", "ext"),
    [
        (("-f", "srt"), "srt"),
        (("-f", "json", "-t", "segment"), "json"),
        (("-f", "vtt", "--diarize"), "vtt"),
        ((), "txt"),
    ],
    ids=["srt", "json", "vtt-diarize", "text"],
)
def test_submit_status_collect_writes_what_transcribe_writes(work, api_env, options, ext):
    name, jobs = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", *options))
    assert len(jobs) == 1
    status = run_cli("batch", "status", "-f", "json")
    assert status.exit_code == 0, status.output
    [record] = json.loads(status.stdout)
    assert (record["batch"], record["job"], record["total"]) == (name, jobs[0], 3)

    collect = run_cli("batch", "collect")
    assert collect.exit_code == 0, collect.output
    direct = run_cli("transcribe", "-r", "in", "-d", "direct", *options)
    assert direct.exit_code == 0, direct.output
    assert files(work / "out") == files(work / "direct")
    assert sorted(files(work / "out")) == [f"a.{ext}", f"c.{ext}", f"sub/b.{ext}"]


def test_audio_is_uploaded_prepared_with_an_expiry_and_deleted_after_collect(work, api_env):
    name, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    uploads = {f.filename: f for f in api_env.uploaded_files.values()}
    assert sorted(uploads) == ["a.flac", "b.mp3", "c.flac"]  # WAV sent as 16 kHz FLAC
    assert {(f.purpose, f.expiry) for f in uploads.values()} == {("audio", 48)}
    job = api_env.batch_jobs[job_id]
    assert job.model == "voxtral-mini-transcribe-latest" and job.timeout_hours == 24
    assert job.metadata["voxcli_batch"] == name and job.metadata["voxcli_format"] == "text"
    assert [line.body["file_id"] for line in job.lines] == [
        e["requests"][0]["file_id"] for e in manifest(name)["inputs"]
    ]
    uploaded_ids = set(api_env.uploaded_files)
    assert run_cli("batch", "collect").exit_code == 0
    assert uploaded_ids <= set(api_env.deleted_file_ids)
    assert (batches() / name / f"collected-{job_id}").exists()
    assert not (batches() / name / "results").exists()
    listing = run_cli("batch", "list", "-f", "json")
    assert json.loads(listing.stdout)[0]["state"] == "COLLECTED"
    again = run_cli("batch", "collect", "--report", "r.jsonl")  # nothing left to collect
    assert again.exit_code == 0 and report(work / "r.jsonl") == []


def test_keep_uploads_keeps_them(work, api_env):
    submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    assert run_cli("batch", "collect", "--keep-uploads").exit_code == 0
    assert api_env.deleted_file_ids == []


def test_a_long_recording_is_cut_into_parts_and_merged_as_transcribe_merges(work, api_env):
    shutil.rmtree(work / "in")
    make_tone_wav(work / "talk.wav", 61.0, silence_at=SILENCES)
    options = ("--split-minutes", "0.25", "-f", "json", "-t", "segment")
    name, [job_id] = submitted(run_cli("batch", "submit", "talk.wav", "-d", "out", *options))
    parts = custom_ids(name)["talk.wav"]
    assert len(parts) == 4 and parts[1].startswith("talk.wav?part=2/4&start=")
    assert [f.filename for f in api_env.uploaded_files.values()] == [
        f"talk.part{n:03d}.flac" for n in range(1, 5)
    ]
    assert len(api_env.batch_jobs[job_id].lines) == 4
    assert run_cli("batch", "collect").exit_code == 0
    assert run_cli("transcribe", "talk.wav", "-d", "direct", *options).exit_code == 0
    assert (work / "out" / "talk.json").read_bytes() == (work / "direct" / "talk.json").read_bytes()
    assert json.loads((work / "out" / "talk.json").read_text())["duration"] == pytest.approx(61.0)


def test_failed_inputs_are_listed_reported_and_retried(work, api_env):
    name, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", "-f", "srt"))
    failing = custom_ids(name)["in/sub/b.mp3"][0]
    api_env.fail_batch_requests(failing, status=500, message="The model crashed")
    collect = run_cli("batch", "collect", "--report", "report.jsonl")
    assert collect.exit_code == 1
    assert "in/sub/b.mp3: HTTP 500: The model crashed" in collect.stderr
    records = report(work / "report.jsonl")
    assert {r["source"]: r["status"] for r in records} == {
        "in/a.wav": "done",
        "in/c.flac": "done",
        "in/sub/b.mp3": "failed",
    }
    assert next(r["error"] for r in records if r["status"] == "failed").endswith("crashed")
    assert sorted(files(work / "out")) == ["a.srt", "c.srt"]

    api_env.batch_request_failures.clear()
    retry_name, [retry_job] = submitted(run_cli("batch", "submit", "--retry-failed", name))
    assert retry_name != name and len(api_env.batch_jobs[retry_job].lines) == 1
    assert manifest(retry_name)["retry_of"] == name
    assert run_cli("batch", "collect").exit_code == 0
    assert run_cli("transcribe", "-r", "in", "-d", "direct", "-f", "srt").exit_code == 0
    assert files(work / "out") == files(work / "direct")
    nothing = run_cli("batch", "submit", "--retry-failed", retry_name, "-v")
    assert nothing.exit_code == 0 and "no failed inputs" in nothing.stderr


def test_retry_needs_a_collected_batch(work, api_env):
    name, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    result = run_cli("batch", "submit", "--retry-failed", name)
    assert result.exit_code == 2 and "not collected yet" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--bias", ",".join(f"term{i}" for i in range(101))), "at most 100"),
        (("--language", "en", "--timestamps", "segment"), "--language"),
        (("-f", "srt", "--language", "en"), "--language"),
    ],
    ids=["101-bias-terms", "language-and-timestamps", "srt-needs-timestamps"],
)
def test_refused_before_anything_is_uploaded(work, api_env, args, message):
    result = run_cli("batch", "submit", "-r", "in", "-d", "out", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert api_env.requests == [] and not batches().exists()


def test_output_dir_is_required(work, api_env):
    result = run_cli("batch", "submit", "in/a.wav")
    assert result.exit_code == 2 and "needs --output-dir" in result.stderr
    assert api_env.requests == []


def test_dry_run_shows_the_plan_and_sends_nothing(work, api_env):
    make_tone_wav(work / "in" / "long.wav", 61.0, silence_at=SILENCES)
    result = run_cli(
        "batch", "submit", "-r", "in", "-d", "out", "--split-minutes", "0.25", "--dry-run"
    )
    assert result.exit_code == 0, result.output
    assert "in/long.wav -> " in result.stdout and "about 5 requests (cut into parts)" in (
        result.stdout
    )
    assert "would submit 4 input(s) as 8 request(s) in 1 job(s)" in result.stdout
    assert api_env.work_requests() == [] and not batches().exists()


def test_more_requests_than_a_job_holds_are_split_into_several_jobs(work, api_env):
    for n in range(2):
        shutil.copyfile(DATA / "speech.wav", work / "in" / f"extra{n}.wav")
    result = run_cli(
        "batch",
        "submit",
        "-r",
        "in",
        "-d",
        "out",
        limits=Limits(max_batch_requests=2, min_age_seconds=0),
    )
    name, jobs = submitted(result)
    assert len(jobs) == 3
    assert [len(api_env.batch_jobs[j].lines) for j in jobs] == [2, 2, 1]
    assert len({e["job"] for e in manifest(name)["inputs"]}) == 3
    status = run_cli("batch", "status", name)
    assert status.stdout.count(name) == 3
    assert run_cli("batch", "collect", name).exit_code == 0
    assert len(files(work / "out")) == 5


def test_submitting_the_same_inputs_again_submits_nothing(work, api_env):
    name, jobs = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    uploads = len(api_env.file_requests())
    again = run_cli("batch", "submit", "-r", "in", "-d", "out")
    assert submitted(again) == (name, jobs)
    assert "already submitted as batch" in again.stderr
    assert len(api_env.batch_jobs) == 1 and len(api_env.file_requests()) == uploads
    forced = run_cli("batch", "submit", "-r", "in", "-d", "out", "--again")
    assert submitted(forced)[0] != name and len(api_env.batch_jobs) == 2


def test_a_cancelled_job_writes_what_finished_and_records_the_rest(work, api_env):
    shutil.copyfile(DATA / "speech.wav", work / "in" / "d.wav")
    api_env.batch_step_seconds = None  # one step per look
    name, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    assert run_cli("batch", "status").exit_code == 0  # the job starts running
    cancel = run_cli("batch", "cancel", name)
    assert cancel.exit_code == 0 and "CANCELLATION_REQUESTED" in cancel.stderr
    collect = run_cli("batch", "collect", "--report", "r.jsonl")
    assert collect.exit_code == 0, collect.output  # cancelled inputs are not failures
    statuses = sorted(r["status"] for r in report(work / "r.jsonl"))
    assert statuses == ["cancelled", "cancelled", "done", "done"]
    assert len(files(work / "out")) == 2
    assert api_env.batch_jobs[job_id].status == "CANCELLED"
    api_env.batch_step_seconds = 0
    done, [done_job] = submitted(run_cli("batch", "submit", "in/a.wav", "-d", "other"))
    assert run_cli("batch", "status", done).exit_code == 0
    finished = run_cli("batch", "cancel", done_job)
    assert "already finished (SUCCESS)" in finished.stderr


@pytest.mark.parametrize(
    ("outcome", "written", "reason"),
    [("TIMEOUT_EXCEEDED", 1, "ran out of time"), ("FAILED", 0, "The batch job failed")],
)
def test_failed_and_timed_out_jobs_write_what_finished(work, api_env, outcome, written, reason):
    api_env.batch_outcome = outcome
    submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    collect = run_cli("batch", "collect", "--report", "r.jsonl")
    assert collect.exit_code == 1
    assert reason in collect.stderr
    records = report(work / "r.jsonl")
    assert sum(r["status"] == "done" for r in records) == written == len(files(work / "out"))
    assert sum(r["status"] == "failed" for r in records) == 3 - written


def test_a_job_without_a_manifest_is_collected_by_its_custom_ids(work, api_env):
    _, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", "-f", "srt"))
    shutil.rmtree(batches())  # the manifest is lost
    refused = run_cli("batch", "collect", job_id)
    assert refused.exit_code == 2 and "give -d DIR" in refused.stderr
    collect = run_cli("batch", "collect", job_id, "-d", "elsewhere")
    assert collect.exit_code == 0, collect.output
    assert run_cli("transcribe", "-r", "in", "-d", "direct", "-f", "srt").exit_code == 0
    assert files(work / "elsewhere") == files(work / "direct")  # sub/b.srt: by custom_id
    remote = run_cli("batch", "list", "--remote")
    assert job_id in remote.stdout
    again = run_cli("batch", "collect", job_id, "-d", "elsewhere", "--report", "r.jsonl")
    assert again.exit_code == 0 and report(work / "r.jsonl") == []


def test_input_files_carry_big_jobs_and_are_deleted_after_collect(work, api_env, tmp_path):
    urls = [f"https://media.example.com/show/ep{n:04d}.mp3" for n in range(1001)]
    (work / "list.txt").write_text("\n".join(urls) + "\n")
    limits = Limits(max_upload_bytes=60_000, min_age_seconds=0)
    result = run_cli("batch", "submit", "--files-from", "list.txt", "-d", "out", limits=limits)
    _, [job_id] = submitted(result)
    job = api_env.batch_jobs[job_id]
    assert len(job.lines) == 1001 and len(job.input_files) > 1
    inputs = [api_env.uploaded_files[f] for f in job.input_files]
    assert all(f.purpose == "batch" and f.expiry == 48 and f.size <= 60_000 for f in inputs)
    assert job.lines[0].body["file_url"] == urls[0]
    assert run_cli("batch", "collect", "-j", "8").exit_code == 0
    assert len(files(work / "out")) == 1001
    assert set(job.input_files) <= set(api_env.deleted_file_ids)


def test_collect_wait_polls_until_the_job_is_done(work, api_env):
    api_env.batch_step_seconds = 0.4
    name, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    result = run_cli("batch", "collect", name, "--wait", "--poll", "0.1")
    assert result.exit_code == 0, result.output
    assert len(files(work / "out")) == 3
    polls = [r for r in api_env.batch_requests() if r.path.endswith(job_id)]
    assert 3 <= len(polls) <= 15


def test_collect_notes_a_running_job_and_exits_zero(work, api_env):
    api_env.batch_step_seconds = None  # one step per look
    submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    result = run_cli("batch", "collect", "-v")
    assert (
        result.exit_code == 0
        and "RUNNING" in result.stderr
        and "collect it again" in (result.stderr)
    )
    assert not (work / "out").exists()


def test_unknown_job_names_are_usage_errors(work, api_env):
    result = run_cli("batch", "submit", "--retry-failed", "nosuch")
    assert result.exit_code == 2 and "no local batch or job named nosuch" in result.stderr


def test_a_job_whose_creation_answer_was_lost_is_found_not_made_twice(work, api_env):
    api_env.drop_next(path="/v1/batch/jobs", after_events=1)  # created, answer cut off
    first = run_cli("batch", "submit", "-r", "in", "-d", "out")
    assert first.exit_code == 1, first.output
    assert len(api_env.batch_jobs) == 1
    second = run_cli("batch", "submit", "-r", "in", "-d", "out", "-v")
    _, [job_id] = submitted(second)
    assert "created by an earlier run" in second.stderr
    assert list(api_env.batch_jobs) == [job_id]
    assert run_cli("batch", "collect").exit_code == 0
    assert len(files(work / "out")) == 3


def test_speaker_references_go_with_every_request(work, api_env):
    make_tone_wav(work / "ann.wav", 4.0)
    options = ("-f", "srt", "--diarize", "--speaker", "Ann=ann.wav")
    _, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", *options))
    references = [line.body["speaker_references"] for line in api_env.batch_jobs[job_id].lines]
    assert len(references) == 3 and all(list(r) == ["Ann"] for r in references)
    assert run_cli("batch", "collect").exit_code == 0
    assert run_cli("transcribe", "-r", "in", "-d", "direct", *options).exit_code == 0
    assert files(work / "out") == files(work / "direct")
    assert b"Ann" in files(work / "out")["a.srt"]


def test_a_job_that_cannot_be_collected_now_does_not_stop_the_others(work, api_env):
    submitted(run_cli("batch", "submit", "in/a.wav", "-d", "one"))
    submitted(run_cli("batch", "submit", "in/c.flac", "-d", "two"))
    api_env.fail_next(503, path="/v1/files/", when=lambda r: r.path.endswith("/content"))
    first = run_cli("batch", "collect", "--retries", "0")
    assert first.exit_code == 1, first.output
    assert "HTTP 503" in first.stderr
    assert len(files(work / "one")) + len(files(work / "two")) == 1
    second = run_cli("batch", "collect")
    assert second.exit_code == 0, second.output
    assert list(files(work / "one")) == ["in/a.txt"] and list(files(work / "two")) == ["in/c.txt"]


def test_skip_existing_leaves_out_inputs_already_written(work, api_env):
    (work / "out").mkdir()
    (work / "out" / "a.txt").write_text("done before\n")
    _, [job_id] = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing"))
    assert len(api_env.batch_jobs[job_id].lines) == 2
    assert run_cli("batch", "collect").exit_code == 0
    assert (work / "out" / "a.txt").read_text() == "done before\n"
    listing = run_cli("batch", "list")
    assert "COLLECTED  2 input(s), 2 request(s) in 1 job(s)" in listing.stdout


def test_files_still_being_written_are_left_out_until_a_later_submit(work, api_env):
    old = os.stat(work / "in" / "a.wav").st_mtime - 3600
    for path in (work / "in").rglob("*.*"):
        os.utime(path, (old, old))
    shutil.copyfile(DATA / "speech.wav", work / "in" / "fresh.wav")  # modified just now
    result = run_cli("batch", "submit", "-r", "in", "-d", "out", limits=Limits())
    name, _ = submitted(result)
    assert "in/fresh.wav: left out, modified 0 s ago (--min-age 10 s)" in result.stderr
    assert sorted(e["source"] for e in manifest(name)["inputs"]) == [
        "in/a.wav", "in/c.flac", "in/sub/b.mp3",
    ]  # fmt: skip
    named = run_cli("batch", "submit", "in/fresh.wav", "-d", "out", "--min-age", "60", "-v")
    assert named.exit_code == 0 and "left out" in named.stderr
    assert "nothing to submit now: 1 input(s) still being written" in named.stderr
    assert len(api_env.batch_jobs) == 1


def test_skip_existing_leaves_out_what_a_pending_batch_will_write(work, api_env):
    first, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    shutil.copyfile(DATA / "speech.wav", work / "in" / "new.wav")
    again = run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing", "-v")
    second, _ = submitted(again)
    assert second != first
    assert [e["source"] for e in manifest(second)["inputs"]] == ["in/new.wav"]
    assert f"in/a.wav: skipped, batch {first} will write it" in again.stderr
    nothing = run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing", "-v")
    assert nothing.exit_code == 0 and nothing.stdout == ""
    assert "nothing to submit: every output exists or a batch will write it" in nothing.stderr
    assert run_cli("batch", "collect").exit_code == 0
    after = run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing")
    assert after.exit_code == 0 and after.stdout == ""  # written now: the outputs exist
    assert len(api_env.batch_jobs) == 2


def test_skip_existing_knows_which_job_of_a_batch_is_collected(work, api_env):
    name, jobs = submitted(
        run_cli(
            "batch", "submit", "-r", "in", "-d", "out",
            limits=Limits(max_batch_requests=2, min_age_seconds=0),
        )
    )  # fmt: skip
    assert len(jobs) == 2
    assert run_cli("batch", "collect", jobs[0]).exit_code == 0  # one job written, one pending
    again = run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing", "-v")
    assert again.exit_code == 0 and again.stdout == ""
    skipped = [line for line in again.stderr.splitlines() if "skipped" in line]
    assert sum(f"batch {name} will write it" in line for line in skipped) == 1
    assert sum("exists" in line for line in skipped) == 2


def test_skip_existing_refuses_to_guess_past_a_damaged_manifest(work, api_env):
    name, _ = submitted(run_cli("batch", "submit", "-r", "in", "-d", "out"))
    (batches() / name / "manifest.json").write_text("{broken")
    result = run_cli("batch", "submit", "-r", "in", "-d", "out", "--skip-existing")
    assert result.exit_code == 2
    assert f"cannot read the manifest of batch {name}" in result.stderr
    assert "so what it will write is not known" in result.stderr
    assert len(api_env.batch_jobs) == 1
