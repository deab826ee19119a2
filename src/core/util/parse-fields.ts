/**
 * Stored settings are untrusted (an old version, a hand edit): each field is parsed alone, and one that
 * does not fit falls back to its default without costing the others.
 */
import type { z } from 'zod';

export function parseFields<T extends object>(schemas: { [K in keyof T]: z.ZodType<T[K]> }, defaults: T, raw: unknown): T {
  const input = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const out = { ...defaults };
  for (const key of Object.keys(schemas) as (keyof T & string)[]) {
    const parsed = schemas[key].safeParse(input[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out;
}
