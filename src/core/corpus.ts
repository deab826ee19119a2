/**
 * Passage corpora in JSONL (`{id, title, text}` a line), parsed as untrusted input: a bad line is
 * skipped and reported with its line number, never silently dropped, and sizes are bounded.
 */
import { z } from 'zod';
import type { Document } from './memory-retriever.ts';

const MAX_LINE_CHARS = 100_000;

const PassageLine = z.object({
  id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(200)),
  title: z.string().max(1_000),
  text: z.string().min(1).max(50_000),
});

export interface CorpusParse {
  documents: Document[];
  skipped: { line: number; reason: string }[];
}

export function parsePassagesJsonl(body: string): CorpusParse {
  const documents: Document[] = [];
  const skipped: CorpusParse['skipped'] = [];
  body.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const reason = lineError(line);
    if (typeof reason === 'string') skipped.push({ line: i + 1, reason });
    else documents.push(reason);
  });
  return { documents, skipped };
}

function lineError(line: string): Document | string {
  if (line.length > MAX_LINE_CHARS) return `line longer than ${MAX_LINE_CHARS} characters`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  const parsed = PassageLine.safeParse(value);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
}
