"""Tests of the fake Mistral server itself, driven through the real mistralai SDK."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import soundfile as sf
from audio_factory import make_tone_wav
from fake_mistral import (
    SENTENCES,
    TEST_API_KEY,
    FakeMistral,
    MultipartParser,
    RecordedRequest,
    UploadedFile,
    _FieldSink,
    parse_multipart,
    probe_audio_duration,
    sse_frame,
)
from fake_models import model_card, transcription_capabilities
from mistralai.client import Mistral
from mistralai.client.errors import SDKError
from mistralai.client.models import BaseModelCard, TranscriptionResponse
from mistralai.client.utils import BackoffStrategy, RetryConfig
from mistralai.extra.batch.client import BatchOutput

MODEL = "voxtral-mini-latest"
CHAT_MODEL = "voxtral-small-latest"
SPEECH_SECONDS = 2.839125  # tests/data/speech.* (45426 frames at 16 kHz)


@pytest.fixture
def client(fake_server: FakeMistral) -> Iterator[Mistral]:
    with Mistral(api_key=TEST_API_KEY, server_url=fake_server.url) as sdk:
        yield sdk


def fast_retries(connection_errors: bool = False) -> RetryConfig:
    return RetryConfig(
        "backoff", BackoffStrategy(10, 50, 1.5, 5_000, jitter_ms=0), connection_errors
    )


def wav_part(path: Path) -> dict[str, object]:
    return {"file_name": path.name, "content": path.read_bytes()}


# -- transcription ------------------------------------------------------------------------


def test_transcription_records_wire_format(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    fake_server.strict = False  # Mistral documents language + timestamps as incompatible
    data = wav_file.read_bytes()
    res = client.audio.transcriptions.complete(
        model=MODEL,
        file={"file_name": "speech.wav", "content": data, "content_type": "audio/wav"},
        language="fr",
        temperature=0.0,
        context_bias=["Voxtral", "farewell_address"],
        timestamp_granularities=["segment", "word"],
    )
    (req,) = fake_server.transcription_requests()
    assert req.method == "POST" and req.path == "/v1/audio/transcriptions"
    assert req.fields["model"] == [MODEL]
    assert req.fields["language"] == ["fr"]
    assert req.fields["temperature"] == ["0.0"]
    assert req.fields["context_bias"] == ["Voxtral", "farewell_address"]
    assert req.fields["timestamp_granularities"] == ["segment", "word"]
    assert req.fields["stream"] == ["false"]  # always sent
    assert req.fields["diarize"] == ["false"]  # always sent
    upload = req.file("file")
    assert upload is not None
    assert (upload.filename, upload.content_type) == ("speech.wav", "audio/wav")
    assert upload.data == data and upload.size == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.duration == pytest.approx(SPEECH_SECONDS)
    assert req.headers["authorization"] == f"Bearer {TEST_API_KEY}"
    assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert req.body is not None and req.body_size == len(req.body)
    assert req.received_at <= req.body_read_at <= req.finished_at  # type: ignore[operator]

    assert res.model == MODEL and res.language == "fr"
    assert res.text == " ".join(SENTENCES[:2])
    assert res.usage.prompt_audio_seconds == 3
    kinds = [(s.text in SENTENCES) for s in res.segments or []]
    # each segment is followed by its own words
    assert kinds[0] and kinds[1 + len(SENTENCES[0].split())]
    assert all(s.type == "transcription_segment" for s in res.segments or [])


def test_segments_spread_over_audio(
    fake_server: FakeMistral, client: Mistral, flac_file: Path
) -> None:
    res = client.audio.transcriptions.complete(
        model=MODEL, file=wav_part(flac_file), timestamp_granularities=["segment"]
    )
    segs = res.segments or []
    assert [s.text for s in segs] == list(SENTENCES[:2])
    assert segs[0].start == 0.0 and segs[-1].end == pytest.approx(SPEECH_SECONDS, abs=1e-3)
    assert segs[0].end == segs[1].start
    assert res.language == "en"
    assert all("speaker_id" not in s.model_dump() for s in segs)


def test_no_segments_without_granularities(client: Mistral, wav_file: Path) -> None:
    res = client.audio.transcriptions.complete(model=MODEL, file=wav_part(wav_file))
    assert res.segments is None
    assert res.text


def test_word_granularity(client: Mistral, wav_file: Path) -> None:
    res = client.audio.transcriptions.complete(
        model=MODEL, file=wav_part(wav_file), timestamp_granularities=["word"]
    )
    words = res.segments or []
    assert [w.text for w in words] == res.text.split()
    assert all(w.type == "transcription_segment" for w in words)
    assert all(w.start is not None and w.end is not None and w.start < w.end for w in words)
    assert words[-1].end == pytest.approx(SPEECH_SECONDS, abs=1e-3)


def test_diarize_alternates_speakers(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    fake_server.segment_seconds = 0.5  # 6 segments for 2.84 s
    res = client.audio.transcriptions.complete(
        model=MODEL, file=wav_part(wav_file), diarize=True, timestamp_granularities=["segment"]
    )
    assert fake_server.transcription_requests()[0].fields["diarize"] == ["true"]
    speakers = [s.speaker_id for s in res.segments or []]
    assert speakers == ["speaker_1", "speaker_2"] * 3


def test_file_url_and_overrides(fake_server: FakeMistral, client: Mistral) -> None:
    res = client.audio.transcriptions.complete(
        model=MODEL, file_url="https://example.com/a.mp3", timestamp_granularities=["segment"]
    )
    assert res.usage.prompt_audio_seconds == 5  # url_duration
    assert fake_server.requests[0].fields["file_url"] == ["https://example.com/a.mp3"]

    fake_server.set_transcription({"model": "x", "text": "fixed", "language": None, "usage": {}})
    assert client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a").text == (
        "fixed"
    )

    def answer(req: RecordedRequest, duration: float) -> dict[str, object]:
        base = fake_server.default_transcription(req, duration)
        return {**base, "text": f"{req.field('model')} {duration:.0f}"}

    fake_server.set_transcription(answer)
    res = client.audio.transcriptions.complete(model="voxtral-mini-2602", file_url="https://e.x/a")
    assert res.text == "voxtral-mini-2602 5"


def test_strict_validation(client: Mistral, wav_file: Path) -> None:
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(
            model=MODEL, file=wav_part(wav_file), language="en", timestamp_granularities=["word"]
        )
    assert err.value.status_code == 400
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(
            model=MODEL, file=wav_part(wav_file), context_bias=["two words"]
        )
    assert err.value.status_code == 422
    assert json.loads(err.value.body)["message"]["detail"][0]["loc"] == ["body", "context_bias"]
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(model=MODEL, file_id="nope")
    assert err.value.status_code == 404


def test_streaming_transcription(fake_server: FakeMistral, client: Mistral, ogg_file: Path) -> None:
    with client.audio.transcriptions.stream(
        model=MODEL,
        file={"file_name": ogg_file.name, "content": ogg_file.open("rb")},
        timestamp_granularities=["segment"],
        diarize=True,
    ) as events:
        got = list(events)
    assert fake_server.requests[0].fields["stream"] == ["true"]
    names = [e.event for e in got]
    assert names[0] == "transcription.language" and names[-1] == "transcription.done"
    assert names[1] == "transcription.text.delta"
    assert names.count("transcription.segment") == 2
    # the first segment event comes as soon as its text has been streamed
    first_seg = names.index("transcription.segment")
    assert names[first_seg + 1] == "transcription.text.delta"
    deltas = "".join(e.data.text for e in got if e.event == "transcription.text.delta")
    done = got[-1].data
    assert deltas == done.text == " ".join(SENTENCES[:2])
    assert got[0].data.audio_language == "en"
    seg = got[first_seg].data
    assert (seg.text, seg.start, seg.speaker_id) == (SENTENCES[0], 0.0, "speaker_1")
    assert done.usage.prompt_audio_seconds == 3


def test_stream_override_and_cut(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.set_transcription_stream(
        [("transcription.text.delta", {"type": "transcription.text.delta", "text": "hi"})]
    )
    with client.audio.transcriptions.stream(model=MODEL, file_url="https://e.x/a") as events:
        assert [e.data.text for e in events] == ["hi"]
    fake_server.set_transcription_stream(None)
    fake_server.drop_next(after_events=2)
    received = []
    with (
        pytest.raises(httpx2.RemoteProtocolError),
        client.audio.transcriptions.stream(model=MODEL, file_url="https://e.x/a") as events,
    ):
        received.extend(e.event for e in events)
    assert received == ["transcription.language", "transcription.text.delta"]


# -- chat ------------------------------------------------------------------------------------


def audio_message(path: Path, prompt: str) -> list[dict[str, object]]:
    b64 = base64.b64encode(path.read_bytes()).decode()
    return [
        {
            "role": "user",
            "content": [
                {"type": "input_audio", "input_audio": b64},
                {"type": "text", "text": prompt},
            ],
        }
    ]


def test_chat_complete(fake_server: FakeMistral, client: Mistral, mp3_file: Path) -> None:
    res = client.chat.complete(
        model=CHAT_MODEL, messages=audio_message(mp3_file, "Summarise this.")
    )
    text = res.choices[0].message.content
    assert isinstance(text, str)
    assert "1 audio chunk(s)" in text and "Summarise this." in text
    assert res.choices[0].finish_reason == "stop"
    assert res.usage.prompt_audio_seconds == 3
    (req,) = fake_server.chat_requests()
    assert req.json["model"] == CHAT_MODEL
    assert req.audio_seconds == pytest.approx(SPEECH_SECONDS, abs=0.1)

    fake_server.set_chat(lambda r: f"{len(r.json['messages'])} message(s)")
    res = client.chat.complete(model=CHAT_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert res.choices[0].message.content == "1 message(s)"


def test_chat_stream(fake_server: FakeMistral, client: Mistral, wav_file: Path) -> None:
    fake_server.set_chat("The quick brown fox.")
    with client.chat.stream(model=MODEL, messages=audio_message(wav_file, "Go")) as events:
        chunks = list(events)
    assert "".join(c.data.choices[0].delta.content or "" for c in chunks) == (
        "The quick brown fox."
    )
    assert chunks[-1].data.choices[0].finish_reason == "stop"
    assert chunks[-1].data.usage is not None and chunks[-1].data.usage.prompt_audio_seconds == 3
    assert fake_server.chat_requests()[0].json["stream"] is True


# -- files -----------------------------------------------------------------------------------


def test_files_upload_signed_url_delete(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    with wav_file.open("rb") as fh:
        up = client.files.upload(file={"file_name": "speech.wav", "content": fh}, purpose="audio")
    assert up.size_bytes == wav_file.stat().st_size and up.filename == "speech.wav"
    assert up.purpose == "audio"
    stored = fake_server.uploaded_files[up.id]
    assert stored.data == wav_file.read_bytes()
    assert fake_server.file_requests()[0].fields["purpose"] == ["audio"]

    signed = client.files.get_signed_url(file_id=up.id, expiry=2)
    assert signed.url.startswith(f"{fake_server.url}/signed/{up.id}?")
    assert fake_server.requests[-1].query["expiry"] == ["2"]
    with urllib.request.urlopen(signed.url) as resp:
        assert resp.read() == stored.data

    # a signed URL of ours (or a file_id) transcribes with the uploaded audio's duration
    res = client.audio.transcriptions.complete(model=MODEL, file_url=signed.url)
    assert res.usage.prompt_audio_seconds == 3
    res = client.audio.transcriptions.complete(model=MODEL, file_id=up.id)
    assert res.usage.prompt_audio_seconds == 3

    deleted = client.files.delete(file_id=up.id)
    assert deleted.deleted is True and deleted.id == up.id
    assert fake_server.deleted_file_ids == [up.id] and up.id not in fake_server.uploaded_files
    with pytest.raises(SDKError) as err:
        client.files.delete(file_id=up.id)
    assert err.value.status_code == 404


def test_files_metadata_download_and_list(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    audio = client.files.upload(
        file={"file_name": "speech.wav", "content": wav_file.read_bytes()},
        purpose="audio",
        expiry=2,
        visibility="user",
    )
    stored = fake_server.uploaded_files[audio.id]
    assert (stored.purpose, stored.expiry, stored.visibility) == ("audio", 2, "user")
    assert audio.expires_at == audio.created_at + 7200 and audio.visibility == "user"
    assert audio.sample_type == "instruct" and audio.source == "upload"
    # files.download accepts application/octet-stream only, whatever was uploaded
    assert client.files.download(file_id=audio.id).read() == wav_file.read_bytes()

    jsonl = b'{"custom_id": "a", "body": {}}\n\n{"custom_id": "b", "body": {}}\n'
    batch = client.files.upload(file={"file_name": "in.jsonl", "content": jsonl}, purpose="batch")
    assert (batch.purpose, batch.sample_type, batch.num_lines) == ("batch", "batch_request", 2)
    assert batch.expires_at is None and batch.visibility == "workspace"  # the SDK's default
    listed = client.files.list()
    assert [f.id for f in listed.data] == [audio.id, batch.id] and listed.total == 2
    assert client.files.retrieve(file_id=batch.id).num_lines == 2

    client.files.delete(file_id=audio.id)
    assert fake_server.deleted_file_ids == [audio.id]
    with pytest.raises(SDKError) as err:
        client.files.download(file_id=audio.id)
    assert err.value.status_code == 404


# -- models -------------------------------------------------------------------------------------


def test_models_list(fake_server: FakeMistral, client: Mistral) -> None:
    cards = {card.id: card for card in client.models.list().data or []}
    assert set(cards) == {
        "voxtral-mini-transcribe-3-0",
        "voxtral-mini-transcribe-realtime-3-0",
        "voxtral-small-transcribe-3",
        "voxtral-mini-2602",
        "voxtral-mini-transcribe-realtime-2602",
        "voxtral-small-2507",
        "mistral-small-2506",
    }
    assert all(isinstance(card, BaseModelCard) for card in cards.values())
    v3 = cards["voxtral-mini-transcribe-3-0"]
    assert v3.aliases == ["voxtral-mini-transcribe-3", "voxtral-mini-transcribe-latest"]
    assert v3.max_context_length == 65536 and v3.deprecation is None
    assert v3.capabilities.audio_transcription and not v3.capabilities.completion_chat
    caps = v3.audio_transcription_capabilities
    assert caps is not None and caps.modes == ["offline"]
    assert caps.timestamp_granularities == ["segment"] and caps.diarization and caps.context_bias
    assert caps.languages is not None and len(caps.languages) == 13 and "ja" in caps.languages

    realtime = cards["voxtral-mini-transcribe-realtime-3-0"]
    rt_caps = realtime.audio_transcription_capabilities
    assert realtime.capabilities.audio_transcription_realtime
    assert rt_caps is not None and rt_caps.modes == ["realtime"] and rt_caps.turn_detection
    delays = [(r.min, r.max) for r in rt_caps.streaming_delays_ms or []]
    assert delays == [(80, 1200), (2400, 2400)]

    old = cards["voxtral-mini-transcribe-realtime-2602"]
    assert old.deprecation is not None and old.deprecation.year == 2027
    assert old.deprecation_replacement_model == "voxtral-mini-transcribe-realtime-3-0"
    chat = cards["voxtral-small-2507"]
    assert chat.capabilities.completion_chat and chat.capabilities.audio
    assert not chat.capabilities.audio_transcription
    assert chat.audio_transcription_capabilities is None
    assert not cards["mistral-small-2506"].capabilities.audio
    assert len(fake_server.models_requests()) == 1


def test_models_retrieve_by_alias(fake_server: FakeMistral, client: Mistral) -> None:
    card = client.models.retrieve(model_id=MODEL)
    assert isinstance(card, BaseModelCard) and card.id == "voxtral-mini-2602"
    caps = card.audio_transcription_capabilities
    assert caps is not None and caps.timestamp_granularities == ["segment", "word"]
    assert client.models.retrieve(model_id="voxtral-mini-transcribe-latest").id == (
        "voxtral-mini-transcribe-3-0"
    )
    with pytest.raises(SDKError) as err:
        client.models.retrieve(model_id="voxtral-mini-2507")  # retired
    assert err.value.status_code == 404
    assert json.loads(err.value.body)["object"] == "error"
    assert [r.path for r in fake_server.models_requests()] == [
        f"/v1/models/{MODEL}",
        "/v1/models/voxtral-mini-transcribe-latest",
        "/v1/models/voxtral-mini-2507",
    ]


def test_catalogue_can_be_changed_or_hidden(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.models["custom-1"] = model_card(
        "custom-1",
        aliases=["custom-latest"],
        capabilities=["audio", "audio_transcription"],
        transcription=transcription_capabilities(timestamp_granularities=["word"]),
    )
    assert client.models.retrieve(model_id="custom-latest").id == "custom-1"
    res = client.audio.transcriptions.complete(
        model="custom-latest", file_url="https://e.x/a", timestamp_granularities=["word"]
    )
    assert res.segments and res.segments[0].text == "Hello"

    del fake_server.models["voxtral-mini-2602"]
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
    assert err.value.status_code == 404

    fake_server.models_endpoint = False  # a gateway without /v1/models
    for call in (client.models.list, lambda: client.models.retrieve(model_id="custom-1")):
        with pytest.raises(SDKError) as err:
            call()
        assert err.value.status_code == 404
    assert client.audio.transcriptions.complete(model="custom-1", file_url="https://e.x/a").text
    assert len(fake_server.models_requests()) == 3


_NO_ACCESS = "does not exist or you do not have access"


@pytest.mark.parametrize(
    ("model", "options", "status", "message"),
    [
        ("voxtral-nope", {}, 404, f"Invalid model: voxtral-nope {_NO_ACCESS}"),
        ("voxtral-mini-2507", {}, 404, f"Invalid model: voxtral-mini-2507 {_NO_ACCESS}"),
        (CHAT_MODEL, {}, 400, f"Model {CHAT_MODEL} does not support audio transcription"),
        (
            "voxtral-mini-transcribe-realtime-latest",
            {},
            400,
            "Model voxtral-mini-transcribe-realtime-latest does not support audio transcription",
        ),
        (
            "voxtral-mini-transcribe-latest",
            {"timestamp_granularities": ["word"]},
            400,
            "Word-level segments are not enabled for this model",
        ),
        (
            "voxtral-mini-transcribe-3",
            {"language": "sv"},
            400,
            "Language 'sv' is not supported by this model",
        ),
    ],
)
def test_transcription_model_rules(
    client: Mistral, model: str, options: dict[str, object], status: int, message: str
) -> None:
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(model=model, file_url="https://e.x/a", **options)
    body = json.loads(err.value.body)
    assert err.value.status_code == status
    assert (body["object"], body["message"]) == ("error", message)


def test_capabilities_a_card_lacks_are_refused(fake_server: FakeMistral, client: Mistral) -> None:
    caps = fake_server.models["voxtral-small-transcribe-3"]["audio_transcription_capabilities"]
    caps.update(diarization=False, context_bias=False)
    small = "voxtral-small-transcribe-latest"
    for options, message in [
        ({"diarize": True}, "Diarization is not enabled for this model"),
        ({"context_bias": ["Voxtral"]}, "Context bias is not enabled for this model"),
    ]:
        with pytest.raises(SDKError) as err:
            client.audio.transcriptions.complete(model=small, file_url="https://e.x/a", **options)
        assert err.value.status_code == 400
        assert json.loads(err.value.body)["message"] == message
    assert client.audio.transcriptions.complete(model=small, file_url="https://e.x/a").text


def test_audio_and_bias_share_the_context(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.url_duration = 5240.0  # 65,500 audio tokens of 65,536
    fits = ["abcdefghijklmnop"] * 9  # 9 terms of 4 tokens: exactly 65,536
    res = client.audio.transcriptions.complete(
        model="voxtral-mini-transcribe-latest", file_url="https://e.x/a", context_bias=fits
    )
    assert res.usage.prompt_tokens == 65500
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(
            model="voxtral-mini-transcribe-latest",
            file_url="https://e.x/a",
            context_bias=[*fits, "x"],  # a term of one character still takes a token
        )
    assert err.value.status_code == 400
    assert "65537 tokens" in json.loads(err.value.body)["message"]
    # the previous generation has a longer context
    assert client.audio.transcriptions.complete(
        model=MODEL, file_url="https://e.x/a", context_bias=[*fits, "x"]
    ).text


def test_unlisted_models_and_enforcement_off(fake_server: FakeMistral, client: Mistral) -> None:
    res = client.audio.transcriptions.complete(
        model="from-flag", file_url="https://e.x/a", timestamp_granularities=["word"]
    )
    assert res.model == "from-flag" and res.segments
    fake_server.enforce_models = False
    assert client.audio.transcriptions.complete(model="anything", file_url="https://e.x/a").text
    assert client.chat.complete(model="anything", messages=[{"role": "user", "content": "hi"}])


def test_chat_model_rules(fake_server: FakeMistral, client: Mistral) -> None:
    hello = [{"role": "user", "content": "hi"}]
    for model in ("voxtral-mini-2507", "nope"):
        with pytest.raises(SDKError) as err:
            client.chat.complete(model=model, messages=hello)
        assert err.value.status_code == 404
    # voxcli's chat default names a transcription card: let through
    assert client.chat.complete(model=MODEL, messages=hello).choices
    fake_server.url_duration = 2700.0  # 33,750 audio tokens > 32,768
    url_audio = [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": "https://e.x/a"}]}
    ]
    with pytest.raises(SDKError) as err:
        client.chat.complete(model=CHAT_MODEL, messages=url_audio)
    assert err.value.status_code == 400 and "32768" in json.loads(err.value.body)["message"]


# -- speaker references -------------------------------------------------------------------------


def b64_tone(tmp_path: Path, seconds: float) -> str:
    path = make_tone_wav(tmp_path / f"ref{seconds}.wav", seconds, samplerate=8000)
    return base64.b64encode(path.read_bytes()).decode()


def test_speaker_references_name_the_speakers(
    fake_server: FakeMistral, client: Mistral, tmp_path: Path
) -> None:
    fake_server.segment_seconds = 1.0  # 5 segments for the 5 s URL
    refs = {"Ann": b64_tone(tmp_path, 4.0), "Bob": "https://e.x/bob.wav"}
    res = client.audio.transcriptions.complete(
        model="voxtral-mini-transcribe-latest",
        file_url="https://e.x/a",
        diarize=True,
        timestamp_granularities=["segment"],
        speaker_references=refs,
    )
    assert [s.speaker_id for s in res.segments or []] == ["Ann", "Bob", "Ann", "Bob", "Ann"]
    (req,) = fake_server.transcription_requests()
    assert req.speaker_references == refs

    # one reference: the second speaker keeps its generic label
    res = client.audio.transcriptions.complete(
        model=MODEL,
        file_url="https://e.x/a",
        diarize=True,
        timestamp_granularities=["segment"],
        speaker_references={"Ann": refs["Ann"]},
    )
    assert [s.speaker_id for s in res.segments or []][:2] == ["Ann", "speaker_2"]


def test_speaker_reference_rules(client: Mistral, tmp_path: Path, wav_file: Path) -> None:
    nine = {f"s{i}": f"https://e.x/{i}.wav" for i in range(9)}
    short = base64.b64encode(wav_file.read_bytes()).decode()  # 2.8 s
    cases = [
        (nine, True, "At most 8 speaker references are supported, got 9"),
        ({"Ann": "https://e.x/ann.wav"}, False, "speaker_references requires diarize=true"),
        ({"Ann": short}, True, "Speaker reference 'Ann' must be 3 to 15 seconds long, got 2.8 s"),
        ({"Ann": b64_tone(tmp_path, 16.0)}, True, "must be 3 to 15 seconds long, got 16.0 s"),
        ({"Ann": "bm90IGF1ZGlv"}, True, "Speaker reference 'Ann' is not decodable audio"),
    ]
    for refs, diarize, message in cases:
        with pytest.raises(SDKError) as err:
            client.audio.transcriptions.complete(
                model=MODEL, file_url="https://e.x/a", diarize=diarize, speaker_references=refs
            )
        assert err.value.status_code == 400
        assert json.loads(err.value.body)["message"].endswith(message)


# -- batch --------------------------------------------------------------------------------------

TRANSCRIBE = "/v1/audio/transcriptions"
V3 = "voxtral-mini-transcribe-latest"


def upload_jsonl(client: Mistral, lines: list[object]) -> str:
    data = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    up = client.files.upload(
        file={"file_name": "in.jsonl", "content": data.encode()}, purpose="batch"
    )
    return up.id


def read_output(client: Mistral, file_id: str | None) -> BatchOutput[TranscriptionResponse]:
    """An output or error file, parsed by the SDK's own batch helper."""
    assert file_id is not None
    raw = client.files.download(file_id=file_id).read()
    return BatchOutput.from_jsonl_bytes(raw, TranscriptionResponse)


