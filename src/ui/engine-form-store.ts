/**
 * The engine form's choices (engine, model URLs, server), kept in localStorage so a reload keeps them, and
 * so the page's connect policy (src/ui/page-policy.ts) can allow the hosts they name. The API key is never
 * stored. What is read back is untrusted (an old version, a hand edit): each field is parsed alone and a
 * bad one falls back to its default.
 */
import { z } from 'zod';
import { parseFields } from '../core/util/parse-fields.ts';
import { DEFAULT_WLLAMA_MODEL_URL } from '../engines/defaults.ts';
import type { EngineSettings } from '../engines/load.ts';

const KEY = 'sdg.engine-form.v1';
/** The settings of the model loaded last, which the page loads again on return when the browser stores it. */
const LAST_MODEL_KEY = 'sdg.last-model.v1';

export const ENGINE_KINDS = ['webllm', 'wllama', 'openai'] as const;

export interface EngineFormValues {
  /** Null until the user picks an engine: until then the page picks the one the browser supports. */
  kind: (typeof ENGINE_KINDS)[number] | null;
  webllmModel: string;
  customId: string;
  customModelUrl: string;
  customLibUrl: string;
  weightsBaseUrl: string;
  ggufUrl: string;
  baseUrl: string;
  openaiModel: string;
}

export const DEFAULT_ENGINE_FORM: EngineFormValues = {
  kind: null,
  webllmModel: 'Qwen3-0.6B',
  customId: '',
  customModelUrl: '',
  customLibUrl: '',
  weightsBaseUrl: '',
  ggufUrl: DEFAULT_WLLAMA_MODEL_URL,
  baseUrl: 'http://127.0.0.1:8080/v1',
  openaiModel: 'qwen3',
};

/** Long enough for any signed URL, short enough that a hand edit cannot fill the page. */
const text = z.string().max(4_000);

const fields: { [K in keyof EngineFormValues]: z.ZodType<EngineFormValues[K]> } = {
  kind: z.enum(ENGINE_KINDS).nullable(),
  webllmModel: text,
  customId: text,
  customModelUrl: text,
  customLibUrl: text,
  weightsBaseUrl: text,
  ggufUrl: text,
  baseUrl: text,
  openaiModel: text,
};

export function parseEngineForm(raw: unknown): EngineFormValues {
  return parseFields(fields, DEFAULT_ENGINE_FORM, raw);
}

/** The stored choices, or the defaults when there are none or storage is off. */
export function readEngineForm(): EngineFormValues {
  try {
    const stored = localStorage.getItem(KEY);
    return parseEngineForm(stored === null ? null : JSON.parse(stored));
  } catch {
    return { ...DEFAULT_ENGINE_FORM };
  }
}

/** Stores the choices; a browser that refuses storage keeps them for the visit only. */
export function saveEngineForm(values: EngineFormValues): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(parseEngineForm(values)));
  } catch {
    // Storage full or disabled: the form still works, it just forgets on reload.
  }
}

/** Every URL the choices name (all engines', not just the selected one's): the hosts the user configured. */
export function configuredUrls(values: EngineFormValues): string[] {
  return [values.ggufUrl, values.customModelUrl, values.customLibUrl, values.weightsBaseUrl, values.baseUrl].filter((url) => url.trim() !== '');
}

const lastModel = z.union([
  z.object({ kind: z.literal('wllama'), modelUrl: text }),
  z.object({
    kind: z.literal('webllm'),
    model: text,
    custom: z.object({ id: text, modelUrl: text, modelLibUrl: text }).optional(),
    weightsBaseUrl: text.optional(),
  }),
]);

/** The settings of a model the page may load by itself: never a server's. */
export type LastModel = z.infer<typeof lastModel>;

/** The model loaded last, or null: none, a server (its API key is never stored), or storage off. */
export function readLastModel(): LastModel | null {
  try {
    const parsed = lastModel.safeParse(JSON.parse(localStorage.getItem(LAST_MODEL_KEY) ?? 'null'));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Remembers the loaded model; a server, or none (unloaded), forgets it. */
export function saveLastModel(settings: EngineSettings | null): void {
  const parsed = lastModel.safeParse(settings);
  try {
    if (parsed.success) localStorage.setItem(LAST_MODEL_KEY, JSON.stringify(parsed.data));
    else localStorage.removeItem(LAST_MODEL_KEY);
  } catch {
    // Storage off: the page just does not load the model by itself next time.
  }
}
