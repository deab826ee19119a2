/**
 * The bytes of an IVF-PQ dense index (see ivf-pq-index.ts for how a query reads them):
 *
 *   quantizer file := "SDGV" u8 version, varint dimension, lists, subquantizers, rowsPerBlock,
 *                     centroids (a vector shard of `lists` int8 rows: scales, then codes),
 *                     codebooks (subquantizers × 256 × dimension/subquantizers float32, little-endian),
 *                     per list: varint rows, and when rows > 0 the range of its list
 *   list           := varint rows, the rows' ids (ascending: the first, then gaps), rows × subquantizers
 *                     code bytes, varint file and offset of its int8 rows in `rowFiles`, and one 8-byte
 *                     checksum per block of `rowsPerBlock` rows
 *   block of rows  := a vector shard (shard-codec.ts) of up to rowsPerBlock rows, in the list's order
 *
 * The quantizer file is checked against the manifest's SHA-256 on open; it holds each list's checksum,
 * and a list holds its row blocks' checksums: every byte a query reads is verified by something verified
 * before it. Decoders bound every count by the manifest, since bytes are untrusted even when their
 * checksum matched (it came from the same server).
 */
import type { IvfPqVectors } from '../core/index/index-manifest.ts';
import { vectorShardBytes } from '../core/index/index-manifest.ts';
import { ByteReader, ByteWriter, type FileRange } from './byte-codec.ts';
import { PQ_CENTROIDS } from './product-quantizer.ts';
import { MAX_RANGE_BYTES } from './range-source.ts';
import { decodeVectorShard, encodeVectorShard } from './shard-codec.ts';
import type { Int8Vectors } from './vectors.ts';

const MAGIC = [0x53, 0x44, 0x47, 0x56]; // "SDGV"
const VERSION = 1;

/** The most rows a block of int8 rows may hold. */
const MAX_ROWS_PER_BLOCK = 4096;

export interface IvfPqQuantizer {
  dimension: number;
  subquantizers: number;
  rowsPerBlock: number;
  /** One unit-length centroid a list, as int8 rows. */
  centroids: Int8Vectors;
  codebooks: Float32Array;
  /** Per list: how many rows it holds and where it lies (null for an empty list). */
  directory: { rows: number; range: FileRange | null }[];
}

export interface InvertedList {
  /** The passage rows of the list, ascending. */
  rows: Uint32Array;
  /** `rows.length × subquantizers` PQ codes, in the rows' order. */
  codes: Uint8Array;
  /** Where the list's int8 rows begin in the row files, and each block's checksum. */
  blocks: { file: number; offset: number; checksums: string[] };
}

export function encodeQuantizer(quantizer: IvfPqQuantizer): Uint8Array {
  const out = new ByteWriter();
  for (const byte of [...MAGIC, VERSION]) out.u8(byte);
  const { dimension, subquantizers, rowsPerBlock, centroids, codebooks, directory } = quantizer;
  for (const value of [dimension, directory.length, subquantizers, rowsPerBlock]) out.varint(value);
  out.bytes(encodeVectorShard(centroids));
  out.bytes(float32Bytes(codebooks));
  for (const { rows, range } of directory) {
    out.varint(rows);
    if (rows > 0 && range) out.range(range);
  }
  return out.finish();
}

