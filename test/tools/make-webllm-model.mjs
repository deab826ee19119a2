// @ts-check
/**
 * Writes an MLC model folder that WebLLM loads, for a given prebuilt model library (`.wasm`): random
 * weights of exactly the shapes the library declares, and the real Qwen3 tokenizer. The text it writes is
 * nonsense, but WebLLM's runtime, tokenizer, chat template, KV cache, streaming, stop strings and
 * interrupts are real (../shared/fixtures/webllm/README.md).
 *
 *   node test/tools/make-webllm-model.mjs <library.wasm> [out folder]   (default: .cache/webllm-model/<lib>)
 *
 * A model library embeds its metadata as a JSON string (`{"model_type": …, "params": [{name, shape,
 * dtype}, …], …}`); the folder is `mlc-chat-config.json`, the parameter shards `params_shard_N.bin` and
 * their index (`ndarray-cache.json`, which WebLLM 0.2.79 reads, and `tensor-cache.json`, its newer name),
 * and `tokenizer.json` / `tokenizer_config.json`. Plain ESM with JSDoc types, as make-tiny-gguf.mjs.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng, tokenizerFiles } from './make-tiny-gguf.mjs';

/** Where tests keep generated models: `.cache/` is git-ignored. */
export const WEBLLM_MODEL_ROOT = fileURLToPath(new URL('../../.cache/webllm-model/', import.meta.url));

/** The settings a test picks; the rest comes from the library. */
export const DEFAULT_MODEL_SETTINGS = Object.freeze({ seed: 20_261_202, contextWindow: 1024, prefillChunk: 1024 });

/** MLC's converter writes shards of about this size; one bigger tensor gets a shard of its own. */
const SHARD_BYTES = 32 * 1024 * 1024;
/** Larger than any metadata string a library embeds: the scan for its end stops here. */
const MAX_METADATA_BYTES = 1 << 20;
/**
 * q4f32_1 dequantises a 4-bit value q as (q - 7) * scale. Uniform nibbles with this scale give weights
 * of about ±0.03, which keep activations finite through 24 blocks (the spike in the fixture README).
 */
const Q_SCALE = 0.004;
const QWEN_EOS = 151_645;
const QWEN_END_OF_TEXT = 151_643;

/**
 * @typedef {{ name: string, shape: number[], dtype: string }} Param
 * @typedef {{ model_type: string, quantization: string, context_window_size: number, prefill_chunk_size: number, params: Param[] }} LibraryMetadata
 * @typedef {{ seed: number, contextWindow: number, prefillChunk: number }} ModelSettings
 */

/** The metadata JSON embedded in a model library, found by its opening key and read to its closing brace. @param {Uint8Array} wasm @returns {LibraryMetadata} */
export function readLibraryMetadata(wasm) {
  const start = Buffer.from(wasm.buffer, wasm.byteOffset, wasm.byteLength).indexOf('{"model_type"');
  if (start < 0) throw new Error('no model metadata in this library (expected an embedded {"model_type": …} string)');
  const end = jsonObjectEnd(wasm, start);
  /** @type {unknown} */
  const parsed = JSON.parse(Buffer.from(wasm.subarray(start, end)).toString('utf8'));
  return checkMetadata(parsed);
}

/** The index just past the object that opens at `start`, braces inside strings skipped. @param {Uint8Array} bytes @param {number} start */
function jsonObjectEnd(bytes, start) {
  let depth = 0;
  let inString = false;
  const limit = Math.min(bytes.length, start + MAX_METADATA_BYTES);
  for (let i = start; i < limit; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i + 1;
  }
  throw new Error(`the library's model metadata does not end within ${MAX_METADATA_BYTES} bytes`);
}

