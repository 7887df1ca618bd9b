"""Transcribe an audio file with the official OpenAI Python SDK (pip install openai).

    python3 examples/openai_python.py recording.wav          # prints the text
    python3 examples/openai_python.py recording.wav --srt    # prints SRT subtitles
    python3 examples/openai_python.py recording.wav --stream # prints the text as it comes

OPENAI_BASE_URL: the service's /v1 (default http://127.0.0.1:8001/v1).
OPENAI_API_KEY: your API key with AUTH_MODE=api_key; otherwise any name for yourself.
"""

import os
import sys

from openai import OpenAI

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    print(__doc__, file=sys.stderr)
    sys.exit(2)

client = OpenAI(
    base_url=os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8001/v1"),
    api_key=os.environ.get("OPENAI_API_KEY", "me"),
)
# "whisper-1" is the service's default model; client.models.list() names the others.
with open(sys.argv[1], "rb") as audio:
    if "--stream" in sys.argv[2:]:
        # A long recording's text arrives as its first pieces are done.
        for event in client.audio.transcriptions.create(
            model="whisper-1", file=audio, stream=True
        ):
            if event.type == "transcript.text.delta":
                print(event.delta, end="", flush=True)
        print()
    elif "--srt" in sys.argv[2:]:
        srt = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="srt"
        )
        print(srt, end="")
    else:
        transcription = client.audio.transcriptions.create(
            model="whisper-1", file=audio
        )
        print(transcription.text)
