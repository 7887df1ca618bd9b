#!/usr/bin/env bash
# Regenerates the compressed-audio fixtures in src/audio/testdata/: 0.5 s of
# a 1 kHz sine at amplitude 0.5, 44.1 kHz stereo, encoded as FLAC, Ogg
# Vorbis, MP3, M4A (AAC, index at the end) and WebM (Opus, 48 kHz).
#
# Needs: bash and the Debian package ffmpeg (with libvorbis, libmp3lame and
# libopus, as Debian builds it)
#   sudo apt-get install ffmpeg
#
# Usage: scripts/make_testdata.sh        (from anywhere in the repository)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/src/audio/testdata"
mkdir -p "$out"

command -v ffmpeg >/dev/null || {
  echo "make_testdata.sh: ffmpeg not found; install it (apt-get install ffmpeg)" >&2
  exit 2
}

tone="0.5*sin(2*PI*1000*t)"
src=(-f lavfi -i "aevalsrc=${tone}|${tone}:s=44100:d=0.5"
  -map_metadata -1 -fflags +bitexact)
ff() { ffmpeg -hide_banner -loglevel error -y "${src[@]}" "$@"; }

ff -c:a flac "$out/sine_44k_stereo.flac"
ff -c:a libvorbis -q:a 2 "$out/sine_44k_stereo.ogg"
ff -c:a libmp3lame -b:a 64k "$out/sine_44k_stereo.mp3"
ff -c:a aac -b:a 64k "$out/sine_44k_stereo.m4a"
ff -c:a libopus -b:a 32k "$out/sine_44k_stereo.webm"
ls -l "$out"
