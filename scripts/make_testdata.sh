#!/usr/bin/env bash
# Regenerates the audio fixtures in src/audio/testdata/: 0.5 s of a 1 kHz
# sine at amplitude 0.5, 44.1 kHz stereo, encoded as FLAC, Ogg Vorbis, MP3,
# M4A (AAC, index at the end), WebM (Opus, 48 kHz), AIFF (16-bit) and CAF
# (ALAC, packet table at the end); and as telephone calls are recorded, 8 kHz
# mono WAVs in G.711 A-law and µ-law, IMA ADPCM and GSM 6.10.
#
# Needs: bash and the Debian package ffmpeg (with libvorbis, libmp3lame,
# libopus and libgsm, as Debian builds it)
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
ff -c:a pcm_s16be "$out/sine_44k_stereo.aiff"
ff -c:a alac "$out/sine_44k_stereo.caf"
call=(-ac 1 -ar 8000)
ff "${call[@]}" -c:a pcm_alaw "$out/sine_8k_alaw.wav"
ff "${call[@]}" -c:a pcm_mulaw "$out/sine_8k_mulaw.wav"
ff "${call[@]}" -c:a adpcm_ima_wav "$out/sine_8k_ima_adpcm.wav"
ff "${call[@]}" -c:a gsm_ms "$out/sine_8k_gsm.wav"
ls -l "$out"
