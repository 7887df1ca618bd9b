/**
 * Our fixes to smart-whisper 0.8.1's native sources, applied as exact
 * search-and-replace edits on the extracted package before it is compiled.
 *
 * Each edit names the file, the exact text it expects (so a different
 * upstream version fails loudly instead of being half-patched), the
 * replacement, and why. {@linkcode PATCH_HASH} goes into the build stamp, so
 * changing any edit triggers a rebuild.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { EngineError } from "../errors/mod.ts";

/** Value exported by the patched binding as `patchLevel`. */
export const PATCH_LEVEL = "whisper-service-3";

/** One exact source edit. */
export interface SourceEdit {
  /** File relative to the package root. */
  file: string;
  /** Why the edit exists. */
  why: string;
  /** Exact text that must occur exactly once in the pristine file. */
  find: string;
  /** Replacement text. */
  replace: string;
}

/** The binding's state creation, with our check for a failed one. */
const NULL_STATE_CHECK = "        state = whisper_init_state(context);\n" +
  "        // [whisper-service patch] fail cleanly when no state was made.\n" +
  "        if (state == nullptr) {\n" +
  '            SetError("whisper_init_state failed");\n' +
  "            return;\n" +
  "        }\n";

/** Edits to smart-whisper's N-API binding. */
const BINDING_EDITS: readonly SourceEdit[] = [
  {
    file: "src/binding/common.h",
    why: "AsyncWorker's default OnError calls a (missing) callback, so a " +
      "failed load's promise never settled: reject the promise instead.",
    find: "    Napi::Promise Promise();\n",
    replace: "    Napi::Promise Promise();\n" +
      "\n" +
      "    // [whisper-service patch] settle the promise on failure.\n" +
      "    void OnError(const Napi::Error &e) override { promise.Reject(e.Value()); }\n",
  },
  {
    file: "src/binding/model.cc",
    why: "The loader went on after a failed whisper_init and printed the " +
      "timings of a NULL context (segfault).",
    find: "        if (context == nullptr) {\n" +
      '            SetError("Failed to initialize whisper context");\n' +
      "        }\n" +
      "        whisper_print_timings(context);\n",
    replace:
      "        // [whisper-service patch] stop on a failed init; no timings print.\n" +
      "        if (context == nullptr) {\n" +
      '            SetError("Failed to initialize whisper context (not a valid ggml whisper model)");\n' +
      "            return;\n" +
      "        }\n",
  },
  {
    file: "src/binding/model.cc",
    why: "The context params were left uninitialised (random flash_attn, " +
      "dtw_*, gpu_device): start from whisper's defaults.",
    find: "    whisper_context_params params;\n",
    replace:
      "    // [whisper-service patch] initialise every field, not just use_gpu.\n" +
      "    whisper_context_params params = whisper_context_default_params();\n",
  },
  {
    file: "src/binding/model.cc",
    why: "Validate argument types so a bad call throws a JS TypeError.",
    find: "    std::string model_path = info[0].As<Napi::String>();\n",
    replace: "    // [whisper-service patch] type-check the arguments.\n" +
      "    if (!info[0].IsString() || (info.Length() == 2 && !info[1].IsBoolean())) {\n" +
      '        Napi::TypeError::New(env, "load(path: string, gpu?: boolean)").ThrowAsJavaScriptException();\n' +
      "        return env.Null();\n" +
      "    }\n" +
      "    std::string model_path = info[0].As<Napi::String>();\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "whisper_init_state can fail (allocation): report it instead of " +
      "running whisper_full on a NULL state.",
    find: "        state = whisper_init_state(context);\n",
    replace: NULL_STATE_CHECK,
  },
  {
    file: "src/binding/binding.cc",
    why: "Logging was tied to process.env.NODE_ENV at load time; make it a " +
      "switch (off by default); export ggml's compile-time CPU features and " +
      "a marker that the patch is in.",
    find: "    if (IsProduction(env.Global())) {\n" +
      "        whisper_log_set([](ggml_log_level level, const char *text, void *user_data) {}, nullptr);\n" +
      "    }\n",
    replace: "    // [whisper-service patch] logging switch + patch marker.\n" +
      "    whisper_log_set(\n" +
      "        [](ggml_log_level level, const char *text, void *user_data) {\n" +
      "            if (sw_log_enabled.load()) fputs(text, stderr);\n" +
      "        },\n" +
      "        nullptr);\n" +
      '    exports.Set("setLogEnabled", Napi::Function::New(env, SetLogEnabled));\n' +
      '    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo));\n' +
      `    exports.Set("patchLevel", Napi::String::New(env, "${PATCH_LEVEL}"));\n`,
  },
  {
    file: "src/binding/binding.cc",
    why: "Definitions for the logging switch used above.",
    find: '#include "transcribe.h"\n',
    replace: '#include "transcribe.h"\n' +
      "\n" +
      "// [whisper-service patch] whisper log switch, off by default.\n" +
      "#include <atomic>\n" +
      "#include <cstdio>\n" +
      "static std::atomic<bool> sw_log_enabled{false};\n" +
      "static Napi::Value SetLogEnabled(const Napi::CallbackInfo &info) {\n" +
      "    sw_log_enabled.store(info.Length() > 0 && info[0].ToBoolean().Value());\n" +
      "    return info.Env().Undefined();\n" +
      "}\n" +
      '// ggml\'s compile-time CPU features, e.g. "AVX2 = 1 | ... | F16C = 1".\n' +
      "static Napi::Value SystemInfo(const Napi::CallbackInfo &info) {\n" +
      "    return Napi::String::New(info.Env(), whisper_print_system_info());\n" +
      "}\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Per-call timings: wall time of whisper_init_state and " +
      "whisper_full, and the state's own mel/encode/decode counters.",
    find: '#include "transcribe.h"\n',
    replace: '#include "transcribe.h"\n' +
      "\n" +
      "// [whisper-service patch] per-call timings.\n" +
      "#include <chrono>\n" +
      'extern "C" void whisper_service_state_timings(struct whisper_state * state, double * out);\n' +
      "static double sw_now_ms() {\n" +
      "    return std::chrono::duration<double, std::milli>(\n" +
      "        std::chrono::steady_clock::now().time_since_epoch()).count();\n" +
      "}\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Time the state creation (start).",
    find: "    void Execute(const ExecutionProgress& progress) override {\n",
    replace:
      "    void Execute(const ExecutionProgress& progress) override {\n" +
      "        const double sw_t0 = sw_now_ms();\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Time the state creation (end).",
    find:
      "        params.new_segment_callback = [](struct whisper_context* ctx,",
    replace: "        sw_timings[0] = sw_now_ms() - sw_t0;\n" +
      "        params.new_segment_callback = [](struct whisper_context* ctx,",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Time whisper_full and read the state's counters.",
    find:
      "        int err = whisper_full_with_state(context, state, params, samples, n_samples);\n",
    replace: "        const double sw_t1 = sw_now_ms();\n" +
      "        int err = whisper_full_with_state(context, state, params, samples, n_samples);\n" +
      "        sw_timings[1] = sw_now_ms() - sw_t1;\n" +
      "        whisper_service_state_timings(state, sw_timings + 2);\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Pass the timings (and the token count) as the callback's second " +
      "argument; callers that take one argument are unaffected.",
    find: "        Callback().Call({segments});\n",
    replace:
      "        // [whisper-service patch] timings as a second argument.\n" +
      "        Napi::Object sw_t = Napi::Object::New(Env());\n" +
      '        const char * sw_names[] = {"init_state_ms", "full_ms", "mel_ms", "encode_ms",\n' +
      '            "decode_ms", "batchd_ms", "prompt_ms", "sample_ms", "n_encode", "n_decode",\n' +
      '            "n_batchd", "n_prompt"};\n' +
      "        for (int k = 0; k < 12; k++) sw_t.Set(sw_names[k], Napi::Number::New(Env(), sw_timings[k]));\n" +
      "        int sw_tokens = 0;\n" +
      "        for (int i = 0; i < n_segments; i++) sw_tokens += whisper_full_n_tokens_from_state(state, i);\n" +
      '        sw_t.Set("n_tokens", Napi::Number::New(Env(), sw_tokens));\n' +
      "        Callback().Call({segments, sw_t});\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Storage for the timings.",
    find: "    whisper_state*                         state;\n",
    replace: "    whisper_state*                         state;\n" +
      "    double                                 sw_timings[12] = {0};\n",
  },
];