def inline_requests(count: int) -> list[dict[str, object]]:
    return [{"custom_id": f"r{i}", "body": {"file_url": f"https://e.x/{i}"}} for i in range(count)]


def test_batch_job_runs_every_line_like_the_endpoint(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    audio = client.files.upload(
        file={"file_name": "speech.wav", "content": wav_file.read_bytes()}, purpose="audio"
    )
    segment = {
        "file_id": audio.id,
        "timestamp_granularities": ["segment"],
        "diarize": True,
        "speaker_references": {"Ann": "https://e.x/ann.wav"},
    }
    lines: list[object] = [
        {"custom_id": "ok", "body": segment},
        {"custom_id": "fr", "body": {"file_url": "https://e.x/a", "language": "fr"}},
        {"custom_id": "word", "body": {"file_id": audio.id, "timestamp_granularities": ["word"]}},
        {"custom_id": "busy", "body": {"file_id": audio.id}},
        "not json",
    ]
    fake_server.fail_batch_requests("busy", status=503, message="Overloaded")
    job = client.batch.jobs.create(
        endpoint=TRANSCRIBE,
        input_files=[upload_jsonl(client, lines)],
        model=V3,
        metadata={"run": "1"},
        timeout_hours=2,
    )
    assert (job.status, job.total_requests, job.output_file) == ("QUEUED", 5, None)
    assert [client.batch.jobs.get(job_id=job.id).status for _ in range(3)] == [
        "RUNNING",
        "SUCCESS",
        "SUCCESS",
    ]
    done = client.batch.jobs.get(job_id=job.id)
    assert (done.completed_requests, done.succeeded_requests, done.failed_requests) == (5, 2, 3)
    assert done.metadata == {"run": "1"} and done.model == V3 and done.completed_at

    output = read_output(client, done.output_file)
    direct = client.audio.transcriptions.complete(model=V3, **segment)  # type: ignore[arg-type]
    assert output.responses["ok"] == direct
    assert [s.speaker_id for s in direct.segments or []] == ["Ann", "speaker_2"]
    assert (
        output.responses["fr"].language == "fr"
        and output.responses["fr"].usage.prompt_audio_seconds == 5
    )
    errors = {e.custom_id: e for e in read_output(client, done.error_file).request_errors}
    assert set(errors) == {"word", "busy", None}
    assert errors["word"].status_code == 400
    assert errors["word"].error["message"] == "Word-level segments are not enabled for this model"
    assert (errors["busy"].status_code, errors["busy"].error["message"]) == (503, "Overloaded")
    assert errors[None].status_code == 400

    record = fake_server.batch_jobs[job.id]
    assert [line.custom_id for line in record.lines] == ["ok", "fr", "word", "busy", None]
    assert record.lines[0].body == segment and record.request["timeout_hours"] == 2
    assert fake_server.uploaded_files[done.output_file].sample_type == "batch_result"


def test_batch_inline_requests_and_inline_outputs(
    fake_server: FakeMistral, client: Mistral
) -> None:
    def answer(req: RecordedRequest, duration: float) -> dict[str, object]:
        if req.field("file_url") == "https://e.x/1":
            raise RuntimeError("broken override")
        return {**fake_server.default_transcription(req, duration), "text": "overridden"}

    fake_server.set_transcription(answer)  # batch lines are answered like the endpoint
    job = client.batch.jobs.create(endpoint=TRANSCRIBE, requests=inline_requests(3), model=MODEL)
    assert job.input_files == [] and fake_server.batch_jobs[job.id].input_files == []
    client.batch.jobs.get(job_id=job.id)
    assert client.batch.jobs.get(job_id=job.id).outputs is None  # only when asked for
    done = client.batch.jobs.get(job_id=job.id, inline=True)
    assert (done.status, done.succeeded_requests, done.failed_requests) == ("SUCCESS", 2, 1)
    outputs = {o["custom_id"]: o for o in done.outputs or []}
    assert list(outputs) == ["r0", "r1", "r2"]
    assert outputs["r0"]["response"]["body"]["text"] == "overridden"
    assert outputs["r1"]["response"]["status_code"] == 500
    assert "broken override" in outputs["r1"]["error"]["message"]
    assert isinstance(fake_server.errors[0], RuntimeError)


@pytest.mark.parametrize(
    ("outcome", "completed", "has_errors"),
    [("FAILED", 0, True), ("TIMEOUT_EXCEEDED", 2, True), ("CANCELLED", 2, False)],
)
def test_batch_outcomes(
    fake_server: FakeMistral, client: Mistral, outcome: str, completed: int, has_errors: bool
) -> None:
    fake_server.batch_outcome = outcome
    job = client.batch.jobs.create(endpoint=TRANSCRIBE, requests=inline_requests(5), model=MODEL)
    client.batch.jobs.get(job_id=job.id)
    done = client.batch.jobs.get(job_id=job.id)
    assert done.status == outcome
    assert (done.total_requests, done.completed_requests, done.succeeded_requests) == (
        5,
        completed,
        completed,
    )
    assert bool(done.errors) == has_errors
    if completed:
        assert list(read_output(client, done.output_file).responses) == ["r0", "r1"]
    else:
        assert done.output_file is None


def test_batch_cancel(fake_server: FakeMistral, client: Mistral) -> None:
    queued = client.batch.jobs.create(endpoint=TRANSCRIBE, requests=inline_requests(4), model=MODEL)
    assert client.batch.jobs.cancel(job_id=queued.id).status == "CANCELLATION_REQUESTED"
    cancelled = client.batch.jobs.get(job_id=queued.id)
    assert (cancelled.status, cancelled.completed_requests) == ("CANCELLED", 0)
    assert client.batch.jobs.cancel(job_id=queued.id).status == "CANCELLED"  # stays settled

    running = client.batch.jobs.create(
        endpoint=TRANSCRIBE, requests=inline_requests(4), model=MODEL
    )
    assert client.batch.jobs.get(job_id=running.id).status == "RUNNING"
    client.batch.jobs.cancel(job_id=running.id)
    cancelled = client.batch.jobs.get(job_id=running.id)
    assert (cancelled.status, cancelled.succeeded_requests) == ("CANCELLED", 2)


def test_batch_timed_lifecycle_and_list(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.batch_step_seconds = 60.0
    first = client.batch.jobs.create(endpoint=TRANSCRIBE, requests=inline_requests(1), model=MODEL)
    second = client.batch.jobs.create(endpoint=TRANSCRIBE, requests=inline_requests(1), model=V3)
    for _ in range(3):  # polling alone does not move it on
        assert client.batch.jobs.get(job_id=first.id).status == "QUEUED"

    def age(seconds: float) -> None:  # as if the jobs had been created that much earlier
        for job in fake_server.batch_jobs.values():
            job.created_mono -= seconds

    age(61.0)
    assert client.batch.jobs.get(job_id=first.id).status == "RUNNING"
    age(60.0)
    listed = client.batch.jobs.list()
    assert [j.id for j in listed.data or []] == [second.id, first.id]  # newest first
    assert {j.status for j in listed.data or []} == {"SUCCESS"}
    assert [j.id for j in client.batch.jobs.list(order_by="created").data or []] == [
        first.id,
        second.id,
    ]
    by_model = client.batch.jobs.list(model=V3)
    assert by_model.total == 1 and (by_model.data or [])[0].id == second.id
    assert client.batch.jobs.list(status=["RUNNING"]).total == 0
    assert client.batch.jobs.list(page=1, page_size=1).data[0].id == first.id  # type: ignore[index]


def test_batch_create_is_checked(fake_server: FakeMistral, client: Mistral, wav_file: Path) -> None:
    audio = client.files.upload(
        file={"file_name": "speech.wav", "content": wav_file.read_bytes()}, purpose="audio"
    )
    one = inline_requests(1)
    cases: list[tuple[dict[str, object], int]] = [
        ({"requests": one, "model": "voxtral-mini-2507"}, 404),
        ({"requests": one, "model": CHAT_MODEL}, 400),
        ({"input_files": [audio.id], "model": MODEL}, 400),  # not a batch file
        ({"input_files": ["nope"], "model": MODEL}, 404),
        ({"model": MODEL}, 400),
        ({"requests": one, "input_files": [upload_jsonl(client, one)], "model": MODEL}, 400),
        ({"requests": one, "model": MODEL, "endpoint": "/v1/chat/completions"}, 400),
    ]
    for options, status in cases:
        with pytest.raises(SDKError) as err:
            client.batch.jobs.create(**{"endpoint": TRANSCRIBE, **options})  # type: ignore[arg-type]
        assert err.value.status_code == status, options
    with pytest.raises(SDKError) as err:
        client.batch.jobs.get(job_id="nope")
    assert err.value.status_code == 404
    assert fake_server.batch_jobs == {}
    assert len(fake_server.batch_requests()) == len(cases) + 1


# -- auth, errors and faults -------------------------------------------------------------------


def test_unauthorized(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.require_key("sk-other")
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
    assert err.value.status_code == 401
    assert json.loads(err.value.body)["message"] == "Unauthorized"
    assert fake_server.requests[0].authorization == f"Bearer {TEST_API_KEY}"
    assert fake_server.requests[0].fault == "auth"

    fake_server.require_key(TEST_API_KEY)
    client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
    fake_server.reject_all_keys()
    with pytest.raises(SDKError) as err:
        client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 401


def test_unknown_path_is_404(fake_server: FakeMistral) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{fake_server.url}/v1/nope")
    assert err.value.code == 404
    body = json.loads(err.value.read())
    assert body["object"] == "error" and "/v1/nope" in body["message"]
    assert set(body) >= {"type", "code"}


def test_rate_limit_then_retry(fake_server: FakeMistral, client: Mistral, wav_file: Path) -> None:
    fake_server.fail_next(429, headers={"Retry-After": "1"})
    # without a retry config the SDK does not retry
    with pytest.raises(SDKError) as err:
        client.audio.transcriptions.complete(model=MODEL, file=wav_part(wav_file))
    assert err.value.status_code == 429 and err.value.headers["retry-after"] == "1"

    fake_server.fail_next(429, headers={"Retry-After": "1"})
    started = time.monotonic()
    with wav_file.open("rb") as fh:
        res = client.audio.transcriptions.complete(
            model=MODEL,
            file={"file_name": "speech.wav", "content": fh},
            retries=fast_retries(),
        )
    assert time.monotonic() - started >= 0.95  # Retry-After honoured over the 10 ms backoff
    assert res.text
    first, second = fake_server.transcription_requests()[1:]
    assert (first.status, first.fault, second.status) == (429, "fail", 200)
    # the file object is rewound and sent again in full
    assert first.file() is not None and second.file() is not None
    assert first.file().sha256 == second.file().sha256  # type: ignore[union-attr]
    assert second.file().size == wav_file.stat().st_size  # type: ignore[union-attr]


def test_fail_next_path_filter_and_body(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.fail_next(503, path="/v1/chat", body="overloaded", times=2)
    client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
    for _ in range(2):
        with pytest.raises(SDKError) as err:
            client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        assert err.value.status_code == 503 and err.value.body == "overloaded"
    client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert [r.status for r in fake_server.requests] == [200, 503, 503, 200]
    assert fake_server.max_in_flight == 1  # sequential calls never overlap


def test_override_errors_surface_as_500(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.set_chat(lambda r: 1 / 0)
    with pytest.raises(SDKError) as err:
        client.chat.complete(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert err.value.status_code == 500 and "ZeroDivisionError" in err.value.body
    assert isinstance(fake_server.errors[0], ZeroDivisionError)


def test_dropped_connection(fake_server: FakeMistral, client: Mistral, wav_file: Path) -> None:
    fake_server.drop_next()
    with pytest.raises(httpx2.RemoteProtocolError):
        client.audio.transcriptions.complete(model=MODEL, file=wav_part(wav_file))
    (req,) = fake_server.requests
    assert (req.fault, req.status, req.body_size > 90_000) == ("drop", None, True)

    # a reset is a NetworkError, which retry_connection_errors=True retries
    fake_server.drop_next(reset=True)
    res = client.audio.transcriptions.complete(
        model=MODEL, file=wav_part(wav_file), retries=fast_retries(connection_errors=True)
    )
    assert res.text and [r.fault for r in fake_server.requests[1:]] == ["drop", None]


def test_slow_answer_times_out(fake_server: FakeMistral, client: Mistral) -> None:
    fake_server.slow_next(5)
    started = time.monotonic()
    with pytest.raises(httpx2.TimeoutException):
        client.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a", timeout_ms=200)
    assert time.monotonic() - started < 2


def test_delays_reorder_answers(fake_server: FakeMistral) -> None:
    fake_server.delay_fn = lambda r: 0.4 if r.field("file_url") == "https://e.x/slow" else 0.0
    fake_server.latency = 0.05
    done: list[str] = []

    def call(name: str) -> None:
        with Mistral(api_key=TEST_API_KEY, server_url=fake_server.url) as sdk:
            sdk.audio.transcriptions.complete(model=MODEL, file_url=f"https://e.x/{name}")
        done.append(name)

    threads = [threading.Thread(target=call, args=(m,)) for m in ("slow", "fast")]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(5)
    assert done == ["fast", "slow"]
    assert fake_server.max_in_flight == 2


def test_latency_per_audio_second(
    fake_server: FakeMistral, client: Mistral, wav_file: Path
) -> None:
    fake_server.latency_per_audio_second = 0.1
    started = time.monotonic()
    client.audio.transcriptions.complete(model=MODEL, file=wav_part(wav_file))
    assert time.monotonic() - started >= 0.28


def test_stop_does_not_hang_with_slow_request_in_flight() -> None:
    fake = FakeMistral().start()
    fake.slow_next(30)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with Mistral(api_key=TEST_API_KEY, server_url=fake.url) as sdk:
                sdk.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    fake.wait_for_requests(1)
    started = time.monotonic()
    fake.stop()
    worker.join(5)
    assert time.monotonic() - started < 2 and not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], httpx2.TransportError)


# -- memory mode and bandwidth --------------------------------------------------------------


def test_keep_bodies_false_and_bandwidth(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "long.wav", 60.0)  # 1.9 MB; header says 60 s
    data = path.read_bytes()
    with (
        FakeMistral(keep_bodies=False, read_bandwidth=10_000_000) as fake,
        Mistral(api_key=TEST_API_KEY, server_url=fake.url) as sdk,
    ):
        started = time.monotonic()
        with path.open("rb") as fh:
            res = sdk.audio.transcriptions.complete(
                model=MODEL, file={"file_name": "long.wav", "content": fh}
            )
        elapsed = time.monotonic() - started
        (req,) = fake.requests
    assert elapsed >= len(data) / 10_000_000 * 0.9
    assert req.body is None and req.body_size > len(data)
    upload = req.file()
    assert upload is not None and upload.data is None
    assert (upload.size, upload.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert upload.duration == pytest.approx(60.0)
    assert res.usage.prompt_audio_seconds == 60
    assert req.fields["model"] == [MODEL]


# -- running on its own ------------------------------------------------------------------------


def test_runs_on_its_own() -> None:
    script = Path(__file__).with_name("fake_mistral.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--require-key", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.fullmatch(
            r"export MISTRAL_SERVER_URL=(http://127\.0\.0\.1:\d+) MISTRAL_API_KEY=(\S+)\n", line
        )
        assert m is not None, line
        url, key = m.groups()
        assert key == TEST_API_KEY
        with Mistral(api_key=key, server_url=url) as sdk:
            assert sdk.models.retrieve(model_id=MODEL).id == "voxtral-mini-2602"
        with Mistral(api_key="sk-wrong", server_url=url) as sdk, pytest.raises(SDKError) as err:
            sdk.models.list()
        assert err.value.status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- helpers -----------------------------------------------------------------------------------


def test_multipart_parser_any_chunking() -> None:
    boundary = "b0undary"
    payload = bytes(range(256)) * 50 + b"\r\n--b0undar"  # near-boundary bytes inside the data
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="k"\r\n\r\nv1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="k"\r\n\r\nv2\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a%22b.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    fields, files = parse_multipart(body, f"multipart/form-data; boundary={boundary}")
    assert fields == {"k": ["v1", "v2"], "empty": [""]}
    (f,) = files["file"]
    assert (f.filename, f.content_type, f.data) == ('a"b.wav', "audio/wav", payload)

    rng = random.Random(7)
    for _ in range(20):
        got_fields: dict[str, list[str]] = {}
        got_files: dict[str, list[UploadedFile]] = {}

        def sink(h: dict[str, str], fo=got_fields, fi=got_files) -> _FieldSink:
            return _FieldSink(h, fo, fi, True)

        parser = MultipartParser(boundary.encode(), sink)
        pos = 0
        while pos < len(body):
            step = rng.randint(1, 40)
            parser.feed(body[pos : pos + step])
            pos += step
        parser.close()
        assert got_fields == fields
        assert got_files["file"][0].data == payload


def test_sse_frame() -> None:
    assert sse_frame({"a": 1}, "x.y") == b'event: x.y\ndata: {"a":1}\n\n'
    assert sse_frame("[DONE]") == b"data: [DONE]\n\n"


def test_probe_audio_duration(
    wav_file: Path, flac_file: Path, mp3_file: Path, ogg_file: Path, not_audio_file: Path
) -> None:
    for path in (wav_file, flac_file, ogg_file):
        assert probe_audio_duration(path.read_bytes()) == pytest.approx(SPEECH_SECONDS)
    assert probe_audio_duration(mp3_file.read_bytes()) == pytest.approx(SPEECH_SECONDS, abs=0.1)
    assert probe_audio_duration(not_audio_file.read_bytes()) is None
    assert probe_audio_duration(b"") is None
    head = wav_file.read_bytes()[:1000]
    assert probe_audio_duration(head, wav_file.stat().st_size) == pytest.approx(SPEECH_SECONDS)


def test_samples_are_small_and_valid(data_dir: Path, empty_wav_file: Path) -> None:
    sizes = {p.name: p.stat().st_size for p in data_dir.iterdir() if p.is_file()}
    assert sum(sizes.values()) < 300_000
    assert empty_wav_file.stat().st_size == 0
    for name in ("speech.wav", "speech.flac", "speech.mp3", "speech.ogg"):
        info = sf.info(data_dir / name)
        assert (info.samplerate, info.channels) == (16000, 1)
        assert 2.0 < info.duration < 3.5
    assert sf.info(data_dir / "speech.wav").subtype == "PCM_16"


def test_make_tone_wav(tmp_path: Path) -> None:
    path = make_tone_wav(
        tmp_path / "t.wav", 3.0, samplerate=8000, channels=2, silence_at=[(1.0, 1.5)]
    )
    data, rate = sf.read(path)
    assert rate == 8000 and data.shape == (24000, 2)
    assert abs(data[8000:12000]).max() == 0.0
    assert abs(data[:8000]).max() > 0.4 and abs(data[12000:]).max() > 0.4
    ogg = make_tone_wav(tmp_path / "t.ogg", 1.0, subtype="VORBIS")
    assert sf.info(ogg).format == "OGG"


def test_isolated_env(tmp_path: Path, api_env: FakeMistral) -> None:
    assert os.environ["HOME"] == str(tmp_path / "home")
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(tmp_path))
    assert os.environ["COLUMNS"] == "120" and os.environ["TERM"] == "dumb"
    assert os.environ["MISTRAL_API_KEY"] == TEST_API_KEY
    assert os.environ["MISTRAL_SERVER_URL"] == api_env.url
    assert not any(k.startswith("VOXCLI_") for k in os.environ)
    assert "NO_COLOR" not in os.environ and "MISTRAL_DEBUG" not in os.environ
    # the SDK picks both up from the environment
    with Mistral(server_url=os.environ["MISTRAL_SERVER_URL"]) as sdk:
        sdk.audio.transcriptions.complete(model=MODEL, file_url="https://e.x/a")
    assert api_env.requests[0].authorization == f"Bearer {TEST_API_KEY}"
