/**
 * WebAssembly kernels are kept in the repo as WAT text and compiled here, never committed as binaries:
 * by the Vite plugin when the app (or its worker) imports a `.wat` file, and by `compileWatFile` in
 * Node (benchmarks, unit tests) through `#int8-dot-wasm` (see package.json `imports`).
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';
import wabt from 'wabt';

/** Only what the kernels use: fixed-width SIMD (Chrome 91, Firefox 89, Safari 16.4). */
const FEATURES = { simd: true } as const;

export async function compileWat(source: string, name: string): Promise<Uint8Array<ArrayBuffer>> {
  const module = (await wabt()).parseWat(name, source, FEATURES);
  try {
    module.validate();
    return module.toBinary({}).buffer.slice();
  } finally {
    module.destroy();
  }
}

export async function compileWatFile(path: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  return compileWat(await readFile(path, 'utf8'), String(path));
}

/** `import bytes from './kernel.wat'` gives the compiled module's bytes, inlined: kernels are a few
 * hundred bytes, so a separate asset would cost a request for nothing, and inline bytes compile
 * synchronously. */
export function wasmKernel(): Plugin {
  return {
    name: 'wasm-kernel',
    async load(id) {
      const path = id.split('?', 1)[0] ?? id;
      if (!path.endsWith('.wat')) return null;
      this.addWatchFile(path);
      const bytes = await compileWatFile(path);
      return `export default Uint8Array.from(atob(${JSON.stringify(Buffer.from(bytes).toString('base64'))}), (c) => c.charCodeAt(0));`;
    },
  };
}
