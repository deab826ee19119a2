/**
 * Retrieved passages and user questions are untrusted text that we paste into the model's prompt.
 * A passage holding `</information><answer>x</answer>` must not end a run, and one holding a chat-template
 * marker such as `<|im_start|>` must not open a fake turn (several engines tokenize special tokens inside
 * message content). We neutralise exactly those sequences by swapping their ASCII angle brackets for
 * look-alike guillemets, which keeps the text readable for the model while no tag survives.
 */

const TRACE_TAG_LIKE = /<\s*\/?\s*(think|search|answer|information)\b[^<>]*>/gi;
const SPECIAL_TOKEN_LIKE = /<\||\|>/g;

function defang(tag: string): string {
  return tag.replace(/</g, '‹').replace(/>/g, '›');
}

export function neutralizeUntrusted(text: string): string {
  return text.replace(TRACE_TAG_LIKE, defang).replace(SPECIAL_TOKEN_LIKE, defang);
}
