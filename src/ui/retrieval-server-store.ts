/**
 * The index form's retrieval-server choice, kept in localStorage like the engine form: whether runs
 * search a server instead of a local index, and its URL, which the page's connect policy allows at
 * start-up (src/ui/page-policy.ts). What is read back is untrusted and parsed field by field.
 */
import { z } from 'zod';
import { parseFields } from '../core/util/parse-fields.ts';

const KEY = 'sdg.retrieval-server.v1';

export interface RetrievalServerChoice {
  use: boolean;
  url: string;
}

/** Where Search-R1's retrieval_server.py listens by default. */
export const DEFAULT_RETRIEVAL_SERVER: RetrievalServerChoice = { use: false, url: 'http://127.0.0.1:8000' };

const fields = { use: z.boolean(), url: z.string().max(4_000) };

export function readRetrievalServer(): RetrievalServerChoice {
  try {
    const stored = localStorage.getItem(KEY);
    return parseFields(fields, DEFAULT_RETRIEVAL_SERVER, stored === null ? null : JSON.parse(stored));
  } catch {
    return { ...DEFAULT_RETRIEVAL_SERVER };
  }
}

/** A browser that refuses storage keeps the choice for the visit only. */
export function saveRetrievalServer(choice: RetrievalServerChoice): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(parseFields(fields, DEFAULT_RETRIEVAL_SERVER, choice)));
  } catch {
    // Storage full or disabled: the form still works, it just forgets on reload.
  }
}
