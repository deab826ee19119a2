/**
 * The one interface every language-model engine implements (WebLLM, wllama, OpenAI-compatible HTTP).
 * The agent core only sees this; engines live in src/engines/ and are never imported by the core.
 */

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  /** Alternatives at this position, most likely first, when the engine reports them. */
  top?: { token: string; logprob: number }[];
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /** Generation stops before any of these strings; the stop string itself is not part of `text`. */
  stop?: string[];
  maxTokens: number;
  temperature?: number;
  /** A GBNF grammar the output must follow, honoured when `capabilities.grammar` is true. */
  grammar?: string;
  /** Ask for per-token log-probabilities (and `topLogprobs` alternatives) when supported. */
  logprobs?: boolean;
  topLogprobs?: number;
  /**
   * Qwen3's native thinking mode. `false` makes the chat template close an empty think block so the
   * model answers directly; the agent writes its own `<think>` blocks as part of the trace either way.
   */
  thinking?: boolean;
  signal?: AbortSignal;
  /** Called with each new piece of text as it streams. */
  onText?: (delta: string) => void;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  logprobs?: TokenLogprob[];
  /** Wall time split: what the engine reported, or (chat-stream.ts) the whole call as decoding. */
  timings: { prefillMs: number; decodeMs: number };
}

export interface EngineCapabilities {
  grammar: boolean;
  logprobs: boolean;
}

export interface LlmEngine {
  /** Human-readable engine + model, e.g. "wllama · Qwen3-0.6B-Q4_K_M.gguf". */
  readonly label: string;
  readonly capabilities: EngineCapabilities;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  unload(): Promise<void>;
}

/** Thrown by engines for failures a user should read (bad URL, no WebGPU, load failure). */
export class EngineError extends Error {
  override name = 'EngineError';
  /** The engine is unusable after this (GPU device lost, wasm aborted, hung): it must be loaded again. */
  readonly fatal: boolean;

  constructor(message: string, options: { fatal?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.fatal = options.fatal ?? false;
  }
}
