/**
 * What this browser's GPU offers, for choosing an engine and a model variant. `'gpu' in navigator` is
 * not enough: Chromium exposes the API even where no adapter can be had.
 */
export interface GpuSupport {
  webgpu: boolean;
  shaderF16: boolean;
  /** A software adapter (e.g. SwiftShader): WebGPU works but is slower than the CPU engine. */
  fallback: boolean;
  reason: string;
}

interface AdapterLike {
  features: { has(name: string): boolean };
  info?: { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<AdapterLike | null> };
}

export async function detectGpu(nav: NavigatorWithGpu = navigator as NavigatorWithGpu): Promise<GpuSupport> {
  if (!nav.gpu) return { webgpu: false, shaderF16: false, fallback: false, reason: 'This browser has no WebGPU: the CPU engine (wllama) runs the model.' };
  let adapter: AdapterLike | null = null;
  try {
    adapter = await nav.gpu.requestAdapter();
  } catch {
    adapter = null;
  }
  if (!adapter) return { webgpu: false, shaderF16: false, fallback: false, reason: 'WebGPU is present but no GPU adapter is available: the CPU engine (wllama) runs the model.' };
  const shaderF16 = adapter.features.has('shader-f16');
  const fallback = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  if (fallback) return { webgpu: true, shaderF16, fallback, reason: 'Only a software WebGPU adapter is available: the CPU engine (wllama) is faster here.' };
  return {
    webgpu: true,
    shaderF16,
    fallback,
    reason: shaderF16
      ? 'WebGPU with shader-f16: WebLLM runs the q4f16 model on your GPU.'
      : 'WebGPU without shader-f16: WebLLM runs the larger q4f32 model on your GPU.',
  };
}