/** @param {unknown} value @returns {LibraryMetadata} */
function checkMetadata(value) {
  const m = /** @type {Partial<LibraryMetadata>} */ (value);
  if (typeof m.model_type !== 'string' || typeof m.quantization !== 'string' || !Array.isArray(m.params) || m.params.length === 0) {
    throw new Error('the library metadata lacks model_type, quantization or params');
  }
  for (const p of m.params) {
    const sized = Array.isArray(p.shape) && p.shape.every((d) => Number.isInteger(d) && d > 0);
    if (typeof p.name !== 'string' || !sized || (p.dtype !== 'uint32' && p.dtype !== 'float32')) throw new Error(`unsupported parameter ${JSON.stringify(p)}`);
  }
  return /** @type {LibraryMetadata} */ (m);
}

/** How a parameter starts: random 4-bit codes, the quantisation scale, ones for norms, zeros for biases. @param {Param} p */
function initOf(p) {
  if (p.dtype === 'uint32') return 'random';
  if (p.name.endsWith('.q_scale')) return 'scale';
  if (p.name.endsWith('norm.weight')) return 'ones';
  if (p.name.endsWith('.bias')) return 'zeros';
  throw new Error(`no rule to initialise ${p.name} (${p.dtype})`);
}

/** @param {Param} p */
const elements = (p) => p.shape.reduce((a, b) => a * b, 1);

/** @param {Param} p @param {() => number} rand */
function tensorBytes(p, rand) {
  const n = elements(p);
  const init = initOf(p);
  if (init === 'random') {
    const words = new Uint32Array(n);
    for (let i = 0; i < n; i++) words[i] = (rand() * 4294967296) >>> 0;
    return new Uint8Array(words.buffer);
  }
  const fill = init === 'scale' ? Q_SCALE : init === 'ones' ? 1 : 0;
  return new Uint8Array(new Float32Array(n).fill(fill).buffer);
}

/** Groups parameters, in the library's order, into shards of about SHARD_BYTES. @param {Param[]} params */
function planShards(params) {
  /** @type {Param[][]} */
  const shards = [[]];
  let bytes = 0;
  for (const p of params) {
    const size = elements(p) * 4;
    if (bytes > 0 && bytes + size > SHARD_BYTES) {
      shards.push([]);
      bytes = 0;
    }
    shards[shards.length - 1]?.push(p);
    bytes += size;
  }
  return shards;
}

/** The conversation template MLC writes for Qwen2 and Qwen3 (ChatML), in WebLLM's ConvTemplateConfig shape. */
const CHATML_TEMPLATE = Object.freeze({
  name: 'qwen2',
  system_template: '<|im_start|>system\n{system_message}<|im_end|>\n',
  system_message: 'You are a helpful assistant.',
  roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' },
  role_templates: { user: '{user_message}', assistant: '{assistant_message}', tool: '{tool_message}' },
  messages: [],
  seps: ['<|im_end|>\n'],
  role_content_sep: '\n',
  role_empty_sep: '\n',
  stop_str: ['<|endoftext|>', '<|im_end|>'],
  stop_token_ids: [QWEN_END_OF_TEXT, QWEN_EOS],
  add_role_after_system_message: true,
});

/** @param {LibraryMetadata} metadata @param {ModelSettings} settings @param {number} vocabSize */
function chatConfig(metadata, settings, vocabSize) {
  return {
    model_type: metadata.model_type,
    quantization: metadata.quantization,
    vocab_size: vocabSize,
    context_window_size: settings.contextWindow,
    // WebLLM 0.2.79 takes the prefill chunk from the library, not from here; newer versions read it.
    prefill_chunk_size: settings.prefillChunk,
    sliding_window_size: -1,
    attention_sink_size: -1,
    tensor_parallel_shards: 1,
    temperature: 0.7,
    top_p: 0.8,
    repetition_penalty: 1.05,
    presence_penalty: 0,
    frequency_penalty: 0,
    pad_token_id: QWEN_END_OF_TEXT,
    bos_token_id: QWEN_END_OF_TEXT,
    eos_token_id: [QWEN_EOS, QWEN_END_OF_TEXT],
    conv_template: CHATML_TEMPLATE,
    tokenizer_files: ['tokenizer.json', 'tokenizer_config.json'],
    tokenizer_info: { token_postproc_method: 'byte_level', prepend_space_in_encode: false, strip_space_in_decode: false },
    version: '0.1.0',
  };
}

