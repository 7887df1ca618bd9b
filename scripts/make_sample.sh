#!/usr/bin/env bash
# Regenerates assets/sample.wav.b64 and assets/sample.txt: about one second
# of synthetic English speech ("Open the door."), as a 16 kHz mono 16-bit PCM
# WAV, base64-encoded on one line.
#
# Needs: bash, base64 (coreutils) and the Debian packages espeak-ng and sox
#   sudo apt-get install espeak-ng sox
#
# Usage: scripts/make_sample.sh        (from anywhere in the repository)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
phrase="Open the door."
voice="en-us+m3"
speed=150 # words per minute

for tool in espeak-ng sox base64; do
  command -v "$tool" >/dev/null || {
    echo "make_sample.sh: $tool not found; install it (apt-get install espeak-ng sox)" >&2
    exit 2
  }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$phrase"
# Resample to 16 kHz mono 16-bit, trim leading/trailing silence, then pad
# 0.1 s on each side so the first and last phonemes are not clipped.
sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/sample.wav" \
  silence 1 0.05 0.1% reverse silence 1 0.05 0.1% reverse pad 0.1 0.1

mkdir -p "$root/assets"
base64 -w 0 "$tmp/sample.wav" >"$root/assets/sample.wav.b64"
echo >>"$root/assets/sample.wav.b64"
echo "$phrase" >"$root/assets/sample.txt"
echo "wrote assets/sample.wav.b64 ($(soxi -D "$tmp/sample.wav") s) and assets/sample.txt"
