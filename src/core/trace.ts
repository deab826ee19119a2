/**
 * The trace protocol and its streaming parser.
 *
 * A model writes `<think>…</think>`, then one action: `<search>query</search>` or `<answer>…</answer>`.
 * `<information>…</information>` is written by the system only; when a model writes it, the parser reports
 * it as a block of its own so the agent can discard it. Model text is untrusted: the parser never throws,
 * keeps a bounded look-ahead buffer, and works the same whatever the chunking of the stream.
 */

export const TRACE_TAGS = ['think', 'search', 'answer', 'information'] as const;
export type TraceTag = (typeof TRACE_TAGS)[number];

export type TraceBlock =
  | { type: 'text'; text: string; end: number }
  | {
      type: TraceTag;
      text: string;
      /** false when the stream ended or another tag began before its close tag */
      closed: boolean;
      /** Offset in the whole stream just past this block (past its close tag when it has one). */
      end: number;
    };

const TAG_PATTERN = /<(\/?)(think|search|answer|information)>/i;
/** Longest tag: `</information>`. A '<' further back than this can no longer start a tag. */
const MAX_TAG_LENGTH = '</information>'.length;

function couldStartTag(tail: string): boolean {
  const lower = tail.toLowerCase();
  return TRACE_TAGS.some((tag) => `<${tag}>`.startsWith(lower) || `</${tag}>`.startsWith(lower));
}

export class TraceParser {
  private open: TraceTag | null = null;
  private content = '';
  private pending = '';
  /** Characters of the stream consumed so far, i.e. everything before `pending`. */
  private offset = 0;

  /** Feeds a chunk of model text; returns the blocks it completed. */
  push(chunk: string): TraceBlock[] {
    this.pending += chunk;
    const out: TraceBlock[] = [];
    for (;;) {
      const match = TAG_PATTERN.exec(this.pending);
      if (!match) break;
      this.content += this.pending.slice(0, match.index);
      this.pending = this.pending.slice(match.index + match[0].length);
      const tagStart = this.offset + match.index;
      this.offset = tagStart + match[0].length;
      this.onTag(match[1] === '/', (match[2] ?? '').toLowerCase() as TraceTag, tagStart, out);
    }
    this.keepPossibleTagStart();
    return out;
  }

  /** Ends the stream: flushes what is left, an unclosed block reported with `closed: false`. */
  finish(): TraceBlock[] {
    this.content += this.pending;
    this.offset += this.pending.length;
    this.pending = '';
    const out: TraceBlock[] = [];
    this.flush(out, false, this.offset);
    return out;
  }

  /** Moves text that cannot be part of a tag from the look-ahead buffer into the current block. */
  private keepPossibleTagStart(): void {
    const lt = this.pending.lastIndexOf('<');
    const keepFrom =
      lt >= 0 && this.pending.length - lt <= MAX_TAG_LENGTH && couldStartTag(this.pending.slice(lt)) ? lt : this.pending.length;
    this.content += this.pending.slice(0, keepFrom);
    this.offset += keepFrom;
    this.pending = this.pending.slice(keepFrom);
  }

  private onTag(closing: boolean, tag: TraceTag, tagStart: number, out: TraceBlock[]): void {
    if (closing) {
      // A close tag for a block that is not open is noise: drop it rather than let it end something else.
      if (this.open === tag) this.flush(out, true, this.offset);
      return;
    }
    // Opening any tag ends the current block: models often forget `</think>` before acting.
    this.flush(out, false, tagStart);
    this.open = tag;
  }

  private flush(out: TraceBlock[], closed: boolean, end: number): void {
    if (this.open) {
      out.push({ type: this.open, text: this.content.trim(), closed, end });
    } else if (this.content.trim() !== '') {
      out.push({ type: 'text', text: this.content.trim(), end });
    }
    this.open = null;
    this.content = '';
  }
}

/** Parses a whole string at once. */
export function parseTrace(text: string): TraceBlock[] {
  const parser = new TraceParser();
  return [...parser.push(text), ...parser.finish()];
}