const WHISPER_CPP = "whisper.cpp/src/whisper.cpp";

/**
 * Edits to whisper.cpp's model loader: it trusts every number in the file,
 * so garbage after a valid magic reached an `assert` (abort), huge
 * allocations, a stack overflow (`ne[4]` indexed by a file-given `n_dims`)
 * or, for a header-only file, "loaded" an empty model that aborts at
 * transcribe. Each now fails the load, which the patched binding rejects.
 */
const LOADER_EDITS: readonly SourceEdit[] = [
  {
    file: WHISPER_CPP,
    why: "Reject implausible hyperparameters instead of asserting on them " +
      "or sizing allocations from them.",
    find: "        assert(hparams.n_text_state == hparams.n_audio_state);\n",
    replace:
      "        // [whisper-service patch] plausibility check, not an assert.\n" +
      "        if (hparams.n_text_state != hparams.n_audio_state ||\n" +
      "            hparams.n_vocab < 1 || hparams.n_vocab > 1000000 ||\n" +
      "            hparams.n_audio_ctx < 1 || hparams.n_audio_ctx > 100000 ||\n" +
      "            hparams.n_text_ctx < 1 || hparams.n_text_ctx > 100000 ||\n" +
      "            hparams.n_audio_state < 1 || hparams.n_audio_state > 16384 ||\n" +
      "            hparams.n_audio_head < 1 || hparams.n_audio_state % hparams.n_audio_head != 0 ||\n" +
      "            hparams.n_text_head < 1 || hparams.n_text_state % hparams.n_text_head != 0 ||\n" +
      "            hparams.n_audio_layer < 1 || hparams.n_audio_layer > 128 ||\n" +
      "            hparams.n_text_layer < 1 || hparams.n_text_layer > 128 ||\n" +
      "            hparams.n_mels < 1 || hparams.n_mels > 512 || hparams.ftype < 0) {\n" +
      '            WHISPER_LOG_ERROR("%s: invalid model (implausible hyperparameters)\\n", __func__);\n' +
      "            return false;\n" +
      "        }\n",
  },
  {
    file: WHISPER_CPP,
    why: "The mel filterbank size comes from the file: bound it.",
    find: "        read_safe(loader, filters.n_mel);\n" +
      "        read_safe(loader, filters.n_fft);\n",
    replace: "        filters.n_mel = 0;\n" +
      "        filters.n_fft = 0;\n" +
      "        read_safe(loader, filters.n_mel);\n" +
      "        read_safe(loader, filters.n_fft);\n" +
      "        // [whisper-service patch] bound the filterbank size.\n" +
      "        if (filters.n_mel != wctx.model.hparams.n_mels || filters.n_fft < 1 || filters.n_fft > 4096) {\n" +
      '            WHISPER_LOG_ERROR("%s: invalid model (bad mel filterbank)\\n", __func__);\n' +
      "            return false;\n" +
      "        }\n",
  },
  {
    file: WHISPER_CPP,
    why:
      "The vocabulary size and token lengths come from the file: bound them.",
    find: "            uint32_t len;\n" +
      "            read_safe(loader, len);\n",
    replace: "            uint32_t len = 0;\n" +
      "            read_safe(loader, len);\n" +
      "            // [whisper-service patch] bound token length and vocab size.\n" +
      "            if (len > 1024 || n_vocab < 1 || n_vocab > 1000000) {\n" +
      '                WHISPER_LOG_ERROR("%s: invalid model (bad vocabulary)\\n", __func__);\n' +
      "                return false;\n" +
      "            }\n",
  },
  {
    file: WHISPER_CPP,
    why: "n_dims indexes `int32_t ne[4]` and ttype indexes ggml's type " +
      "table: bound both, and the name length.",
    find: "            if (loader->eof(loader->context)) {\n" +
      "                break;\n" +
      "            }\n",
    replace: "            if (loader->eof(loader->context)) {\n" +
      "                break;\n" +
      "            }\n" +
      "            // [whisper-service patch] bound the tensor header fields.\n" +
      "            if (n_dims < 1 || n_dims > 4 || length < 1 || length > 1024 ||\n" +
      "                ttype < 0 || ttype >= GGML_TYPE_COUNT) {\n" +
      '                WHISPER_LOG_ERROR("%s: invalid model (bad tensor header)\\n", __func__);\n' +
      "                return false;\n" +
      "            }\n",
  },
  {
    file: WHISPER_CPP,
    why: "A file with no tensors (e.g. header only) 'loaded' as an empty " +
      "test model and aborted at transcribe: make it a load failure.",
    find: "        if (model.n_loaded == 0) {\n" +
      '            WHISPER_LOG_WARN("%s: WARN no tensors loaded from model file - assuming empty model for testing\\n", __func__);\n' +
      "        } else if",
    replace:
      "        // [whisper-service patch] no tensors is an error, not a test model.\n" +
      "        if (model.n_loaded == 0) {\n" +
      '            WHISPER_LOG_ERROR("%s: ERROR no tensors in model file\\n", __func__);\n' +
      "            return false;\n" +
      "        } else if",
  },
  {
    file: WHISPER_CPP,
    why: "The file loader reported every read as complete, so a model cut " +
      "inside its last tensor loaded with part of that tensor missing.",
    find: "        std::ifstream * fin = (std::ifstream*)ctx;\n" +
      "        fin->read((char *)output, read_size);\n" +
      "        return read_size;\n",
    replace: "        std::ifstream * fin = (std::ifstream*)ctx;\n" +
      "        fin->read((char *)output, read_size);\n" +
      "        // [whisper-service patch] report what was actually read.\n" +
      "        return (size_t) fin->gcount();\n",
  },
  {
    file: WHISPER_CPP,
    why: "Fail the load when a tensor's data is cut short.",
    find:
      "                loader->read(loader->context, tensor->data, ggml_nbytes(tensor));\n",
    replace:
      "                // [whisper-service patch] a short read is a truncated file.\n" +
      "                if (loader->read(loader->context, tensor->data, ggml_nbytes(tensor)) != ggml_nbytes(tensor)) {\n" +
      "                    WHISPER_LOG_ERROR(\"%s: tensor '%s' is truncated\\n\", __func__, name.data());\n" +
      "                    return false;\n" +
      "                }\n",
  },
];

