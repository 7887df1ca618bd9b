/**
 * Transcribe a recording with the official OpenAI JavaScript SDK, pointed
 * at this service.
 *
 *     OPENAI_BASE_URL=http://127.0.0.1:8001/v1 OPENAI_API_KEY=alice \
 *       deno run -A examples/openai_js.ts recording.wav [--srt out.srt | --stream]
 *
 * With `--stream` the text is printed as it arrives (server-sent events): a
 * long recording's first sentences while its later pieces still run.
 *
 * In open mode the key is just your identity's name; with AUTH_MODE=api_key
 * it is your API key.
 */
import OpenAI from "openai";

const [path, flag, srtPath] = Deno.args;
const usable = flag === undefined || flag === "--stream" ||
  (flag === "--srt" && srtPath);
if (!path || !usable) {
  console.error(
    "usage: openai_js.ts <audio file> [--srt <out.srt> | --stream]",
  );
  Deno.exit(2);
}
const client = new OpenAI({
  baseURL: Deno.env.get("OPENAI_BASE_URL") ?? "http://127.0.0.1:8001/v1",
  apiKey: Deno.env.get("OPENAI_API_KEY") ?? "anonymous",
});
const file = new File([await Deno.readFile(path)], path.split("/").pop()!);

if (flag === "--stream") {
  const events = await client.audio.transcriptions.create({
    model: "whisper-1",
    file,
    stream: true,
  });
  for await (const event of events) {
    if (event.type === "transcript.text.delta") {
      await Deno.stdout.write(new TextEncoder().encode(event.delta));
    }
  }
  console.log();
  Deno.exit(0);
}

const transcription = await client.audio.transcriptions.create({
  model: "whisper-1", // the service's default model
  file,
});
console.log(transcription.text);

if (srtPath) {
  const srt = await client.audio.transcriptions.create({
    model: "whisper-1",
    file,
    response_format: "srt",
  });
  await Deno.writeTextFile(srtPath, srt);
}
