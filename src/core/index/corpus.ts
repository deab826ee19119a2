/**
 * Bounds on passages and JSONL lines, shared by everything that reads corpora and datasets as
 * untrusted input (the index builder, shard decoding, dataset loaders).
 */
import { z } from 'zod';

export const MAX_LINE_CHARS = 100_000;

export const PassageTitle = z.string().max(1_000);
export const PassageText = z.string().min(1).max(50_000);

/** One JSONL line as a JSON value, or the reason it is not one (too long, not JSON). */
export function parseJsonLine(line: string, maxChars = MAX_LINE_CHARS): { value: unknown } | { error: string } {
  if (line.length > maxChars) return { error: `line longer than ${maxChars} characters` };
  try {
    return { value: JSON.parse(line) };
  } catch {
    return { error: 'not valid JSON' };
  }
}
