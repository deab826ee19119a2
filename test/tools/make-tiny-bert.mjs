// @ts-check
/**
 * Writes a tiny BERT encoder that transformers.js loads like any hub model (config, WordPiece tokenizer,
 * ONNX graph), so the real TransformersEmbedder runs in tests with no hub and no Python.
 *
 * The graph is one real BERT layer, post-LayerNorm as in BERT: word + position + token-type embeddings
 * -> LayerNorm -> 2-head self-attention masked by attention_mask -> residual + LayerNorm -> GELU
 * feed-forward (64) -> residual + LayerNorm -> `last_hidden_state` [batch, sequence, 32]. Random
 * (seeded) weights: vectors carry no meaning, but tokenisation, prefixes, batching, padding, the
 * attention mask, pooling and normalisation are all real. The ONNX protobuf is encoded here (field
 * numbers of onnx.proto), opset 17, IR version 8.
 *
 *   node test/tools/make-tiny-bert.mjs   -> .cache/tiny-bert/
 *
 * Plain ESM with JSDoc types so Node 20 runs it directly; TypeScript callers get make-tiny-bert.d.mts.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../.cache/tiny-bert/', import.meta.url));
const HIDDEN = 32;
const HEADS = 2;
const HEAD_DIM = HIDDEN / HEADS;
const FEED_FORWARD = 64;
/** Also the tokenizer's truncation length: a longer input would index past the position table. */
const MAX_POSITIONS = 128;
const LAYER_NORM_EPS = 1e-12;
const SEED = 20_250_601;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = `query passage : . , ? ! ' " - ( ) the a an of in on at to and or is was were be by for with from as that this
which who whom what when where why how it its he she they his her their born city river film director album band song
capital country town village university school war king queen president year first second name known called
published written wrote directed played plays team club football game season american british french german
english london paris new york mountain island lake sea ocean north south east west state county`.split(/\s+/);
const SUFFIXES = ['##s', '##ed', '##ing', '##er', '##ly', '##ion'];
const CHARACTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
/** Whole words first, then single characters and `##` characters, so any lowercase word tokenises. */
const VOCAB = [...new Set([...SPECIAL, ...WORDS, ...SUFFIXES, ...CHARACTERS, ...CHARACTERS.map((c) => `##${c}`)])];

// --- protobuf: varints and length-delimited fields are all ONNX needs, plus one fixed32 float ---

/** @param {number | bigint} value an int64; negatives as two's complement (10 bytes) */
function varint(value) {
  const out = [];
  let v = BigInt.asUintN(64, BigInt(value));
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}
/** @param {number} field @param {number} wire */
const key = (field, wire) => varint((field << 3) | wire);
/** @param {number} field @param {number | bigint} value */
const int = (field, value) => Buffer.concat([key(field, 0), varint(value)]);
/** @param {number} field @param {Buffer} data */
const bytes = (field, data) => Buffer.concat([key(field, 2), varint(data.length), data]);
/** @param {number} field @param {string} text */
const str = (field, text) => bytes(field, Buffer.from(text, 'utf8'));
/** @param {number} field @param {Buffer[]} parts */
const msg = (field, ...parts) => bytes(field, Buffer.concat(parts));
/** @param {number} field @param {number} value */
function float32(field, value) {
  const data = Buffer.alloc(4);
  data.writeFloatLE(value);
  return Buffer.concat([key(field, 5), data]);
}

/** TensorProto.DataType */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType */
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 };

// AttributeProto: name 1, f 2, i 3, ints 8, type 20.
/** @param {string} name @param {number} value */
const intAttr = (name, value) => msg(5, str(1, name), int(3, value), int(20, ATTR.INT));
/** @param {string} name @param {number} value */
const floatAttr = (name, value) => msg(5, str(1, name), float32(2, value), int(20, ATTR.FLOAT));
/** @param {string} name @param {number[]} values */
const intsAttr = (name, values) => msg(5, str(1, name), ...values.map((v) => int(8, v)), int(20, ATTR.INTS));

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. @param {string} opType @param {string[]} inputs @param {string} output @param {Buffer[]} attributes */
function node(opType, inputs, output, ...attributes) {
  return msg(1, ...inputs.map((i) => str(1, i)), str(2, output), str(3, output), str(4, opType), ...attributes);
}

