#!/usr/bin/env bash
# Regenerates the accuracy-benchmark clips: assets/clips/NN.wav.b64 (base64
# of a 16 kHz mono 16-bit PCM WAV, one line) and assets/clips/NN.txt (the
# words spoken, one line), for short English sentences of 1-4 s spoken by
# several espeak-ng voices at several speeds.
#
# Needs: bash, base64 (coreutils) and the Debian packages espeak-ng and sox
#   sudo apt-get install espeak-ng sox
#
# Usage: scripts/make_clips.sh        (from anywhere in the repository)
# Fails (exit 1) if a clip falls outside 1-4 s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/assets/clips"

# voice|words per minute|sentence
clips=(
  "en-us|150|The weather is nice today."
  "en-gb|160|Please open the window."
  "en-us+f3|150|I would like a cup of coffee."
  "en-gb-x-rp|150|The train leaves in the morning."
  "en-us|170|My phone battery is almost empty."
  "en-us+m3|150|We walked along the river after dinner."
  "en-gb+f2|155|Turn left at the next corner."
  "en-us|140|She reads a book every night."
  "en-gb-x-rp|160|The children are playing in the garden."
  "en-us+f4|150|Can you help me find my keys?"
  "en-us|150|Thank you very much."
  "en-gb|145|Music makes people happy."
)

for tool in espeak-ng sox soxi base64; do
  command -v "$tool" >/dev/null || {
    echo "make_clips.sh: $tool not found; install it (apt-get install espeak-ng sox)" >&2
    exit 2
  }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"

n=0
for clip in "${clips[@]}"; do
  n=$((n + 1))
  id="$(printf '%02d' "$n")"
  IFS='|' read -r voice speed sentence <<<"$clip"
  espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$sentence"
  sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/$id.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.1 0.1
  duration="$(soxi -D "$tmp/$id.wav")"
  if ! awk -v d="$duration" 'BEGIN { exit !(d >= 1 && d <= 4) }'; then
    echo "make_clips.sh: clip $id is ${duration} s, expected 1-4 s: $sentence" >&2
    exit 1
  fi
  base64 -w 0 "$tmp/$id.wav" >"$out/$id.wav.b64"
  echo >>"$out/$id.wav.b64"
  echo "$sentence" >"$out/$id.txt"
  printf '%s  %5.2f s  %-11s %3s wpm  %s\n' "$id" "$duration" "$voice" "$speed" "$sentence"
done
echo "wrote $n clips to assets/clips/"
