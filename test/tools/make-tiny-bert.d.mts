/** Types for make-tiny-bert.mjs (plain ESM so Node 20 runs it without a TypeScript loader). */

/** `.cache/tiny-bert/` in the project (git-ignored), its files written or refreshed first; ends in `/`. */
export function ensureTinyBert(): string;
