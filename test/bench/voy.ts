/**
 * voy-search in Node, for the benchmark: its package is built for bundlers (an ESM `.wasm` import), so
 * the wasm module is instantiated here by hand against the package's own JS glue.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DenseIndex } from '../../src/retrieval/dense-index.ts';
import type { RankedRow } from '../../src/retrieval/ranked-row.ts';
import { dequantizeRow, type Int8Vectors } from '../../src/retrieval/vectors.ts';

type VoyModule = typeof import('voy-search');

let loaded: Promise<VoyModule> | null = null;

function loadVoy(): Promise<VoyModule> {
  loaded ??= (async () => {
    const dir = dirname(createRequire(import.meta.url).resolve('voy-search/package.json'));
    const glue = (await import(join(dir, 'voy_search_bg.js'))) as VoyModule & { __wbg_set_wasm(exports: WebAssembly.Exports): void };
    const { instance } = await WebAssembly.instantiate(await readFile(join(dir, 'voy_search_bg.wasm')), { './voy_search_bg.js': glue as unknown as WebAssembly.ModuleImports });
    glue.__wbg_set_wasm(instance.exports);
    return glue;
  })();
  return loaded;
}

/** Voy's index over the same vectors as the flat scan (dequantised, since voy takes float arrays). */
export class VoyIndex implements DenseIndex {
  private constructor(
    private readonly voy: InstanceType<VoyModule['Voy']>,
    readonly size: number,
  ) {}

  /** Added in batches: voy receives each batch as one JSON document, which must stay well under V8's string limit. */
  static async build(vectors: Int8Vectors, batch = 5_000): Promise<VoyIndex> {
    const { Voy } = await loadVoy();
    const voy = new Voy();
    const count = vectors.scales.length;
    for (let start = 0; start < count; start += batch) {
      const embeddings = [];
      for (let row = start; row < Math.min(count, start + batch); row++) {
        embeddings.push({ id: String(row), title: '', url: '', embeddings: Array.from(dequantizeRow(vectors, row)) });
      }
      voy.add({ embeddings });
    }
    return new VoyIndex(voy, count);
  }

  /** Voy's own serialisation, what it would take to ship its index as shards; NaN when it cannot
   * serialise at all (past about 60k 384-d vectors its JSON exceeds V8's 512 MB string limit). */
  serializedBytes(): number {
    try {
      return this.voy.serialize().length;
    } catch {
      return NaN;
    }
  }

  /** Voy returns neighbours without scores; they come back in its order, ranked best first. */
  search(query: Float32Array, k: number): RankedRow[] {
    return this.voy.search(query, k).neighbors.map((n, rank) => ({ row: Number(n.id), score: -rank }));
  }
}