/** @typedef {{ dims: number[], data: Float32Array | BigInt64Array }} Tensor */

/** @param {number[]} dims @param {Float32Array | BigInt64Array} data @returns {Tensor} */
const tensor = (dims, data) => ({ dims, data });

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian). @param {string} name @param {Tensor} value */
function initializer(name, { dims, data }) {
  const type = data instanceof Float32Array ? FLOAT : INT64;
  return msg(5, ...dims.map((d) => int(1, d)), int(2, type), str(8, name), bytes(9, Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
}

/**
 * ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 | dim_param 2 } } } } }
 * @param {number} field 11 graph input, 12 graph output @param {string} name @param {number} type @param {(number | string)[]} dims
 */
function valueInfo(field, name, type, dims) {
  const shape = dims.map((d) => msg(1, typeof d === 'string' ? str(2, d) : int(1, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, type), msg(2, ...shape))));
}

// --- the graph ---

/** mulberry32 in [-0.5, 0.5): the same weights on every machine. @param {number} seed */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/** Random weights, scaled like Xavier init so activations neither vanish nor saturate. */
function weights() {
  const rand = random(SEED);
  /** @param {number} rows @param {number} cols @param {number} [scale] */
  const matrix = (rows, cols, scale = 2 / Math.sqrt(rows)) => new Float32Array(rows * cols).map(() => rand() * scale);
  const ones = new Float32Array(HIDDEN).fill(1);
  const zeros = new Float32Array(HIDDEN);
  return {
    word_embeddings: tensor([VOCAB.length, HIDDEN], matrix(VOCAB.length, HIDDEN, 1)),
    position_embeddings: tensor([MAX_POSITIONS, HIDDEN], matrix(MAX_POSITIONS, HIDDEN, 0.5)),
    token_type_embeddings: tensor([2, HIDDEN], matrix(2, HIDDEN, 0.5)),
    ...Object.fromEntries(['query', 'key', 'value', 'attention_output'].flatMap((n) => [
      [`${n}_weight`, tensor([HIDDEN, HIDDEN], matrix(HIDDEN, HIDDEN))],
      [`${n}_bias`, tensor([HIDDEN], matrix(1, HIDDEN, 0.1))],
    ])),
    intermediate_weight: tensor([HIDDEN, FEED_FORWARD], matrix(HIDDEN, FEED_FORWARD)),
    intermediate_bias: tensor([FEED_FORWARD], matrix(1, FEED_FORWARD, 0.1)),
    output_weight: tensor([FEED_FORWARD, HIDDEN], matrix(FEED_FORWARD, HIDDEN)),
    output_bias: tensor([HIDDEN], matrix(1, HIDDEN, 0.1)),
    ...Object.fromEntries(['embeddings', 'attention', 'output'].flatMap((n) => [[`${n}_norm_weight`, tensor([HIDDEN], ones)], [`${n}_norm_bias`, tensor([HIDDEN], zeros)]])),
  };
}

/** Small constants the ops take as inputs (opset 13+ moved axes and shapes from attributes to inputs). */
const CONSTANTS = {
  zero: tensor([], new BigInt64Array([0n])),
  one: tensor([], new BigInt64Array([1n])),
  axes_1_2: tensor([2], new BigInt64Array([1n, 2n])),
  split_heads: tensor([4], new BigInt64Array([0n, 0n, BigInt(HEADS), BigInt(HEAD_DIM)])),
  merge_heads: tensor([3], new BigInt64Array([0n, 0n, BigInt(HIDDEN)])),
  float_one: tensor([], new Float32Array([1])),
  half: tensor([], new Float32Array([0.5])),
  sqrt2: tensor([], new Float32Array([Math.SQRT2])),
  score_scale: tensor([], new Float32Array([1 / Math.sqrt(HEAD_DIM)])),
  // Large enough that exp() of a masked score is exactly 0 in float32, so padding changes nothing.
  mask_penalty: tensor([], new Float32Array([-10_000])),
};

/** @param {string} x @param {string} weight @param {string} bias @param {string} out */
const dense = (x, weight, bias, out) => [node('MatMul', [x, weight], `${out}_matmul`), node('Add', [`${out}_matmul`, bias], out)];
/** @param {string} x @param {string} name */
const layerNorm = (x, name) => node('LayerNormalization', [x, `${name}_norm_weight`, `${name}_norm_bias`], `${name}_normed`, intAttr('axis', -1), floatAttr('epsilon', LAYER_NORM_EPS));

function embeddingNodes() {
  return [
    node('Gather', ['word_embeddings', 'input_ids'], 'words'),
    node('Shape', ['input_ids'], 'input_shape'),
    node('Gather', ['input_shape', 'one'], 'sequence_length', intAttr('axis', 0)),
    node('Range', ['zero', 'sequence_length', 'one'], 'position_ids'),
    node('Gather', ['position_embeddings', 'position_ids'], 'positions'),
    node('Gather', ['token_type_embeddings', 'token_type_ids'], 'types'),
    node('Add', ['words', 'positions'], 'words_positions'),
    node('Add', ['words_positions', 'types'], 'embeddings'),
    layerNorm('embeddings', 'embeddings'),
  ];
}

/** [batch, seq, hidden] -> [batch, heads, seq, head_dim], or with keys: [batch, heads, head_dim, seq]. @param {string} x @param {number[]} perm */
const heads = (x, perm) => [node('Reshape', [x, 'split_heads'], `${x}_split`), node('Transpose', [`${x}_split`], `${x}_heads`, intsAttr('perm', perm))];

function attentionNodes() {
  const x = 'embeddings_normed';
  return [
    ...dense(x, 'query_weight', 'query_bias', 'q'),
    ...dense(x, 'key_weight', 'key_bias', 'k'),
    ...dense(x, 'value_weight', 'value_bias', 'v'),
    ...heads('q', [0, 2, 1, 3]),
    ...heads('k', [0, 2, 3, 1]),
    ...heads('v', [0, 2, 1, 3]),
    node('MatMul', ['q_heads', 'k_heads'], 'raw_scores'),
    node('Mul', ['raw_scores', 'score_scale'], 'scaled_scores'),
    // (1 - mask) * -10000, broadcast over heads and query positions: [batch, 1, 1, seq].
    node('Cast', ['attention_mask'], 'mask', intAttr('to', FLOAT)),
    node('Sub', ['float_one', 'mask'], 'inverted_mask'),
    node('Mul', ['inverted_mask', 'mask_penalty'], 'mask_bias'),
    node('Unsqueeze', ['mask_bias', 'axes_1_2'], 'mask_bias_4d'),
    node('Add', ['scaled_scores', 'mask_bias_4d'], 'scores'),
    node('Softmax', ['scores'], 'probabilities', intAttr('axis', -1)),
    node('MatMul', ['probabilities', 'v_heads'], 'context_heads'),
    node('Transpose', ['context_heads'], 'context_split', intsAttr('perm', [0, 2, 1, 3])),
    node('Reshape', ['context_split', 'merge_heads'], 'context'),
    ...dense('context', 'attention_output_weight', 'attention_output_bias', 'attention_projected'),
    node('Add', ['attention_projected', x], 'attention_residual'),
    layerNorm('attention_residual', 'attention'),
  ];
}

/** GELU as BERT computes it: x * 0.5 * (1 + erf(x / sqrt 2)); the Gelu op only exists from opset 20. */
function feedForwardNodes() {
  const x = 'attention_normed';
  return [
    ...dense(x, 'intermediate_weight', 'intermediate_bias', 'intermediate'),
    node('Div', ['intermediate', 'sqrt2'], 'gelu_scaled'),
    node('Erf', ['gelu_scaled'], 'gelu_erf'),
    node('Add', ['gelu_erf', 'float_one'], 'gelu_shifted'),
    node('Mul', ['intermediate', 'gelu_shifted'], 'gelu_product'),
    node('Mul', ['gelu_product', 'half'], 'activated'),
    ...dense('activated', 'output_weight', 'output_bias', 'feed_forward'),
    node('Add', ['feed_forward', x], 'output_residual'),
    layerNorm('output_residual', 'output'),
    node('Identity', ['output_normed'], 'last_hidden_state'),
  ];
}

function onnxModel() {
  const tensors = { ...weights(), ...CONSTANTS };
  const ids = ['batch_size', 'sequence_length'];
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const graph = Buffer.concat([
    ...embeddingNodes(),
    ...attentionNodes(),
    ...feedForwardNodes(),
    str(2, 'tiny-bert'),
    ...Object.entries(tensors).map(([name, t]) => initializer(name, t)),
    ...['input_ids', 'attention_mask', 'token_type_ids'].map((name) => valueInfo(11, name, INT64, ids)),
    valueInfo(12, 'last_hidden_state', FLOAT, [...ids, HIDDEN]),
  ]);
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 { domain 1, version 2 }.
  return Buffer.concat([int(1, 8), str(2, 'search-dont-guess test tools'), bytes(7, graph), msg(8, str(1, ''), int(2, 17))]);
}

// --- the tokenizer and config files ---

function tokenizerJson() {
  /** @param {string} token */
  const special = (token) => ({ id: VOCAB.indexOf(token), content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  /** @param {string} token @param {number} typeId */
  const piece = (token, typeId) => ({ SpecialToken: { id: token, type_id: typeId } });
  /** @param {'A' | 'B'} id @param {number} typeId */
  const sequence = (id, typeId) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [piece('[CLS]', 0), sequence('A', 0), piece('[SEP]', 0)],
      pair: [piece('[CLS]', 0), sequence('A', 0), piece('[SEP]', 0), sequence('B', 1), piece('[SEP]', 1)],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [VOCAB.indexOf(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  };
}

const CONFIG = {
  model_type: 'bert',
  architectures: ['BertModel'],
  hidden_size: HIDDEN,
  num_hidden_layers: 1,
  num_attention_heads: HEADS,
  intermediate_size: FEED_FORWARD,
  hidden_act: 'gelu',
  max_position_embeddings: MAX_POSITIONS,
  type_vocab_size: 2,
  vocab_size: VOCAB.length,
  layer_norm_eps: LAYER_NORM_EPS,
  pad_token_id: 0,
};

const TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  model_max_length: MAX_POSITIONS,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
};

/** @returns {Record<string, Buffer>} every file of the model, by path under its folder */
function modelFiles() {
  /** @param {unknown} value */
  const json = (value) => Buffer.from(`${JSON.stringify(value, null, 1)}\n`);
  return {
    'config.json': json(CONFIG),
    'tokenizer.json': json(tokenizerJson()),
    'tokenizer_config.json': json(TOKENIZER_CONFIG),
    'onnx/model.onnx': onnxModel(),
  };
}

/**
 * The model's folder (its parent is what transformers.js calls `localModelPath`). Building the files
 * in memory takes milliseconds, so each call compares them with the disk and writes only a missing or
 * stale file (after an edit of this script). Each write is a rename, so test files that call this at
 * the same time never see half a file.
 */
export function ensureTinyBert() {
  for (const [name, content] of Object.entries(modelFiles())) {
    const path = join(DIR, name);
    if (existsSync(path) && readFileSync(path).equals(content)) continue;
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, content);
    renameSync(partial, path);
  }
  return DIR;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureTinyBert());
