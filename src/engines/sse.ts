/**
 * Server-sent events from a fetch response: yields each event's `data` payload until `[DONE]`.
 * A server is untrusted: an overlong line is an error rather than unbounded memory.
 */
import { EngineError } from '../core/agent/engine.ts';

export const MAX_SSE_LINE_CHARS = 1_000_000;

export async function* readSse(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop() ?? '';
      if (buffer.length > MAX_SSE_LINE_CHARS) throw new EngineError(`the server sent a line longer than ${MAX_SSE_LINE_CHARS} characters`);
      for (const line of lines) {
        if (!line.startsWith('data:')) continue; // comments, event names, keep-alives
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        if (data) yield data;
      }
    }
  } finally {
    // Stops the download when the consumer stops early (abort, [DONE] before the end of the body).
    await reader.cancel().catch(() => undefined);
  }
}