/**
 * Speed edits. ggml's llamafile sgemm (tinyBLAS) was left out of
 * smart-whisper's build; compiled in (with `-DGGML_USE_LLAMAFILE`, see
 * build.ts) it runs the encoder's f16 × f32 matrix products directly,
 * without converting activations to f16: the encoder took 2/3 of the time
 * (sample clip, audio_ctx 160, 1 thread: 125 → 83 ms).
 */
const SPEED_EDITS: readonly SourceEdit[] = [
  {
    file: "binding.gyp",
    why: "Compile ggml's llamafile sgemm.",
    find:
      '          "<!@(node -p \\"require(\'./dist/build.js\').sources\\")"\n',
    replace:
      '          "<!@(node -p \\"require(\'./dist/build.js\').sources\\")",\n' +
      '          "whisper.cpp/ggml/src/sgemm.cpp"\n',
  },
  {
    file: "whisper.cpp/ggml/src/ggml.c",
    why: "The bundled tree keeps sgemm.h next to ggml.c, not under llamafile/.",
    find: "#include <llamafile/sgemm.h>\n",
    replace: '#include "sgemm.h" // [whisper-service patch] path\n',
  },
  {
    file: "whisper.cpp/ggml/src/sgemm.cpp",
    why: "sgemm.cpp needs the SIMD headers and GGML_FP16_TO_FP32 of " +
      "ggml-cpu-impl.h in this ggml version.",
    find: '#include "ggml-impl.h"\n',
    replace: '#include "ggml-impl.h"\n' +
      '#include "ggml-cpu-impl.h" // [whisper-service patch]\n',
  },
  {
    file: WHISPER_CPP,
    why: "Expose a state's timing counters (whisper_get_timings does not " +
      "exist in this version and reads the context's own state).",
    find: "void whisper_reset_timings(struct whisper_context * ctx) {\n",
    replace:
      "// [whisper-service patch] a state's timings, ms, and call counts.\n" +
      'extern "C" void whisper_service_state_timings(struct whisper_state * state, double * out) {\n' +
      "    out[0] = state->t_mel_us / 1000.0;\n" +
      "    out[1] = state->t_encode_us / 1000.0;\n" +
      "    out[2] = state->t_decode_us / 1000.0;\n" +
      "    out[3] = state->t_batchd_us / 1000.0;\n" +
      "    out[4] = state->t_prompt_us / 1000.0;\n" +
      "    out[5] = state->t_sample_us / 1000.0;\n" +
      "    out[6] = state->n_encode;\n" +
      "    out[7] = state->n_decode;\n" +
      "    out[8] = state->n_batchd;\n" +
      "    out[9] = state->n_prompt;\n" +
      "}\n" +
      "\n" +
      "void whisper_reset_timings(struct whisper_context * ctx) {\n",
  },
];

