import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  formatLayouts,
  formatTable,
  formatVoices,
  type LongRun,
  type LongSystem,
  pieceStats,
  pieceTimeline,
  realTimeFactor,
  summarizeLayouts,
  summarizeRuns,
  summarizeVoices,
} from "./long_report.ts";

function run(
  system: LongSystem,
  index: number,
  wall_s: number,
  wer_pct: number,
  extra: Partial<LongRun> = {},
): LongRun {
  return {
    recording: "2min",
    system,
    index,
    wall_s,
    audio_s: 120,
    wer_pct,
    words_out: 330 + index,
    reference_words: 337,
    pieces: null,
    transcript: "",
    ...extra,
  };
}

Deno.test("realTimeFactor divides wall by audio seconds", () => {
  assertEquals(realTimeFactor(12, 120), 0.1);
  assertEquals(realTimeFactor(0, 60), 0);
  assert(assertThrows(() => realTimeFactor(1, 0)) instanceof RangeError);
});

Deno.test("pieceStats gives p50/p95 of processing_ms and the distinct workers", async (t) => {
  await t.step("a split job", () => {
    const s = pieceStats({
      pieces: [100, 500, 300, 200, 400].map((ms, i) => ({
        index: i,
        start_s: i * 30,
        end_s: i * 30 + 30,
        worker_id: i % 2 ? "worker-2" : "worker-1",
        processing_ms: ms,
      })),
    });
    assertEquals(s, {
      count: 5,
      p50_ms: 300,
      p95_ms: 480,
      worker_ids: ["worker-1", "worker-2"],
      timeline: null,
    });
  });
  await t.step("a job without pieces", () => {
    assertEquals(pieceStats({ status: "completed" }), null);
    assertEquals(pieceStats({ pieces: [] }), null);
    assertEquals(pieceStats(null), null);
  });
});

Deno.test("pieceTimeline measures the lead before the first piece and the tail after the workers run dry", async (t) => {
  const created = Date.parse("2026-12-06T10:00:00.000Z");
  const piece = (worker: string, start: number, ms: number) => ({
    worker_id: worker,
    started_at_ms: created + start,
    processing_ms: ms,
  });
  await t.step("three workers", () => {
    const job = {
      created_at: "2026-12-06T10:00:00.000Z",
      completed_at: "2026-12-06T10:00:05.000Z",
      pieces: [
        piece("w1", 300, 2000),
        piece("w2", 310, 2500),
        piece("w3", 320, 1000),
        piece("w3", 1330, 3650), // ends at 4980
        piece("w1", 2310, 1500), // ends at 3810
      ],
    };
    // Lead: 300 ms; w2 runs dry at 2810, w1 at 3810, w3 at 4980.
    assertEquals(pieceTimeline(job), {
      lead_ms: 300,
      tail_ms: 2190,
      alone_ms: 1190,
    });
    assertEquals(pieceStats(job)?.timeline?.lead_ms, 300);
  });
  await t.step("pieces without start times, or a job not finished", () => {
    assertEquals(
      pieceTimeline({
        created_at: "2026-12-06T10:00:00.000Z",
        completed_at: "2026-12-06T10:00:05.000Z",
        pieces: [{ worker_id: "w1", processing_ms: 10 }],
      }),
      null,
    );
    assertEquals(
      pieceTimeline({
        created_at: "2026-12-06T10:00:00.000Z",
        completed_at: null,
        pieces: [piece("w1", 0, 10)],
      }),
      null,
    );
  });
});

