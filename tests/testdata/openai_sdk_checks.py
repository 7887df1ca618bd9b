"""Checks the service's OpenAI-compatible API with the official OpenAI Python SDK.

    python3 openai_sdk_checks.py --base-url URL/v1 --api-key KEY --audio sample.wav \
        --default-model tiny.en-q8_0 [--wrong-key KEY] [--only NAME ...]

Runs every check, even after one fails, and prints one JSON line per check:
{"check": name, "ok": true, "values": {...}} or {"check": name, "ok": false,
"error": "..."}. "values" hold what the SDK gave; a "text" among them is a
transcript for the caller to compare with the audio's words. Exits 1 when a
check failed. Subtitles are parsed here with our own reading of SRT and WebVTT,
independent of the service's writers.
"""

import argparse
import json
import re
import sys
import traceback
import wave

import openai
from openai.types.audio import (
    Transcription,
    TranscriptionTextDeltaEvent,
    TranscriptionTextDoneEvent,
    TranscriptionVerbose,
)

TIMING = re.compile(
    r"^(\d\d):(\d\d):(\d\d)([,.])(\d\d\d) --> (\d\d):(\d\d):(\d\d)([,.])(\d\d\d)$"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

args = argparse.ArgumentParser()
args.add_argument("--base-url", required=True)
args.add_argument("--api-key", required=True)
args.add_argument("--audio", required=True)
args.add_argument("--default-model", required=True)
args.add_argument("--wrong-key")
args.add_argument("--only", nargs="*")
opts = args.parse_args()

# No retries: a 5xx or a timeout must show here, not be retried away.
client = openai.OpenAI(
    base_url=opts.base_url, api_key=opts.api_key, max_retries=0, timeout=60
)
with wave.open(opts.audio) as w:
    AUDIO_S = w.getnframes() / w.getframerate()
with open(opts.audio, "rb") as f:
    AUDIO = ("sample.wav", f.read())
# Timestamps are rounded to milliseconds (subtitles) or 10 ms (whisper's).
SLACK_S = 0.011


def check_times(spans, what, end_limit):
    """Each (start, end) is inside [0, end_limit], and starts and ends never go back."""
    assert spans, f"{what}: none"
    prev_start = prev_end = 0.0
    for i, (start, end) in enumerate(spans):
        assert (
            0 <= start <= end <= end_limit + SLACK_S
        ), f"{what} {i}: {start}..{end} outside 0..{end_limit}"
        assert (
            start >= prev_start and end >= prev_end
        ), f"{what} {i}: {start}..{end} goes back from {prev_start}..{prev_end}"
        prev_start, prev_end = start, end


def parse_cues(body, fmt):
    """(start, end, text) of each cue of SRT or WebVTT, read strictly."""
    blocks = [b for b in body.replace("\r\n", "\n").strip().split("\n\n") if b.strip()]
    if fmt == "vtt":
        header = blocks[0].split("\n")[0] if blocks else ""
        assert header.startswith("WEBVTT"), f"no WEBVTT header: {body!r}"
        blocks = blocks[1:]
    cues = []
    for n, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if fmt == "srt":
            assert lines[0] == str(n), f"SRT cue {n} is numbered {lines[0]!r}"
            lines = lines[1:]
        elif "-->" not in lines[0]:
            lines = lines[1:]  # a WebVTT cue identifier
        m = TIMING.match(lines[0])
        assert m and len(lines) >= 2, f"{fmt} cue {n} is malformed: {block!r}"
        sep = "," if fmt == "srt" else "."
        assert (
            m.group(4) == sep and m.group(9) == sep
        ), f"{fmt} cue {n}: milliseconds after {m.group(4)!r}"
        g = [int(x) for x in m.group(1, 2, 3, 5, 6, 7, 8, 10)]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((start, end, " ".join(lines[1:])))
    return cues


def expect_error(cls, status, call):
    """Runs call; the SDK must raise exactly cls with this status. Returns the error."""
    try:
        result = call()
    except openai.APIStatusError as e:
        assert (
            type(e) is cls
        ), f"raised {type(e).__name__} ({e.status_code}: {e.body}), expected {cls.__name__}"
        assert e.status_code == status, f"status {e.status_code}, expected {status}"
        assert e.type == "invalid_request_error", f"error type {e.type!r}"
        return e
    raise AssertionError(f"no error; got {result!r}")


def error_values(e):
    return {
        "class": f"openai.{type(e).__name__}",
        "status": e.status_code,
        "code": e.code,
        "param": e.param,
        "message": e.message,
    }


def check_json():
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=AUDIO
    )
    r = raw.parse()
    assert type(r) is Transcription, f"parsed as {type(r).__name__}"
    assert isinstance(r.text, str) and r.text.strip(), f"text {r.text!r}"
    assert (
        raw.headers.get("x-model") == opts.default_model
    ), f"X-Model {raw.headers.get('x-model')!r}"
    assert UUID.match(
        raw.headers.get("x-job-id", "")
    ), f"X-Job-Id {raw.headers.get('x-job-id')!r}"
    assert r.usage is not None and r.usage.type == "duration", f"usage {r.usage!r}"
    assert (
        AUDIO_S <= r.usage.seconds <= AUDIO_S + 1
    ), f"usage.seconds {r.usage.seconds} for {AUDIO_S} s"
    return {
        "text": r.text,
        "x_model": raw.headers["x-model"],
        "usage_seconds": r.usage.seconds,
    }


