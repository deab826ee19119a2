/** The SIMD kernel's build and its fallback: a browser without WebAssembly SIMD still searches. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import nodeKernel from '../../vite/int8-dot-wasm.node.ts';
import { compileWat, compileWatFile } from '../../vite/wasm-kernel.ts';
import { normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';

afterEach(() => {
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('the int8 dot-product kernel', () => {
  it('compiles from its WAT to a module that validates, as Node imports it', async () => {
    const bytes = await compileWatFile(new URL('../../src/retrieval/int8-dot.wat', import.meta.url));
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(nodeKernel).toEqual(bytes);
  });

  it('fails to compile broken WAT with the file named', async () => {
    await expect(compileWat('(module (func (i32x4.nonsense)))', 'broken.wat')).rejects.toThrow('broken.wat');
  });

  it('falls back to the JS scan where WebAssembly SIMD is unavailable, with the same answers', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    vi.resetModules();
    const { FlatInt8Index } = await import('../../src/retrieval/flat-index.ts');
    const index = new FlatInt8Index(3);
    expect(validate).toHaveBeenCalled();
    expect(index.kernel).toBe('js');
    expect(() => new FlatInt8Index(3, { kernel: 'wasm-simd' })).toThrow('WebAssembly SIMD is not available');
    index.add(quantizeInt8([Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0), normalize(Float32Array.of(1, 1, 0))], 3));
    expect(index.search(Float32Array.of(0, 1, 0), 2).map((h) => h.row)).toEqual([1, 2]);
  });
});
