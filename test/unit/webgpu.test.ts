import { describe, expect, it } from 'vitest';
import { detectGpu } from '../../src/engines/webgpu.ts';

const adapter = (features: string[], isFallbackAdapter = false) => ({ features: new Set(features), info: { isFallbackAdapter } });

describe('GPU detection', () => {
  it('falls back to the CPU engine without WebGPU, without an adapter, or when requestAdapter throws', async () => {
    expect((await detectGpu({})).webgpu).toBe(false);
    expect(await detectGpu({ gpu: { requestAdapter: async () => null } })).toMatchObject({ webgpu: false, reason: expect.stringMatching(/no GPU adapter/) });
    expect((await detectGpu({ gpu: { requestAdapter: () => Promise.reject(new Error('blocked')) } })).webgpu).toBe(false);
  });

  it('reports shader-f16 and a software adapter', async () => {
    expect(await detectGpu({ gpu: { requestAdapter: async () => adapter(['shader-f16']) } })).toMatchObject({ webgpu: true, shaderF16: true, fallback: false });
    expect(await detectGpu({ gpu: { requestAdapter: async () => adapter([]) } })).toMatchObject({ shaderF16: false, reason: expect.stringMatching(/q4f32/) });
    expect(await detectGpu({ gpu: { requestAdapter: async () => adapter([], true) } })).toMatchObject({ fallback: true, reason: expect.stringMatching(/software/) });
  });
});
