#!/usr/bin/env bash
# Transcribe a recording through the OpenAI-compatible route with curl:
#   OPENAI_BASE_URL=http://127.0.0.1:8001/v1 examples/openai_curl.sh recording.wav [srt|vtt|text|json|verbose_json]
set -euo pipefail
curl --fail-with-body -sS "${OPENAI_BASE_URL:-http://127.0.0.1:8001/v1}/audio/transcriptions" \
  -H "Authorization: Bearer ${OPENAI_API_KEY:-anonymous}" \
  -F file=@"$1" \
  -F model=whisper-1 \
  -F response_format="${2:-json}"