def check_text():
    r = client.audio.transcriptions.create(
        model=opts.default_model,
        file=AUDIO,
        response_format="text",
        language="en",
        temperature=0.0,
    )
    assert type(r) is str, f"text came back as {type(r).__name__}"
    return {"text": r}


def check_stream():
    events = list(
        client.audio.transcriptions.create(model="whisper-1", file=AUDIO, stream=True)
    )
    kinds = [type(e).__name__ for e in events]
    assert len(events) >= 2, f"events {kinds}"
    deltas, done = events[:-1], events[-1]
    assert all(type(e) is TranscriptionTextDeltaEvent for e in deltas), kinds
    assert type(done) is TranscriptionTextDoneEvent, kinds
    assert done.type == "transcript.text.done", done.type
    joined = "".join(e.delta for e in deltas)
    assert joined == done.text, f"deltas {joined!r} != done {done.text!r}"
    assert done.usage is not None and done.usage.type == "duration", done.usage
    return {"text": done.text, "events": kinds}


def check_stream_srt():
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.audio.transcriptions.create(
            model="whisper-1", file=AUDIO, stream=True, response_format="srt"
        ),
    )
    return error_values(e)


def check_verbose_json():
    r = client.audio.transcriptions.create(
        model="whisper-1", file=AUDIO, response_format="verbose_json"
    )
    assert type(r) is TranscriptionVerbose, f"parsed as {type(r).__name__}"
    assert r.language == "english", f"language {r.language!r}"
    assert (
        0 < r.duration <= AUDIO_S + SLACK_S
    ), f"duration {r.duration} for {AUDIO_S} s of audio"
    assert r.segments, "no segments"
    assert r.words is None, "words without timestamp_granularities=['word']"
    check_times([(s.start, s.end) for s in r.segments], "segment", r.duration)
    assert [s.id for s in r.segments] == list(range(len(r.segments))), "segment ids"
    for s in r.segments:
        assert s.tokens and all(
            isinstance(t, int) for t in s.tokens
        ), f"segment {s.id} tokens {s.tokens!r}"
        assert s.temperature == 0 and s.compression_ratio > 0, f"segment {s.id}: {s}"
        assert isinstance(s.avg_logprob, float), f"segment {s.id}: {s}"
        # no_speech_prob, a float in the SDK's type, is left out (the engine
        # doesn't report it), so the SDK reads None.
    return {
        "text": r.text,
        "segments_text": " ".join(s.text for s in r.segments),
        "duration": r.duration,
        "segments": [[s.start, s.end] for s in r.segments],
    }