Deno.test("summarizeRuns takes medians, real-time factors and ours ÷ peer", () => {
  const piece = (p50: number, p95: number, ids: string[]) => ({
    count: 4,
    p50_ms: p50,
    p95_ms: p95,
    worker_ids: ids,
    timeline: { lead_ms: p50 / 10, tail_ms: p95 / 10, alone_ms: 100 },
  });
  const runs = [
    run("ours", 1, 10, 15, {
      pieces: piece(2000, 3000, ["w1", "w2"]),
      first_text_s: 1.5,
    }),
    run("peer", 1, 4, 14, { first_text_s: 0.4 }),
    run("ours", 2, 14, 16, {
      pieces: piece(2400, 3600, ["w2", "w3"]),
      first_text_s: 1.1,
    }),
    run("peer", 2, 6, 12, { first_text_s: null }),
    run("ours", 3, 12, 17, {
      pieces: piece(2200, 3100, ["w1"]),
      first_text_s: 1.3,
    }),
    run("peer", 3, 5, 13, { first_text_s: 0.6 }),
    run("sequential", 1, 30, 13.5),
  ];
  const [s] = summarizeRuns(runs);
  assert(s);
  assertEquals(s.recording, "2min");
  assertEquals(s.audio_s, 120);
  assertEquals(s.ours?.runs, 3);
  assertEquals(s.ours?.wall_s, 12);
  assertEquals(s.ours?.rtf, 0.1);
  assertEquals(s.ours?.wer_pct, 16);
  assertEquals(s.ours?.words_out, 332);
  assertEquals(s.ours?.piece_p50_ms, 2200);
  assertEquals(s.ours?.piece_p95_ms, 3100);
  assertEquals(s.ours?.worker_ids, ["w1", "w2", "w3"]);
  assertEquals(s.ours?.lead_ms, 220);
  assertEquals(s.ours?.tail_ms, 310);
  assertEquals(s.ours?.alone_ms, 100);
  assertEquals(s.ours?.walls_s, [10, 14, 12]);
  assertEquals(s.peer?.wall_s, 5);
  assertEquals(s.peer?.rtf, 5 / 120);
  assertEquals(s.peer?.wer_pct, 13);
  assertEquals(s.peer?.piece_p50_ms, null);
  assertEquals(s.sequential?.wall_s, 30);
  assertEquals(s.sequential?.rtf, 0.25);
  assertEquals(s.ratio_ours_peer, 2.4);
  // First text: medians over the runs that measured it.
  assertEquals(s.ours?.first_text_s, 1.3);
  assertEquals(s.peer?.first_text_s, 0.5);
  assertEquals(s.sequential?.first_text_s, null);

  const table = formatTable([s]);
  const lines = table.split("\n");
  assertEquals(lines.length, 4);
  assert(lines[0]!.includes("wall s  first text s"), lines[0]);
  assert(lines[1]!.startsWith("2min (120.0 s)  ours (stack)"), lines[1]);
  assert(/12\.00 +1\.30 /.test(lines[1]!), lines[1]);
  assert(/5\.00 +0\.50 /.test(lines[2]!), lines[2]);
  assert(/30\.00 +- /.test(lines[3]!), lines[3]);
  assert(lines[1]!.includes("2200 / 3100"), lines[1]);
  assert(lines[1]!.includes("220 / 310 / 100"), lines[1]);
  assert(lines[1]!.trimEnd().endsWith("2.40"), lines[1]);
  assert(lines[2]!.includes("0.0417"), lines[2]);
  assert(lines[3]!.includes("n/a (job not split)"), lines[3]);
});

Deno.test("summarizeRuns without a peer has no ratio", () => {
  const [s] = summarizeRuns([run("ours", 1, 10, 15), run("ours", 2, 11, 15)]);
  assertEquals(s?.peer, null);
  assertEquals(s?.ratio_ours_peer, null);
  assertEquals(s?.ours?.wall_s, 10.5);
  assertEquals(s?.ours?.piece_p50_ms, null);
  assert(formatTable([s!]).includes("n/a (job not split)"));
});

Deno.test("summarizeRuns compares the stack with the engine alone and both with the peer", () => {
  const runs = [
    run("ours", 1, 11, 16),
    run("peer", 1, 14, 15),
    run("engine", 1, 10, 16),
    run("ours", 2, 12, 16),
    run("peer", 2, 13, 15),
    run("engine", 2, 9, 16),
    run("ours", 3, 10, 16),
    run("peer", 3, 12, 15),
    run("engine", 3, 11, 16),
  ];
  const [s] = summarizeRuns(runs);
  assert(s);
  assertEquals(s.engine?.runs, 3);
  assertEquals(s.engine?.wall_s, 10);
  assertEquals(s.ratio_ours_peer, 11 / 13);
  assertEquals(s.ratio_engine_peer, 10 / 13);
  assertEquals(s.ratio_ours_engine, 1.1);
  const lines = formatTable([s]).split("\n");
  assertEquals(lines.length, 4);
  assert(lines[0]!.trimEnd().endsWith("÷ peer"), lines[0]);
  assert(lines[2]!.includes("engine alone"), lines[2]);
  assert(lines[2]!.trimEnd().endsWith("0.77"), lines[2]);
  assert(lines[3]!.includes("faster-whisper"), lines[3]);
  // Without engine runs there is no engine row and no ratio to it.
  const [t] = summarizeRuns(runs.filter((r) => r.system !== "engine"));
  assertEquals(t?.engine, null);
  assertEquals(t?.ratio_engine_peer, null);
  assertEquals(t?.ratio_ours_engine, null);
});

Deno.test("summarizeLayouts gives each system's WER per layout, mean, range and the gaps", () => {
  const s = summarizeLayouts("2min", [
    { offset_s: 0, pieces: 9, engine: 16, peer: 14, sequential: 15 },
    { offset_s: 3, pieces: 10, engine: 19, peer: 15, sequential: 16 },
    { offset_s: 6, pieces: 9, engine: 18, peer: 13, sequential: 14 },
  ]);
  assertEquals(s, {
    recording: "2min",
    offsets_s: [0, 3, 6],
    pieces: [9, 10, 9],
    engine: {
      wer_pct: [16, 19, 18],
      mean_wer_pct: 53 / 3,
      min_wer_pct: 16,
      max_wer_pct: 19,
    },
    peer: {
      wer_pct: [14, 15, 13],
      mean_wer_pct: 14,
      min_wer_pct: 13,
      max_wer_pct: 15,
    },
    sequential: {
      wer_pct: [15, 16, 14],
      mean_wer_pct: 15,
      min_wer_pct: 14,
      max_wer_pct: 16,
    },
    engine_minus_peer: 53 / 3 - 14,
    engine_minus_sequential: 53 / 3 - 15,
    transcripts: [null, null, null],
  });
  assertThrows(() => summarizeLayouts("2min", []));
});

