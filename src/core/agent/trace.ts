/**
 * The trace protocol and its parser.
 *
 * A model writes `<think>…</think>`, then one action: `<search>query</search>` or `<answer>…</answer>`.
 * `<information>…</information>` is written by the system only; when a model writes it, the parser reports
 * it as a block of its own so the agent can discard it. Model text is untrusted: the parser never throws.
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

const TAG_PATTERN = /<(\/?)(think|search|answer|information)>/gi;

/**
 * Cuts model text into blocks, in one pass (the agent parses each turn's whole reply; the page shows the
 * stream as it comes). A close tag for a block that is not open is noise and is dropped rather than let
 * it end something else; opening any tag ends the current block, as models often forget `</think>`
 * before acting. Never throws; linear in the text.
 */
export function parseTrace(text: string): TraceBlock[] {
  const out: TraceBlock[] = [];
  let open: TraceTag | null = null;
  let content = '';
  let consumed = 0;
  const flush = (closed: boolean, end: number) => {
    if (open) out.push({ type: open, text: content.trim(), closed, end });
    else if (content.trim() !== '') out.push({ type: 'text', text: content.trim(), end });
    open = null;
    content = '';
  };
  for (const match of text.matchAll(TAG_PATTERN)) {
    const tag = (match[2] ?? '').toLowerCase() as TraceTag;
    const tagEnd = match.index + match[0].length;
    content += text.slice(consumed, match.index);
    consumed = tagEnd;
    if (match[1] !== '/') {
      flush(false, match.index);
      open = tag;
    } else if (open === tag) flush(true, tagEnd);
  }
  content += text.slice(consumed);
  flush(false, text.length);
  return out;
}
