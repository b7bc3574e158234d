"""The Batch API engine's pure parts: custom_ids, planning, request rules, result lines,
journals, manifests, name lookup, polling and status descriptions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from voxcli.api import BatchJobInfo, TranscriptionParams
from voxcli.api.batch import RUNNING_STATUSES
from voxcli.batch.customid import RequestName, format_custom_id, parse_custom_id
from voxcli.batch.describe import eta_seconds, status_line
from voxcli.batch.journal import Journal, read_journal
from voxcli.batch.manifest import InputEntry, JobEntry, Manifest, RequestEntry
from voxcli.batch.options import BatchOptions, hints_from_metadata
from voxcli.batch.plan import chunk_inputs, fits_inline, input_line, request_body
from voxcli.batch.results import ResultIndex, parse_line
from voxcli.batch.store import BatchStore, JobRef, Summary
from voxcli.batch.wait import Backoff, deadline_for
from voxcli.commands.batch.request import (
    CollectFlags,
    SubmitFlags,
    build_collect_request,
    build_submit_request,
)
from voxcli.commands.transcribe.request import TranscribeFlags
from voxcli.config import Settings
from voxcli.errors import UsageError
from voxcli.render import RenderOptions

SETTINGS = Settings(api_key="k", key_origin="test", server_url=None)


# -- custom_ids ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        RequestName("talks/day1.wav", duration=3912.503125),
        RequestName("a b/ünï?code%.mp3", duration=1.0),
        RequestName("long.flac", part=2, parts=3, start=1961.25, end=3920.0000001),
        RequestName("clip.mp3"),
    ],
)
def test_custom_ids_read_back_exactly(name):
    text = format_custom_id(name)
    assert parse_custom_id(text) == name
    assert "?" not in text.partition("?")[0]  # the path's own "?" is escaped


def test_non_utf8_names_survive_a_custom_id():
    raw = os.fsdecode(b"caf\xe9.wav")  # Latin-1 bytes: a surrogate escape in the str
    back = parse_custom_id(format_custom_id(RequestName(raw, duration=2.0)))
    assert back is not None and back.path == raw


@pytest.mark.parametrize(
    "text",
    ["/etc/passwd", "../up.wav", "a/../../b.wav", "x.wav?part=3/2&start=0&end=1", "x?d=oops", ""],
)
def test_custom_ids_that_would_escape_or_are_broken_are_refused(text):
    assert parse_custom_id(text) is None


def test_foreign_custom_ids_are_plain_paths():
    assert parse_custom_id("request-17") == RequestName("request-17")


# -- planning --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "limit", "chunks"),
    [
        ([(0, 1), (1, 1), (2, 1)], 2, [[0, 1], [2]]),
        ([(0, 1), (1, 1), (2, 1)], 100_000, [[0, 1, 2]]),
        ([(0, 2), (1, 1), (2, 2)], 3, [[0, 1], [2]]),  # an input's parts stay together
        ([(4, 3), (7, 1)], 3, [[4], [7]]),
        ([], 5, []),
    ],
)
def test_requests_are_grouped_into_jobs_under_the_limit(counts, limit, chunks):
    assert chunk_inputs(counts, limit) == chunks


def test_an_input_with_more_parts_than_a_job_holds_is_refused():
    with pytest.raises(UsageError, match="needs 3 requests, more than the 2"):
        chunk_inputs([(0, 3)], 2)


def test_a_line_carries_the_request_like_transcribe_sends_it():
    params = TranscriptionParams(
        model="m",
        language=None,
        temperature=0.2,
        diarize=True,
        context_bias=("Voxtral", "farewell_address"),
        timestamp_granularities=("segment",),
        speaker_references=(("Ann", "QUJD"),),
    )
    body = request_body(RequestEntry("x", file_id="f-1"), params)
    assert body == {
        "file_id": "f-1",
        "diarize": True,
        "temperature": 0.2,
        "context_bias": ["Voxtral", "farewell_address"],
        "timestamp_granularities": ["segment"],
        "speaker_references": {"Ann": "QUJD"},
    }
    url_line = json.loads(input_line(RequestEntry("u", url="https://h/a.mp3"), params))
    assert url_line["custom_id"] == "u" and url_line["body"]["file_url"] == "https://h/a.mp3"
    assert "model" not in url_line["body"]  # the job's


def test_small_jobs_go_inline_and_big_ones_as_files():
    assert fits_inline([b"x" * 100] * 10)
    assert not fits_inline([b"x" * 100] * 1001)
    assert not fits_inline([b"x" * 600_000] * 2)


# -- request rules ---------------------------------------------------------------------


def _submit(**kwargs):
    batch = {k: kwargs.pop(k) for k in ("dry_run", "retry_failed", "timeout_hours") if k in kwargs}
    return build_submit_request(SubmitFlags(TranscribeFlags(**kwargs), **batch), SETTINGS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sources": ("a.wav",)}, "needs --output-dir"),
        ({"sources": ("-",), "output_dir": Path("o")}, "not audio on stdin"),
        (
            {
                "sources": ("a.wav",),
                "output_dir": Path("o"),
                "bias": tuple(f"t{i}" for i in range(101)),
            },
            "100",
        ),
        (
            {
                "sources": ("a.wav",),
                "output_dir": Path("o"),
                "language": "en",
                "timestamps": ("segment",),
            },
            "--language",
        ),
        ({"sources": ("a.wav",), "output_dir": Path("o"), "timeout_hours": 168}, "1 to 167"),
        ({"retry_failed": "k3x9qa", "language": "fr"}, "cannot take --language"),
        ({"retry_failed": "k3x9qa", "sources": ("b.wav",)}, "cannot take SOURCE"),
    ],
)
def test_submit_rules(kwargs, message):
    with pytest.raises(UsageError, match=message):
        _submit(**kwargs)


def test_submit_validates_as_transcribe_does():
    request = _submit(sources=("a.wav",), output_dir=Path("o"), fmt="srt", jobs=8)
    assert request.transcribe is not None
    assert request.transcribe.output_format == "srt"
    assert request.transcribe.params.timestamp_granularities == ("segment",)  # srt needs them
    assert request.jobs == 8


def test_retry_takes_only_run_flags():
    request = _submit(retry_failed="k3x9qa", jobs=2, verbose=True)
    assert request.transcribe is None and request.retry_failed == "k3x9qa"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (CollectFlags(output_dir=Path("o")), "name that JOB"),
        (CollectFlags(refs=("a", "b"), output_dir=Path("o")), "name that JOB"),
        (CollectFlags(refs=("a",), fmt="srt"), "--format applies to a job collected with -d"),
        (CollectFlags(poll=5.0), "add --wait"),
    ],
)
def test_collect_rules(flags, message):
    with pytest.raises(UsageError, match=message):
        build_collect_request(flags)


def test_collect_defaults():
    request = build_collect_request(CollectFlags(wait=True))
    assert request.poll == 30.0 and request.refs == ()


# -- results ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "ok", "error"),
    [
        (
            {"custom_id": "a", "response": {"status_code": 200, "body": {}}, "error": None},
            True,
            None,
        ),
        (
            {
                "custom_id": "a",
                "response": {"status_code": 500, "body": {"message": "boom"}},
                "error": {"message": "boom", "code": "500"},
            },
            False,
            "HTTP 500: boom",
        ),
        (
            {"custom_id": "a", "response": {"status_code": 404, "body": "gone"}},
            False,
            "HTTP 404: gone",
        ),
        ({"custom_id": "a", "error": "timeout"}, False, "error: timeout"),
    ],
)
def test_result_lines_fail_as_the_sdk_counts_failures(line, ok, error):
    parsed = parse_line(line)
    assert parsed is not None and parsed.ok is ok and parsed.error == error


def test_result_lines_without_a_custom_id_are_ignored():
    assert parse_line({"response": {"status_code": 200}}) is None
    assert parse_line(["not", "an", "object"]) is None


def test_result_index_reads_bodies_back_from_disk(tmp_path):
    out = tmp_path / "out.jsonl"
    lines = [
        {"custom_id": "a", "response": {"status_code": 200, "body": {"text": "A"}}, "error": None},
        {"custom_id": "b", "response": {"status_code": 200, "body": {"text": "B"}}, "error": None},
    ]
    out.write_text("".join(json.dumps(x) + "\n" for x in lines) + "not json\n\n")
    err = tmp_path / "err.jsonl"
    err.write_text(json.dumps({"custom_id": "c", "error": {"message": "no"}}) + "\n")
    with ResultIndex([out, err]) as index:
        assert sorted(index) == ["a", "b", "c"]
        assert index.body(index.get("b")) == {"text": "B"}
        assert index.get("c").error == "error: no"


# -- journals, manifests, the store --------------------------------------------------------


def test_journal_skips_a_torn_line_and_the_next_record_starts_clean(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        journal.append({"t": "upload", "n": 1})
    with path.open("ab") as handle:
        handle.write(b'{"t": "upl')  # a crash mid-line
    with Journal(path) as journal:
        journal.append({"t": "upload", "n": 2})
    assert [r["n"] for r in read_journal(path)] == [1, 2]
    assert list(read_journal(tmp_path / "missing.jsonl")) == []


def _manifest(name: str = "abcdef", jobs: tuple[str, ...] = ("job-1",)) -> Manifest:
    options = BatchOptions(
        params=TranscriptionParams(model="m", timestamp_granularities=("segment",)),
        output_format="srt",
        output_dir=Path("/out"),
        render=RenderOptions(max_line_width=37),
    )
    entry = InputEntry(
        0,
        "in/a.wav",
        "/abs/in/a.wav",
        Path("/out/a.srt"),
        12.5,
        jobs[0] if jobs else None,
        (RequestEntry("a.wav?d=12.5", file_id="f-1"),),
    )
    return Manifest(
        name=name,
        created_at=1_700_000_000,
        submission="key",
        options=options,
        inputs=(entry,),
        jobs=tuple(JobEntry(j, ("in-1",), False, 1, 1) for j in jobs),
        phase="submitted",
    )


def test_manifest_round_trips_through_json():
    manifest = _manifest()
    data = json.loads(json.dumps(manifest.to_json()))
    assert data["voxcli_batch"] == 1 and data["inputs"][0]["output"] == "/out/a.srt"
    assert Manifest.from_json(data) == manifest


def test_a_manifest_of_another_version_is_refused():
    with pytest.raises(ValueError, match="version 1"):
        Manifest.from_json({"voxcli_batch": 99})


def test_metadata_carries_how_to_render():
    options = _manifest().options
    hints = hints_from_metadata(options.metadata("abcdef"))
    assert hints.output_format == "srt" and hints.render == options.render
    assert hints.granularities == ("segment",)
    assert options.metadata("abcdef")["voxcli_batch"] == "abcdef"
    assert hints_from_metadata({"voxcli_render": "{broken"}).render is None


def test_store_resolves_names_job_ids_and_prefixes(tmp_path):
    store = BatchStore(tmp_path)
    for name, jobs in (("abcdef", ("job-1111", "job-2222")), ("abzzzz", ("job-3333",))):
        store.path(name).mkdir(parents=True)
        store.save_summary(Summary.of(_manifest(name, jobs)))
    assert store.resolve("abcdef") == [JobRef("abcdef", "job-1111"), JobRef("abcdef", "job-2222")]
    assert store.resolve("job-3333") == [JobRef("abzzzz", "job-3333")]
    assert store.resolve("abzz") == [JobRef("abzzzz", "job-3333")]
    assert store.resolve("elsewhere-1") == [JobRef(None, "elsewhere-1")]
    with pytest.raises(UsageError, match="several"):
        store.resolve("job-")


def test_store_names_are_short_and_unique(tmp_path):
    store = BatchStore(tmp_path)
    names = {store.create() for _ in range(20)}
    assert len(names) == 20 and all(len(n) == 6 for n in names)
    assert oct(store.root.stat().st_mode & 0o777) == "0o700"


# -- polling and descriptions ------------------------------------------------------------


def test_polls_back_off_while_nothing_moves_and_start_over_when_it_does():
    backoff = Backoff(30.0)
    steps = [30.0]
    for _ in range(8):
        steps.append(backoff.next(steps[-1], moved=False))
    assert steps[:4] == [30.0, 45.0, 67.5, 101.25] and steps[-1] == 300.0
    assert backoff.next(300.0, moved=True) == 30.0
    assert Backoff(0.1).longest == 1.0


def test_the_wait_ends_after_the_jobs_own_timeout():
    infos = [
        BatchJobInfo("a", "RUNNING", created_at=1000),
        BatchJobInfo("b", "QUEUED", created_at=5000),
    ]
    assert deadline_for(infos, [24, 1]) == 1000 + 24 * 3600 + 3600


def test_running_jobs_get_an_estimate_from_their_pace():
    info = BatchJobInfo("j", "RUNNING", created_at=20, started_at=100, total=100, completed=25)
    assert eta_seconds(info, now=200) == pytest.approx(300)
    assert eta_seconds(BatchJobInfo("j", "QUEUED", total=5), now=10) is None
    line = status_line("abcdef", info, 200, collected=False)
    assert line == "abcdef  j  RUNNING  25/100 done  age 3:00  about 5:00 left"


def test_the_running_statuses_are_the_sdks():
    from mistralai.extra.batch.client import RUNNING_STATUSES as SDK_RUNNING

    assert frozenset(SDK_RUNNING) == RUNNING_STATUSES


def test_job_info_reads_the_api_json():
    info = BatchJobInfo.from_json(
        {
            "id": "j",
            "status": "FAILED",
            "total_requests": 3,
            "completed_requests": 3,
            "succeeded_requests": 1,
            "failed_requests": 2,
            "errors": [{"message": "The batch job failed", "count": 1}],
            "metadata": {"voxcli_batch": "abcdef"},
            "created_at": 7,
        }
    )
    assert (info.total, info.succeeded, info.failed, info.finished) == (3, 1, 2, True)
    assert info.errors == ("The batch job failed",)
    assert BatchJobInfo.from_json(info.to_json()) == info


def test_uploads_too_old_to_outlive_a_new_job_are_made_again():
    from voxcli.batch.submit import _stale
    from voxcli.batch.upload import Piece, ReadyInput, Upload

    whole = ReadyInput(0, 2.0, (Piece(file_id="f"),))
    parts = ReadyInput(1, 9.0, (Piece("p1", start=0.0, end=4.0), Piece("p2", start=4.0, end=9.0)))
    url = ReadyInput(2, None, (Piece(url="https://h/a.mp3"),))
    uploads = {
        (0, None): Upload(0, None, whole.pieces[0], at=100.0),
        (1, 0): Upload(1, 0, parts.pieces[0], at=100.0),
        (1, 1): Upload(1, 1, parts.pieces[1], at=50.0),
    }
    assert not _stale(whole, uploads, after=90.0)
    assert _stale(parts, uploads, after=90.0)  # its second part is older
    assert not _stale(url, uploads, after=1e12)
    assert _stale(whole, {}, after=0.0)  # no record of the upload