Deno.test("summarizeLayouts leaves out a system missing from any layout", () => {
  const s = summarizeLayouts("8min", [
    { offset_s: 0, pieces: 39, engine: 17, peer: 16, sequential: 16 },
    { offset_s: 3, pieces: 40, engine: 17, peer: null, sequential: 16 },
  ]);
  assertEquals(s.peer, null);
  assertEquals(s.engine_minus_peer, null);
  assertEquals(s.sequential?.mean_wer_pct, 16);
  assertEquals(s.engine_minus_sequential, 1);
});

Deno.test("formatLayouts prints the means and judges issue 12's WER targets on them", () => {
  const met = formatLayouts(summarizeLayouts("8min", [
    { offset_s: 0, pieces: 39, engine: 16.5, peer: 16, sequential: 17 },
    { offset_s: 3, pieces: 40, engine: 16.5, peer: 15.8, sequential: 16.6 },
  ]));
  assertEquals(met.length, 3);
  assert(met[0]!.startsWith("8min: WER over 2 cut layouts (0/3 s"), met[0]);
  assert(met[0]!.includes("engine alone's pieces mean 16.50 % (16.50–16.50)"));
  assert(met[0]!.includes("faster-whisper mean 15.90 % (15.80–16.00)"));
  assert(met[0]!.includes("our whole-file pass mean 16.80 %"));
  assertEquals(
    met[1],
    "8min: WER ≤ faster-whisper + 1 on the means: met (+0.60 points)",
  );
  assertEquals(
    met[2],
    "8min: WER ≤ our whole-file pass on the means: met (-0.30 points)",
  );
  const missed = formatLayouts(summarizeLayouts("2min", [
    { offset_s: 0, pieces: 9, engine: 18.55, peer: 14.77, sequential: 15.58 },
  ]));
  assertEquals(
    missed[1],
    "2min: WER ≤ faster-whisper + 1 on the means: not met (+3.78 points)",
  );
  assertEquals(
    missed[2],
    "2min: WER ≤ our whole-file pass on the means: not met (+2.97 points)",
  );
  // The engine alone only: no verdict can be given.
  assertEquals(
    formatLayouts(summarizeLayouts("2min", [
      { offset_s: 0, pieces: 9, engine: 18 },
    ])).length,
    1,
  );
});

Deno.test("summarizeVoices averages each voice's layout means and the gaps", () => {
  const own = summarizeLayouts("8min", [
    { offset_s: 0, pieces: 36, engine: 16, peer: 15, sequential: 15.5 },
    { offset_s: 3, pieces: 36, engine: 17, peer: 16, sequential: 16.5 },
  ]);
  const gb = {
    ...summarizeLayouts("8min", [
      { offset_s: 0, pieces: 35, engine: 20, peer: 18, sequential: 19 },
      { offset_s: 3, pieces: 35, engine: 21, peer: 19, sequential: 18 },
    ]),
    voice: "en-gb:160",
  };
  const v = summarizeVoices("8min", ["en-us:160", "en-gb:160"], [own, gb]);
  assertEquals(v.voices, ["en-us:160", "en-gb:160"]);
  assertEquals(v.engine_mean_wer_pct, (16.5 + 20.5) / 2);
  assertEquals(v.peer_mean_wer_pct, (15.5 + 18.5) / 2);
  assertEquals(v.sequential_mean_wer_pct, (16 + 18.5) / 2);
  assertEquals(v.engine_minus_peer, 18.5 - 17);
  assertEquals(v.engine_minus_sequential, 18.5 - 17.25);
  assertEquals(
    formatVoices(v),
    "8min: WER over 2 voices (en-us:160, en-gb:160), means of the layouts' means: " +
      "engine alone's pieces 18.50 %; faster-whisper 17.00 % (pieces +1.50); " +
      "our whole-file pass 17.25 % (pieces +1.25)",
  );
  // A voice the peer missed: no peer figure at all.
  const noPeer = summarizeLayouts("8min", [
    { offset_s: 0, pieces: 35, engine: 20, peer: null, sequential: 19 },
  ]);
  const partial = summarizeVoices("8min", ["a:160", "b:160"], [own, noPeer]);
  assertEquals(partial.peer_mean_wer_pct, null);
  assertEquals(partial.engine_minus_peer, null);
  assert(!formatVoices(partial).includes("faster-whisper"));
  assertThrows(() => summarizeVoices("8min", [], []));
  assertThrows(() => summarizeVoices("8min", ["a:160"], [own, gb]));
});

Deno.test("formatLayouts names another voice beside the recording", () => {
  const gb = {
    ...summarizeLayouts("2min", [
      { offset_s: 0, pieces: 9, engine: 20, peer: 18, sequential: 19 },
    ]),
    voice: "en-gb:160",
  };
  const lines = formatLayouts(gb);
  assert(lines.every((l) => l.startsWith("2min (en-gb:160): ")), lines[0]);
});
