import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { QWEN3_MODELS, customModelRecord, modelConfigUrl, prebuiltModel, probeModelConfig, selfHosted } from '../../src/engines/webllm-models.ts';

describe('WebLLM model catalogue', () => {
  it('picks q4f16 with shader-f16 and q4f32 without', () => {
    expect(prebuiltModel('Qwen3-0.6B', true)).toMatchObject({ modelId: 'Qwen3-0.6B-q4f16_1-MLC', quantization: 'q4f16_1' });
    expect(prebuiltModel('Qwen3-1.7B', false)).toMatchObject({ modelId: 'Qwen3-1.7B-q4f32_1-MLC', reason: expect.stringMatching(/lacks shader-f16/) });
    expect(() => prebuiltModel('Llama-7B', true)).toThrow(/unknown model Llama-7B/);
  });

  it("names only models that exist in the installed WebLLM's prebuilt list, with its memory figures", () => {
    const listed = new Map(prebuiltAppConfig.model_list.map((r) => [r.model_id, r.vram_required_MB]));
    for (const { family } of QWEN3_MODELS) {
      for (const f16 of [true, false]) {
        const choice = prebuiltModel(family, f16);
        expect(listed.has(choice.modelId)).toBe(true);
        expect(Math.abs(choice.vramMB - (listed.get(choice.modelId) ?? 0))).toBeLessThan(1);
      }
    }
  });

  it('accepts a well-formed custom model and explains what is wrong with a malformed one', () => {
    const good = { id: 'Qwen3-1.7B-ASP-q4f16_1-MLC', modelUrl: 'https://example.org/w/', modelLibUrl: 'https://example.org/lib/qwen3.wasm' };
    expect(customModelRecord(good)).toEqual({ model: good.modelUrl, model_id: good.id, model_lib: good.modelLibUrl, overrides: { context_window_size: 4096 } });
    expect(() => customModelRecord({ ...good, modelUrl: 'javascript:alert(1)' })).toThrow(/modelUrl must be an http\(s\) URL/);
    expect(() => customModelRecord({ ...good, modelLibUrl: 'https://example.org/lib/qwen3.so' })).toThrow(/modelLibUrl must point at a .wasm/);
    expect(() => customModelRecord({ ...good, id: '../../etc' })).toThrow(/id letters, digits/);
  });

  it('points prebuilt weights and libraries at a self-hosted base URL', () => {
    const record = prebuiltAppConfig.model_list.find((r) => r.model_id === 'Qwen3-0.6B-q4f16_1-MLC');
    if (!record) throw new Error('prebuilt Qwen3-0.6B missing');
    const hosted = selfHosted(record, 'http://127.0.0.1:8000/mlc/');
    expect(hosted.model).toBe('http://127.0.0.1:8000/mlc/Qwen3-0.6B-q4f16_1-MLC/');
    expect(hosted.model_lib).toMatch(/^http:\/\/127\.0\.0\.1:8000\/mlc\/libs\/Qwen3-0\.6B-q4f16_1.*\.wasm$/);
    expect(() => selfHosted(record, 'file:///models')).toThrow(/must be an http\(s\) URL/);
  });
});

describe("checking a WebLLM model's URL before a load", () => {
  const answer = (status: number, body: string) => (async () => new Response(body, { status })) as typeof fetch;

  it('reads the configuration where WebLLM does', () => {
    expect(modelConfigUrl('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC')).toBe('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC/resolve/main/mlc-chat-config.json');
    expect(modelConfigUrl('https://mirror.example.org/m/resolve/v2/')).toBe('https://mirror.example.org/m/resolve/v2/mlc-chat-config.json');
  });

  it('refuses a missing configuration, a web page and text that is not JSON, and passes JSON', async () => {
    const model = 'https://mirror.example.org/m/resolve/main/';
    await expect(probeModelConfig(model, answer(404, ''))).rejects.toThrow(/HTTP 404\. Check the URL\.$/);
    await expect(probeModelConfig(model, answer(200, '<!doctype html><div id=app>'))).rejects.toThrow('the server sent a web page, not a model configuration (wrong URL?).');
    await expect(probeModelConfig(model, answer(200, 'oops'))).rejects.toThrow(/is not a model configuration \(not JSON\)/);
    await expect(probeModelConfig(model, answer(200, '{"model_type":"qwen3"}'))).resolves.toBeUndefined();
  });
});
