"""Transcribes WAV files with faster-whisper, loading the model once.

    PYTHONPATH=.cache/pip-fw python3 src/bench/faster_whisper_run.py \
        --model-dir DIR [--threads N] [--serve] [FILE ...]

Prints one JSON line on stdout after loading the model:
    {"ready": true, "load_s": ..., "faster_whisper": "1.2.1", "ctranslate2": "..."}
then one JSON line per file, in order:
    {"file": ..., "wall_s": ..., "first_text_s": ..., "audio_s": ...,
     "text": ..., "segments": [...]}
where wall_s covers transcribe() and consuming its segment generator (the
decoding happens while the generator is consumed), not the model load, and
first_text_s is when the generator gave its first segment with text (null
when none had any): when a client could show the first words.
A file that fails gives {"file": ..., "error": "..."} and the next one goes on.
With --serve, after the FILE arguments it reads one path per stdin line until
end of input. Settings: beam_size=1, language="en",
condition_on_previous_text=False, vad_filter=False, timestamps on.
"""

import argparse
import json
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()

    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    t0 = time.perf_counter()
    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type="int8",
        cpu_threads=args.threads,
    )
    emit({
        "ready": True,
        "load_s": time.perf_counter() - t0,
        "faster_whisper": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "threads": args.threads,
    })

    def run(path):
        try:
            t = time.perf_counter()
            segments, info = model.transcribe(
                path,
                beam_size=1,
                language="en",
                condition_on_previous_text=False,
                vad_filter=False,
            )
            segs = []
            first_text = None
            for s in segments:
                text = s.text.strip()
                if text and first_text is None:
                    first_text = time.perf_counter() - t
                segs.append({"start": s.start, "end": s.end, "text": text})
            wall = time.perf_counter() - t
            emit({
                "file": path,
                "wall_s": wall,
                "first_text_s": first_text,
                "audio_s": info.duration,
                "text": " ".join(s["text"] for s in segs if s["text"]),
                "segments": segs,
            })
        except Exception as error:  # one bad file must not end the others
            emit({"file": path, "error": f"{type(error).__name__}: {error}"})

    for path in args.files:
        run(path)
    if args.serve:
        for line in sys.stdin:
            path = line.rstrip("\n")
            if path:
                run(path)


if __name__ == "__main__":
    main()
