/**
 * Default model locations, in a module of their own so the UI can show them without pulling an engine
 * into the main bundle. Every one can be overridden, e.g. with self-hosted files.
 */

/** Qwen's own Q8_0 build of Qwen3-0.6B (about 640 MB); any GGUF URL can replace it. */
export const DEFAULT_WLLAMA_MODEL_URL = 'https://huggingface.co/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf';
