/**
 * The form fields of `POST /v1/audio/transcriptions`, checked with zod; a
 * bad field is a 400 naming it (`param`), as OpenAI's API answers.
 */
import { z } from "zod";
import { BadRequestError } from "../../errors/mod.ts";
import { MAX_PROMPT_CHARS } from "../../queue/mod.ts";

/** The response formats OpenAI's transcription API defines. */
export const RESPONSE_FORMATS = [
  "json",
  "text",
  "srt",
  "verbose_json",
  "vtt",
] as const;
/** One of {@linkcode RESPONSE_FORMATS}. */
export type ResponseFormat = typeof RESPONSE_FORMATS[number];

/** The model name OpenAI clients send by default; it means our default model. */
export const OPENAI_DEFAULT_MODEL = "whisper-1";

const FIELDS = {
  model: z.string().min(1).max(64).optional(),
  language: z.string().regex(
    /^[a-z]{2,3}$/,
    "must be an ISO-639-1 language code such as en",
  ).optional(),
  prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
  response_format: z.enum(RESPONSE_FORMATS).default("json"),
  temperature: z.coerce.number().min(0).max(1).optional(),
  timestamp_granularities: z.array(z.enum(["segment", "word"])).max(2)
    .optional(),
  stream: z.enum(["true", "false"], "must be true or false").optional(),
};

/** The formats a streamed transcription may ask for (its events carry text). */
export const STREAM_FORMATS: readonly ResponseFormat[] = ["json", "text"];

/** A transcription request's fields besides the file. */
export interface TranscriptionFields {
  model?: string;
  language?: string;
  prompt?: string;
  response_format: ResponseFormat;
  temperature?: number;
  timestamp_granularities?: ("segment" | "word")[];
  /**
   * Server-sent events as the text grows (`transcript.text.delta`, then
   * `transcript.text.done`) instead of one answer at the end.
   */
  stream: boolean;
}

/**
 * Reads and checks the fields of `form`; throws a 400 `invalid_field` (or
 * `unsupported_field`) whose `param` names the field.
 */
export function parseTranscriptionFields(form: FormData): TranscriptionFields {
  const value = (name: string) => {
    const v = form.get(name);
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const granularities = [
    ...form.getAll("timestamp_granularities[]"),
    ...form.getAll("timestamp_granularities"),
  ];
  const raw: Record<keyof typeof FIELDS, unknown> = {
    model: value("model"),
    language: value("language"),
    prompt: value("prompt"),
    response_format: value("response_format"),
    temperature: value("temperature"),
    timestamp_granularities: granularities.length > 0
      ? granularities.map((g) => typeof g === "string" ? g : "(a file)")
      : undefined,
    stream: value("stream"),
  };
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(FIELDS)) {
    const r = schema.safeParse(raw[name as keyof typeof FIELDS]);
    if (!r.success) {
      throw new BadRequestError(
        "invalid_field",
        `${name}: ${r.error.issues.map((i) => i.message).join("; ")}`,
        { extra: { param: name } },
      );
    }
    out[name] = r.data;
  }
  const fields = {
    ...out,
    stream: out.stream === "true",
  } as unknown as TranscriptionFields;
  if (
    fields.timestamp_granularities && fields.response_format !== "verbose_json"
  ) {
    throw new BadRequestError(
      "invalid_field",
      "timestamp_granularities: needs response_format verbose_json",
      { extra: { param: "timestamp_granularities" } },
    );
  }
  if (fields.stream && !STREAM_FORMATS.includes(fields.response_format)) {
    throw new BadRequestError(
      "invalid_field",
      `stream: a streamed transcription sends text events; response_format must be ${
        STREAM_FORMATS.join(" or ")
      }, not ${fields.response_format}`,
      { extra: { param: "stream" } },
    );
  }
  return fields;
}
