/**
 * What a user sets for a run (top-k, turns, retrieval mode, reason-in-document, noise, grammar), with
 * its bounds. Stored settings are untrusted (an old version, a hand edit): they are parsed, and every
 * field that does not fit falls back to its default on its own, so one bad value loses nothing else.
 */
import { z } from 'zod';
import { DEFAULT_AGENT_OPTIONS, type AgentConfig } from './agent.ts';
import type { Policy } from './policy.ts';
import { NOISE_KINDS, noisyRetriever, type NoiseKind } from './noise.ts';
import { parseFields } from '../util/parse-fields.ts';
import { RETRIEVAL_MODES, type RetrievalMode, type Retriever } from './retriever.ts';

export const RUN_SETTINGS_BOUNDS = { topK: { min: 1, max: 10 }, maxTurns: { min: 1, max: 12 }, noisePercent: { min: 0, max: 100 } } as const;

const DEFAULTS = {
  topK: DEFAULT_AGENT_OPTIONS.topK,
  maxTurns: DEFAULT_AGENT_OPTIONS.maxTurns,
  /** Lexical: on the demo index (USE-lite vectors) BM25 finds the gold paragraphs most often. */
  retrievalMode: 'lexical' as RetrievalMode,
  reasonInDocument: DEFAULT_AGENT_OPTIONS.reasonInDocument,
  noiseKind: 'fail' as NoiseKind,
  noisePercent: 0,
  grammar: DEFAULT_AGENT_OPTIONS.grammar,
};

const int = (bounds: { min: number; max: number }) => z.number().int().min(bounds.min).max(bounds.max);

const fields = {
  topK: int(RUN_SETTINGS_BOUNDS.topK),
  maxTurns: int(RUN_SETTINGS_BOUNDS.maxTurns),
  retrievalMode: z.enum(RETRIEVAL_MODES),
  reasonInDocument: z.boolean(),
  noiseKind: z.enum(NOISE_KINDS),
  noisePercent: int(RUN_SETTINGS_BOUNDS.noisePercent),
  grammar: z.boolean(),
};

export type RunSettings = { [K in keyof typeof fields]: z.infer<(typeof fields)[K]> };

export const DEFAULT_RUN_SETTINGS: RunSettings = DEFAULTS;

export function parseRunSettings(raw: unknown): RunSettings {
  return parseFields(fields, DEFAULTS, raw);
}

export function agentConfig(settings: RunSettings, policy: Policy, signal?: AbortSignal): AgentConfig {
  return {
    policy,
    topK: settings.topK,
    maxTurns: settings.maxTurns,
    reasonInDocument: settings.reasonInDocument,
    grammar: settings.grammar,
    ...(signal && { signal }),
  };
}

/** The retriever a run sees: the index itself, or with the chosen share of searches spoiled. */
export function runRetriever(retriever: Retriever, settings: RunSettings, seed?: number): Retriever {
  return settings.noisePercent > 0 ? noisyRetriever(retriever, settings.noiseKind, settings.noisePercent / 100, seed) : retriever;
}
