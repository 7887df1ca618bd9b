import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../testing/assert.ts";
import {
  fasterWhisperDir,
  parsePeerLine,
  PeerProtocolError,
  startPeer,
} from "./peer_faster_whisper.ts";

Deno.test("parsePeerLine reads the runner's ready, result and failure lines", async (t) => {
  await t.step("ready", () => {
    assertEquals(
      parsePeerLine(
        '{"ready": true, "load_s": 0.37, "faster_whisper": "1.2.1", "ctranslate2": "4.8.5", "threads": 2}',
      ),
      {
        kind: "ready",
        load_s: 0.37,
        faster_whisper: "1.2.1",
        ctranslate2: "4.8.5",
        threads: 2,
      },
    );
  });
  await t.step("result", () => {
    const result = {
      file: "/c/2min.wav",
      wall_s: 3.59,
      first_text_s: 0.41,
      audio_s: 119.99,
      text: "The lighthouse on Gull Point. Was built.",
      segments: [
        { start: 0, end: 2.5, text: "The lighthouse on Gull Point." },
        { start: 2.5, end: 4, text: "Was built." },
      ],
    };
    assertEquals(parsePeerLine(JSON.stringify(result)), {
      kind: "result",
      ...result,
    });
  });
  await t.step("result without audio_s or first_text_s", () => {
    const r = parsePeerLine(
      '{"file": "a.wav", "wall_s": 1, "first_text_s": null, "text": "", "segments": []}',
    );
    assertEquals(r.kind === "result" && r.audio_s, null);
    assertEquals(r.kind === "result" && r.first_text_s, null);
  });
  await t.step("failure", () => {
    assertEquals(
      parsePeerLine(
        '{"file": "a.wav", "error": "RuntimeError: cannot decode"}',
      ),
      { kind: "failure", file: "a.wav", error: "RuntimeError: cannot decode" },
    );
  });
});

Deno.test("parsePeerLine rejects malformed lines with a PeerProtocolError naming the problem", () => {
  const cases: [string, RegExp][] = [
    ["Warning: float16 weights", /not a JSON line/],
    ["[1, 2]", /expected a JSON object/],
    ['{"ready": true}', /load_s must be a number/],
    ['{"wall_s": 1, "text": "", "segments": []}', /without "file"/],
    ['{"file": "a.wav", "wall_s": -1, "text": "", "segments": []}', /wall_s/],
    ['{"file": "a.wav", "wall_s": 1, "segments": []}', /text must be/],
    ['{"file": "a.wav", "wall_s": 1, "text": ""}', /segments must be/],
    [
      '{"file": "a.wav", "wall_s": 1, "text": "", "segments": [{"start": 0}]}',
      /segment 0/,
    ],
  ];
  for (const [line, message] of cases) {
    const error = assertThrows(() => parsePeerLine(line));
    assert(error instanceof PeerProtocolError, line);
    assert(message.test(error.message), `${line}: ${error.message}`);
  }
});

Deno.test("fasterWhisperDir is project-local under the cache", () => {
  assert(fasterWhisperDir().endsWith("/pip-fw"), fasterWhisperDir());
});

/** Stand-ins for faster_whisper and ctranslate2, so the real runner script runs without them. */
const STUB_FASTER_WHISPER = `
__version__ = "0.0-stub"
import os
from types import SimpleNamespace

class WhisperModel:
    def __init__(self, model_dir, device, compute_type, cpu_threads):
        assert (device, compute_type) == ("cpu", "int8"), (device, compute_type)
        self.threads = cpu_threads

    def transcribe(self, path, **kw):
        assert kw == {"beam_size": 1, "language": "en",
                      "condition_on_previous_text": False,
                      "vad_filter": False}, kw
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        def segments():
            yield SimpleNamespace(start=0.0, end=1.5, text=" Hello there.")
            yield SimpleNamespace(start=1.5, end=3.0, text=" General.")
        return segments(), SimpleNamespace(duration=3.0)
`;

Deno.test("startPeer drives the runner script over stdin/stdout (stub faster_whisper)", async (t) => {
  const python = "python3";
  try {
    await new Deno.Command(python, { args: ["--version"], stdout: "null" })
      .output();
  } catch {
    console.warn("python3 not installed; runner not checked");
    return;
  }
  const tmp = await Deno.makeTempDir({ prefix: "peer-test-" });
  try {
    await Deno.mkdir(join(tmp, "faster_whisper"));
    await Deno.mkdir(join(tmp, "ctranslate2"));
    await Deno.writeTextFile(
      join(tmp, "faster_whisper", "__init__.py"),
      STUB_FASTER_WHISPER,
    );
    await Deno.writeTextFile(
      join(tmp, "ctranslate2", "__init__.py"),
      '__version__ = "0.0-ct2"\n',
    );
    const audio = join(tmp, "a.wav");
    await Deno.writeFile(audio, new Uint8Array(4));
    const peer = await startPeer({
      target: tmp,
      modelDir: tmp,
      python,
      installCommand: "",
      installedNow: false,
      fasterWhisper: "0.0-stub",
      ctranslate2: "0.0-ct2",
    }, { threads: 3, logPath: join(tmp, "peer.log") });
    try {
      await t.step("ready line after the model load", () => {
        assertEquals(peer.ready.faster_whisper, "0.0-stub");
        assertEquals(peer.ready.threads, 3);
      });
      await t.step("one result per file, segments consumed", async () => {
        for (let i = 0; i < 2; i++) {
          const r = await peer.transcribe(audio);
          assertEquals(r.text, "Hello there. General.");
          assertEquals(r.segments.length, 2);
          assertEquals(r.audio_s, 3);
          assert(r.wall_s >= 0 && r.wall_s < 5);
          const first = r.first_text_s;
          assert(first !== null && first >= 0 && first <= r.wall_s, `${first}`);
        }
      });
      await t.step(
        "a failing file rejects and the next one still works",
        async () => {
          const error = await assertRejects(() =>
            peer.transcribe(join(tmp, "missing.wav"))
          );
          assert(/FileNotFoundError/.test((error as Error).message));
          assertEquals((await peer.transcribe(audio)).segments.length, 2);
        },
      );
    } finally {
      await peer.close();
      await peer.close();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