/** Reads a quantizer file, checked against the manifest: its sizes, and lists that hold `count` rows between them. */
export function decodeQuantizer(bytes: Uint8Array, spec: IvfPqVectors, what: string): IvfPqQuantizer {
  const reader = new ByteReader(bytes, what);
  for (const byte of [...MAGIC, VERSION]) if (reader.u8() !== byte) throw reader.malformed('does not start with SDGV version 1');
  const [dimension, lists, subquantizers, rowsPerBlock] = [reader.varint(), reader.varint(), reader.varint(), reader.varint()];
  if (dimension !== spec.embedder.dimension || lists !== spec.lists || subquantizers !== spec.subquantizers) {
    throw reader.malformed(`describes ${lists} lists of ${dimension}-d vectors in ${subquantizers} codes, the manifest ${spec.lists} of ${spec.embedder.dimension}-d in ${spec.subquantizers}`);
  }
  if (rowsPerBlock < 1 || rowsPerBlock > MAX_ROWS_PER_BLOCK) throw reader.malformed(`has blocks of ${rowsPerBlock} rows`);
  const centroids = decodeVectorShard(reader.bytesOf(vectorShardBytes(lists, dimension)).slice(), lists, dimension);
  const codebooks = readFloat32(reader, subquantizers * PQ_CENTROIDS * (dimension / subquantizers));
  const directory: IvfPqQuantizer['directory'] = [];
  let total = 0;
  for (let list = 0; list < lists; list++) {
    const rows = reader.varint();
    total += rows;
    if (total > spec.count) throw reader.malformed(`lists more than the manifest's ${spec.count} rows`);
    directory.push({ rows, range: rows > 0 ? reader.range(spec.files.length, MAX_RANGE_BYTES) : null });
  }
  if (total !== spec.count) throw reader.malformed(`lists ${total} rows, the manifest ${spec.count}`);
  if (!reader.done) throw reader.malformed('has bytes after its last list');
  return { dimension, subquantizers, rowsPerBlock, centroids, codebooks, directory };
}

export function encodeList(list: InvertedList): Uint8Array {
  const out = new ByteWriter();
  out.varint(list.rows.length);
  let previous = -1;
  for (const row of list.rows) {
    out.varint(previous < 0 ? row : row - previous);
    previous = row;
  }
  out.bytes(list.codes);
  out.varint(list.blocks.file);
  out.varint(list.blocks.offset);
  for (const checksum of list.blocks.checksums) out.checksum(checksum);
  return out.finish();
}

export interface ListShape {
  /** What the directory says the list holds. */
  rows: number;
  subquantizers: number;
  rowsPerBlock: number;
  /** Passages in the index: every row id is below it. */
  passages: number;
  rowFiles: number;
}

export function decodeList(bytes: Uint8Array, shape: ListShape, what: string): InvertedList {
  const reader = new ByteReader(bytes, what);
  const count = reader.varint();
  if (count !== shape.rows) throw reader.malformed(`holds ${count} rows, the directory says ${shape.rows}`);
  const rows = new Uint32Array(count);
  let row = -1;
  for (let i = 0; i < count; i++) {
    const gap = reader.varint();
    if (i > 0 && gap === 0) throw reader.malformed('lists a row twice');
    row = i === 0 ? gap : row + gap;
    if (row >= shape.passages) throw reader.malformed(`names row ${row} of ${shape.passages}`);
    rows[i] = row;
  }
  const codes = reader.bytesOf(count * shape.subquantizers).slice();
  const file = reader.varint();
  if (file >= shape.rowFiles) throw reader.malformed(`points at row file ${file} of ${shape.rowFiles}`);
  const offset = reader.varint();
  const checksums = Array.from({ length: Math.ceil(count / shape.rowsPerBlock) }, () => reader.checksum());
  if (!reader.done) throw reader.malformed('has bytes after its last checksum');
  return { rows, codes, blocks: { file, offset, checksums } };
}

/** Where block `block` of a list's int8 rows lies, and how many rows it holds. */
export function blockRange(list: InvertedList, block: number, rowsPerBlock: number, dimension: number): { range: FileRange; rows: number } {
  const { file, offset, checksums } = list.blocks;
  const checksum = checksums[block];
  if (checksum === undefined) throw new Error(`a list of ${list.rows.length} rows has no block ${block}`);
  const rows = Math.min(rowsPerBlock, list.rows.length - block * rowsPerBlock);
  return { range: { file, offset: offset + vectorShardBytes(block * rowsPerBlock, dimension), length: vectorShardBytes(rows, dimension), checksum }, rows };
}

function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}

function readFloat32(reader: ByteReader, count: number): Float32Array {
  const bytes = reader.bytesOf(count * 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const value = view.getFloat32(i * 4, true);
    if (!Number.isFinite(value)) throw reader.malformed('has a codeword that is not a finite number');
    values[i] = value;
  }
  return values;
}
