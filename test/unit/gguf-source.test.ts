/** The first bytes of a model URL, read before the loaded model is let go: what a user is told when they are no GGUF. */
import { describe, expect, it } from 'vitest';
import { notGgufProblem, probeGguf, unreachableMessage } from '../../src/engines/gguf-source.ts';

const URL = 'https://models.example.org/q/tiny.gguf';
const bytes = (text: string) => new TextEncoder().encode(text);
const GGUF = new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, ...new Array(120).fill(7)]);

/** A fetch that answers with `body` (streamed in 16-byte chunks), recording what it was asked and how much was read. */
function serve(status: number, body: Uint8Array) {
  const seen = { range: null as string | null, chunksRead: 0 };
  const fetchFile = async (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    seen.range = new Headers(init?.headers).get('range');
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= body.length) return controller.close();
        seen.chunksRead++;
        controller.enqueue(body.subarray(offset, (offset += 16)));
      },
    });
    return new Response(stream, { status });
  };
  return { fetchFile: fetchFile as typeof fetch, seen };
}

describe('telling a GGUF file by its first bytes', () => {
  it('says a web page came instead of the model, whatever its doctype looks like', () => {
    for (const page of ['<!doctype html><title>404</title>', '<!DOCTYPE html>', '\n  <html lang="en">', '\uFEFF<!DOCTYPE HTML PUBLIC']) {
      expect(notGgufProblem(bytes(page), URL)).toBe('tiny.gguf: the server sent a web page, not a GGUF file (wrong URL?).');
    }
    expect(notGgufProblem(bytes('<!doctype html>'), 'https://huggingface.co/Qwen/x/blob/main/tiny.gguf')).toMatch(/use the \/resolve\/ link, not \/blob\/\.$/);
  });

  it('accepts a GGUF file and shows what any other file starts with', () => {
    expect(notGgufProblem(GGUF, URL)).toBeNull();
    expect(notGgufProblem(bytes('PK\x03\x04 zip'), URL)).toBe('tiny.gguf is not a GGUF file (it starts with bytes 50 4b 03 04).');
    expect(notGgufProblem(bytes('{"error":"x"}'), URL)).toBe('tiny.gguf is not a GGUF file (it starts with "{\\"er").');
    expect(notGgufProblem(new Uint8Array(), URL)).toBe('tiny.gguf is empty, not a GGUF file.');
  });
});

describe('probing a model URL before a load', () => {
  it('passes a GGUF file, asks for its first bytes only, and reads no further when the server sends it all', async () => {
    const { fetchFile, seen } = serve(200, GGUF);
    await expect(probeGguf(URL, fetchFile)).resolves.toBeUndefined();
    expect(seen.range).toBe('bytes=0-63');
    expect(seen.chunksRead).toBeLessThanOrEqual(5); // 64 bytes of 128, not the whole body
  });

  it('refuses a missing file, a web page and an unreachable host with what to check', async () => {
    await expect(probeGguf(URL, serve(404, bytes('not found')).fetchFile)).rejects.toThrow(`Could not download ${URL}: HTTP 404. Check the URL.`);
    await expect(probeGguf(URL, serve(200, bytes('<!doctype html><div id=app>')).fetchFile)).rejects.toThrow('tiny.gguf: the server sent a web page, not a GGUF file (wrong URL?).');
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(probeGguf(URL, down)).rejects.toThrow(`Could not download ${URL}: Failed to fetch. Check the URL, and that its server allows this page (CORS).`);
  });

  it('offline, says the model is not stored and needs the network, not CORS', () => {
    expect(unreachableMessage(URL, 'Failed to fetch', false)).toBe('This browser is offline and tiny.gguf is not stored in it: connect to the network to download it.');
    expect(unreachableMessage(URL, 'Failed to fetch', true)).toContain('(CORS)');
  });
});
