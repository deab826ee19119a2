/**
 * Writes a tiny BERT-shaped embedding model that transformers.js loads like any hub model (config,
 * WordPiece tokenizer, ONNX graph), so the real TransformersEmbedder code runs in tests with no hub.
 *
 * The graph is not a transformer: word + token-type embeddings, masked by attention_mask, one dense
 * layer with tanh -> `last_hidden_state` [batch, seq, 32]. Random (seeded) weights, so vectors carry
 * no meaning, but tokenisation, prefixes, batching, padding, pooling and normalisation are all real.
 * The ONNX protobuf is encoded here by hand (field numbers from onnx.proto), so no Python is needed.
 *
 *   node test/tools/make-tiny-bert.mjs   -> .cache/tiny-bert/
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../.cache/tiny-bert/', import.meta.url));
const HIDDEN = 32;
const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = `query passage : . , ? ! ' " - ( ) the a an of in on at to and or is was were be by for with from as that this
which who whom what when where why how it its he she they his her their born city river film director album band song
capital country town village university school war king queen president year first second name known called
published written wrote directed played plays team club football game season american british french german
english london paris new york river mountain island lake sea ocean north south east west state county`.split(/\s+/);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
export const TINY_BERT_VOCAB = [...SPECIAL, ...new Set([...WORDS, ...LETTERS, ...LETTERS.map((c) => `##${c}`)])];

// --- protobuf encoding (just what ONNX needs: varints, length-delimited fields) ---
function varint(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, value) => Buffer.concat([key(field, 0), varint(value)]);
const bytes = (field, data) => Buffer.concat([key(field, 2), varint(data.length), data]);
const str = (field, text) => bytes(field, Buffer.from(text, 'utf8'));
const msg = (field, ...parts) => bytes(field, Buffer.concat(parts));

const FLOAT = 1;
const INT64 = 7;

function tensor(field, name, type, dims, raw) {
  return msg(field, ...dims.map((d) => int(1, d)), int(2, type), str(8, name), bytes(9, raw));
}

function valueInfo(field, name, type, dims) {
  const shape = dims.map((d) => msg(1, typeof d === 'string' ? str(2, d) : int(1, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, type), msg(2, ...shape))));
}

function node(opType, inputs, outputs, ...attributes) {
  return msg(1, ...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, `${opType}_${outputs[0]}`), str(4, opType), ...attributes);
}

/** mulberry32: the same weights on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function floats(count, rand) {
  const data = new Float32Array(count).map(() => rand());
  return Buffer.from(data.buffer);
}

function onnxModel() {
  const rand = random(1234);
  const vocab = TINY_BERT_VOCAB.length;
  const ids = ['batch', 'sequence'];
  const graph = Buffer.concat([
    node('Gather', ['word_embeddings', 'input_ids'], ['words']),
    node('Gather', ['token_type_embeddings', 'token_type_ids'], ['types']),
    node('Add', ['words', 'types'], ['embedded']),
    node('Cast', ['attention_mask'], ['mask'], msg(5, str(1, 'to'), int(3, FLOAT), int(20, 2))),
    node('Unsqueeze', ['mask', 'last_axis'], ['mask3']),
    node('Mul', ['embedded', 'mask3'], ['masked']),
    node('MatMul', ['masked', 'dense'], ['projected']),
    node('Tanh', ['projected'], ['last_hidden_state']),
    str(2, 'tiny-bert'),
    tensor(5, 'word_embeddings', FLOAT, [vocab, HIDDEN], floats(vocab * HIDDEN, rand)),
    tensor(5, 'token_type_embeddings', FLOAT, [2, HIDDEN], floats(2 * HIDDEN, rand)),
    tensor(5, 'dense', FLOAT, [HIDDEN, HIDDEN], floats(HIDDEN * HIDDEN, rand)),
    tensor(5, 'last_axis', INT64, [1], Buffer.from(new BigInt64Array([2n]).buffer)),
    valueInfo(11, 'input_ids', INT64, ids),
    valueInfo(11, 'attention_mask', INT64, ids),
    valueInfo(11, 'token_type_ids', INT64, ids),
    valueInfo(12, 'last_hidden_state', FLOAT, [...ids, HIDDEN]),
  ]);
  // ir_version 7, producer, graph, opset 13 of the default domain.
  return Buffer.concat([int(1, 7), str(2, 'search-dont-guess test tools'), bytes(7, graph), msg(8, str(1, ''), int(2, 13))]);
}

function tokenizerJson() {
  const special = (token) => ({ id: TINY_BERT_VOCAB.indexOf(token), content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const piece = (id) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [piece('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, piece('[SEP]')],
      pair: [piece('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, piece('[SEP]'), { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [TINY_BERT_VOCAB.indexOf(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(TINY_BERT_VOCAB.map((t, i) => [t, i])) },
  };
}

const FILES = {
  'config.json': () => JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: HIDDEN, vocab_size: TINY_BERT_VOCAB.length, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: HIDDEN, max_position_embeddings: 512, type_vocab_size: 2, pad_token_id: 0 }),
  'tokenizer.json': () => JSON.stringify(tokenizerJson()),
  'tokenizer_config.json': () => JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 512, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }),
  'onnx/model.onnx': onnxModel,
};

/** The model folder (its parent is what transformers.js calls `localModelPath`), rewritten when this
 * script is newer than it. */
export function ensureTinyBert() {
  const model = join(DIR, 'onnx/model.onnx');
  if (existsSync(model) && statSync(model).mtimeMs >= statSync(fileURLToPath(import.meta.url)).mtimeMs) return DIR;
  const partial = `${DIR.replace(/\/$/, '')}.partial`;
  rmSync(partial, { recursive: true, force: true });
  for (const [name, make] of Object.entries(FILES)) {
    mkdirSync(dirname(join(partial, name)), { recursive: true });
    writeFileSync(join(partial, name), make());
  }
  rmSync(DIR, { recursive: true, force: true });
  renameSync(partial, DIR);
  return DIR;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureTinyBert());