/**
 * Writes the model folder for `libraryPath` into `outDir` (atomically: a temp folder, then a rename).
 * @param {string} libraryPath @param {string} outDir @param {ModelSettings} [settings]
 * @returns {{ bytes: number, shards: number, params: number }}
 */
export function writeWebLlmModel(libraryPath, outDir, settings = DEFAULT_MODEL_SETTINGS) {
  const metadata = readLibraryMetadata(readFileSync(libraryPath));
  const embedding = metadata.params.find((p) => p.name.endsWith('embed_tokens.q_weight'));
  if (!embedding) throw new Error('the library declares no token embedding (embed_tokens.q_weight)');
  const tmp = `${outDir}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  mkdirSync(tmp, { recursive: true });
  try {
    const rand = prng(settings.seed);
    const records = planShards(metadata.params).map((params, index) => writeShard(tmp, index, params, rand));
    const bytes = records.reduce((sum, r) => sum + r.nbytes, 0);
    const cache = { metadata: { ParamSize: metadata.params.length, ParamBytes: bytes, BitsPerParam: 5 }, records };
    for (const name of ['ndarray-cache.json', 'tensor-cache.json']) writeFileSync(join(tmp, name), JSON.stringify(cache));
    writeFileSync(join(tmp, 'mlc-chat-config.json'), JSON.stringify(chatConfig(metadata, settings, embedding.shape[0] ?? 0), null, 2));
    const files = tokenizerFiles();
    copyFileSync(files.tokenizer, join(tmp, 'tokenizer.json'));
    copyFileSync(files.config, join(tmp, 'tokenizer_config.json'));
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(tmp, outDir);
    return { bytes, shards: records.length, params: metadata.params.length };
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** @param {string} dir @param {number} index @param {Param[]} params @param {() => number} rand */
function writeShard(dir, index, params, rand) {
  const dataPath = `params_shard_${index}.bin`;
  const parts = params.map((p) => tensorBytes(p, rand));
  let byteOffset = 0;
  const records = params.map((p, i) => {
    const nbytes = parts[i]?.byteLength ?? 0;
    const record = { name: p.name, shape: p.shape, dtype: p.dtype, format: 'raw', nbytes, byteOffset };
    byteOffset += nbytes;
    return record;
  });
  writeFileSync(join(dir, dataPath), Buffer.concat(parts));
  return { dataPath, format: 'raw-shard', nbytes: byteOffset, records };
}

/**
 * The model folder for a library and settings, written unless an up-to-date one exists (newer than this
 * script and the library); returns its path.
 * @param {string} libraryPath @param {Partial<ModelSettings>} [overrides]
 */
export function ensureWebLlmModel(libraryPath, overrides = {}) {
  const settings = { ...DEFAULT_MODEL_SETTINGS, ...overrides };
  const name = `${basename(libraryPath, '.wasm')}-s${settings.seed}-ctx${settings.contextWindow}-cs${settings.prefillChunk}`;
  const dir = join(WEBLLM_MODEL_ROOT, name);
  const config = join(dir, 'mlc-chat-config.json');
  const newest = Math.max(statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(libraryPath).mtimeMs);
  if (!existsSync(config) || statSync(config).mtimeMs < newest) writeWebLlmModel(libraryPath, dir, settings);
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [library, out] = process.argv.slice(2);
  if (!library) {
    console.error('usage: node test/tools/make-webllm-model.mjs <library.wasm> [out folder]');
    process.exit(2);
  }
  const started = performance.now();
  const dir = out ?? join(WEBLLM_MODEL_ROOT, basename(library, '.wasm'));
  const written = writeWebLlmModel(library, dir);
  console.log(`wrote ${dir}: ${written.params} parameters in ${written.shards} shards, ${(written.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