/**
 * Flash attention per call. In this whisper.cpp it is a context setting
 * (`whisper_context_params.flash_attn`), fixed at load. Measured on the
 * sample (q8_0, 1 thread): at the sized context it made the encoder slower
 * (91 vs 73 ms at 112 positions), at the full context faster (2010 vs 2234
 * ms) and it lowered the process's peak RSS from 270 to 182 MiB, because
 * the encoder no longer materialises the 1500 × 1500 attention matrices.
 * So each call's state chooses: the binding takes `flash_attn` per call,
 * and the graph builders read the state's flag instead of the context's.
 */
const FLASH_ATTN_EDITS: readonly SourceEdit[] = [
  {
    file: WHISPER_CPP,
    why: "A per-state flash attention flag.",
    find: "struct whisper_state {\n    int64_t t_sample_us = 0;\n",
    replace: "struct whisper_state {\n" +
      "    bool flash_attn = false; // [whisper-service patch] per state\n" +
      "    int64_t t_sample_us = 0;\n",
  },
  {
    file: WHISPER_CPP,
    why: "whisper_init_state takes the flag from a thread-local set by the " +
      "binding around the call (else from the context), before it sizes " +
      "its compute buffers from the graphs.",
    find:
      "struct whisper_state * whisper_init_state(whisper_context * ctx) {\n" +
      "    whisper_state * state = new whisper_state;\n",
    replace:
      "// [whisper-service patch] flash attention for states made on this\n" +
      "// thread: -1 the context's setting, 0 off, 1 on.\n" +
      "static thread_local int whisper_service_flash_attn = -1;\n" +
      'extern "C" void whisper_service_set_flash_attn(int on) { whisper_service_flash_attn = on; }\n' +
      "\n" +
      "struct whisper_state * whisper_init_state(whisper_context * ctx) {\n" +
      "    whisper_state * state = new whisper_state;\n" +
      "    state->flash_attn = whisper_service_flash_attn >= 0\n" +
      "        ? whisper_service_flash_attn == 1 : ctx->params.flash_attn;\n" +
      "    whisper_service_flash_attn = -1; // one state per setting\n",
  },
  ...[
    "            if (wctx.params.flash_attn) {\n" +
    "                ggml_build_forward_expand(gf, ggml_cpy(ctx0, Kcur, ggml_view_1d(ctx0, kv_pad.k",
    "        if (wctx.params.flash_attn) {\n" +
    "            k = ggml_view_1d(ctx0, wstate.kv_cross.k",
    "                if (wctx.params.flash_attn) {\n" +
    "                    k = ggml_view_1d(ctx0, kv_self.k",
    "            if (wctx.params.flash_attn) {\n" +
    "                struct ggml_tensor * V =",
    "            if (wctx.params.flash_attn) {\n" +
    "                struct ggml_tensor * Kcross =",
  ].map((find): SourceEdit => ({
    file: WHISPER_CPP,
    why: "The graph builders read the state's flag.",
    find,
    replace: find.replace("wctx.params.flash_attn", "wstate.flash_attn"),
  })),
  {
    file: "src/binding/transcribe.cc",
    why: "The call's flash attention choice travels with its parameters.",
    find:
      "struct smart_whisper_transcribe_params {\n    const char* format;\n};\n",
    replace: "struct smart_whisper_transcribe_params {\n" +
      "    const char* format;\n" +
      "    int flash_attn = 0; // [whisper-service patch] 1: on for this call\n" +
      "};\n" +
      'extern "C" void whisper_service_set_flash_attn(int on);\n',
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Read `flash_attn` (boolean) from the call's parameters.",
    find: '        params.format = strdup("simple");\n    }\n',
    replace: '        params.format = strdup("simple");\n    }\n' +
      "    // [whisper-service patch] flash attention per call.\n" +
      '    if (o.Has("flash_attn") && o.Get("flash_attn").IsBoolean()) {\n' +
      '        params.flash_attn = o.Get("flash_attn").As<Napi::Boolean>() ? 1 : 0;\n' +
      "    }\n",
  },
  {
    file: "src/binding/transcribe.cc",
    why: "Make the call's state with its flash attention choice (the state " +
      "creation as patched above; whisper_init_state consumes the setting).",
    find: NULL_STATE_CHECK,
    replace:
      "        whisper_service_set_flash_attn(smart_params.flash_attn);\n" +
      NULL_STATE_CHECK,
  },
];