def check_verbose_json_words():
    r = client.audio.transcriptions.create(
        model="whisper-1",
        file=AUDIO,
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert r.words, "no words"
    check_times([(w.start, w.end) for w in r.words], "word", r.duration)
    both = client.audio.transcriptions.create(
        model="whisper-1",
        file=AUDIO,
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert (
        both.words and both.segments
    ), "both granularities: words and segments expected"
    return {
        "text": " ".join(w.word for w in r.words),
        "words": [[w.word, w.start, w.end] for w in r.words],
    }


def check_subtitles(fmt):
    body = client.audio.transcriptions.create(
        model="whisper-1", file=AUDIO, response_format=fmt
    )
    assert type(body) is str, f"{fmt} came back as {type(body).__name__}"
    cues = parse_cues(body, fmt)
    check_times([(s, e) for s, e, _ in cues], f"{fmt} cue", AUDIO_S)
    return {
        "text": " ".join(t for _, _, t in cues),
        "cues": [[s, e] for s, e, _ in cues],
    }


def check_unknown_model():
    e = expect_error(
        openai.NotFoundError,
        404,
        lambda: client.audio.transcriptions.create(model="no-such-model", file=AUDIO),
    )
    assert e.code == "model_not_found" and e.param == "model", error_values(e)
    return error_values(e)


def check_not_audio():
    # The SDK has no class of its own for 415: it raises the APIStatusError base class.
    e = expect_error(
        openai.APIStatusError,
        415,
        lambda: client.audio.transcriptions.create(
            model="whisper-1",
            file=("notes.txt", b"these are notes, not audio\n" * 20, "text/plain"),
        ),
    )
    assert e.param == "file", error_values(e)
    return error_values(e)


def check_bad_temperature():
    e = expect_error(
        openai.BadRequestError,
        400,
        lambda: client.audio.transcriptions.create(
            model="whisper-1", file=AUDIO, temperature=5
        ),
    )
    assert e.param == "temperature" and e.body["param"] == "temperature", error_values(
        e
    )
    assert "temperature" in e.message, e.message
    return error_values(e)


def check_models():
    ids = [m.id for m in client.models.list()]
    assert "whisper-1" in ids and opts.default_model in ids, f"models {ids}"
    alias = client.models.retrieve("whisper-1")
    assert alias.id == "whisper-1" and alias.object == "model", alias
    assert (
        opts.default_model in alias.owned_by
    ), f"whisper-1 owned_by {alias.owned_by!r}"
    assert client.models.retrieve(opts.default_model).id == opts.default_model
    e = expect_error(
        openai.NotFoundError, 404, lambda: client.models.retrieve("no-such-model")
    )
    return {
        "ids": ids,
        "whisper_1_owned_by": alias.owned_by,
        "unknown": error_values(e),
    }


def check_wrong_key():
    wrong = openai.OpenAI(base_url=opts.base_url, api_key=opts.wrong_key, max_retries=0)
    try:
        wrong.audio.transcriptions.create(model="whisper-1", file=AUDIO)
    except openai.APIStatusError as e:
        assert (
            type(e) is openai.AuthenticationError
        ), f"raised {type(e).__name__} ({e.status_code}: {e.body})"
        assert e.status_code == 401 and e.code == "invalid_api_key", error_values(e)
        return error_values(e)
    raise AssertionError("a wrong key was accepted")


CHECKS = {
    "json": check_json,
    "text": check_text,
    "verbose_json": check_verbose_json,
    "verbose_json words": check_verbose_json_words,
    "srt": lambda: check_subtitles("srt"),
    "vtt": lambda: check_subtitles("vtt"),
    "stream": check_stream,
    "stream srt": check_stream_srt,
    "unknown model": check_unknown_model,
    "not audio": check_not_audio,
    "bad temperature": check_bad_temperature,
    "models": check_models,
    "wrong key": check_wrong_key,
}

failed = False
for name, check in CHECKS.items():
    if opts.only is not None and name not in opts.only:
        continue
    try:
        line = {"check": name, "ok": True, "values": check()}
    except Exception as e:  # a failed check is reported, and the next one runs
        failed = True
        detail = (
            str(e) if isinstance(e, AssertionError) else traceback.format_exc(limit=3)
        )
        line = {"check": name, "ok": False, "error": f"{type(e).__name__}: {detail}"}
    print(json.dumps(line), flush=True)
sys.exit(1 if failed else 0)
