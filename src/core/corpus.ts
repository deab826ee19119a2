/**
 * Passage corpora in JSONL (`{id, title, text}` a line), parsed as untrusted input: a bad line is
 * skipped and reported with its line number, never silently dropped, and sizes are bounded.
 */
import { z } from 'zod';
import type { Document } from './memory-retriever.ts';

export const MAX_LINE_CHARS = 100_000;

/** Bounds on a passage's title and text, shared by the app's loader and the index builder. */
export const PassageTitle = z.string().max(1_000);
export const PassageText = z.string().min(1).max(50_000);

const PassageLine = z.object({
  id: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(200)),
  title: PassageTitle,
  text: PassageText,
});

/** One JSONL line as a JSON value, or the reason it is not one (too long, not JSON). */
export function parseJsonLine(line: string, maxChars = MAX_LINE_CHARS): { value: unknown } | { error: string } {
  if (line.length > maxChars) return { error: `line longer than ${maxChars} characters` };
  try {
    return { value: JSON.parse(line) };
  } catch {
    return { error: 'not valid JSON' };
  }
}

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
  const json = parseJsonLine(line);
  if ('error' in json) return json.error;
  const parsed = PassageLine.safeParse(json.value);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
}