/** The edits, in application order. */
export const SOURCE_EDITS: readonly SourceEdit[] = [
  ...BINDING_EDITS,
  ...LOADER_EDITS,
  ...SPEED_EDITS,
  ...FLASH_ATTN_EDITS,
];

/** sha256 (hex, first 16) of the edits; changes whenever an edit changes. */
export const PATCH_HASH: string = createHash("sha256")
  .update(JSON.stringify(SOURCE_EDITS))
  .digest("hex")
  .slice(0, 16);

/**
 * Applies {@linkcode SOURCE_EDITS} to the pristine package at `root`.
 * @throws {EngineError} when an expected text is missing or not unique.
 */
export async function applySourceEdits(root: string): Promise<void> {
  const files = new Map<string, string>();
  for (const edit of SOURCE_EDITS) {
    const path = join(root, edit.file);
    const text = files.get(path) ?? await Deno.readTextFile(path);
    const at = text.indexOf(edit.find);
    if (at < 0 || text.indexOf(edit.find, at + 1) >= 0) {
      throw new EngineError(
        `${edit.file}: expected exactly one occurrence of the text to patch ` +
          `(${edit.why}); is this smart-whisper 0.8.1?`,
      );
    }
    files.set(
      path,
      text.slice(0, at) + edit.replace + text.slice(at + edit.find.length),
    );
  }
  for (const [path, text] of files) await Deno.writeTextFile(path, text);
}
