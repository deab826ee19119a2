/**
 * GBNF grammars that force the trace syntax on engines that support constrained decoding. The allowed
 * action depends on the run's state, so an always-search run cannot even express an answer before it
 * has searched. Lengths are bounded in characters so a constrained model always reaches a close tag.
 */

export type AllowedActions = 'search' | 'answer' | 'search-or-answer';

const RULES = `think ::= "<think>" [^<]{0,600} "</think>" ws
search ::= "<search>" [^<\\n]{1,150} "</search>"
answer ::= "<answer>" [^<\\n]{1,200} "</answer>"
ws ::= [ \\n]{0,2}`;

const ROOTS: Record<AllowedActions, string> = {
  search: 'root ::= think? search',
  answer: 'root ::= think? answer',
  'search-or-answer': 'root ::= think? (search | answer)',
};

export function traceGrammar(allowed: AllowedActions): string {
  return `${ROOTS[allowed]}\n${RULES}\n`;
}
