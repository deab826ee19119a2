/**
 * The confidence probe: a small MLP (standardised features → tanh hidden layer → sigmoid) that predicts
 * whether the model's self-answer to a question will be right (String-F1 ≥ a threshold). It is trained
 * where it runs, in the browser, on a calibration set.
 *
 * Training uses TensorFlow.js (tfjs-core with its pure-JS CPU backend: autodiff and Adam, no wasm to
 * serve), loaded on first training only, so a page that merely applies a stored probe never downloads it.
 * The trained probe is plain JSON (a few dozen numbers), and applying it is a forward pass in plain
 * TypeScript: the adaptive policy needs no TensorFlow at all.
 */
import { z } from 'zod';
import type { LlmEngine } from '../agent/engine.ts';
import type { ConfidenceFn } from '../agent/policy.ts';
import { FEATURE_NAMES, featureVector, MissingLogprobsError, probeFeatures, type ProbeFeatures } from './probe-features.ts';

export interface ProbeExample {
  features: ProbeFeatures;
  /** Whether the self-answer was right: String-F1 ≥ the label threshold. */
  label: boolean;
}

export const DEFAULT_LABEL_THRESHOLD = 0.5;

export function labelOf(selfF1: number, threshold = DEFAULT_LABEL_THRESHOLD): boolean {
  return selfF1 >= threshold;
}

const Finite = z.number();
const ProbeJson = z
  .object({
    kind: z.literal('sdg-confidence-probe'),
    version: z.literal(1),
    features: z.array(z.string()),
    featureOptions: z.object({ maxTokens: z.int().min(1).max(512), topLogprobs: z.int().min(1).max(20), yesNoTopLogprobs: z.int().min(1).max(20) }),
    labelThreshold: z.number().min(0).max(1),
    mean: z.array(Finite),
    std: z.array(z.number().positive()),
    w1: z.array(z.array(Finite)),
    b1: z.array(Finite),
    w2: z.array(Finite),
    b2: Finite,
    trainedOn: z.object({ examples: z.int().min(1), positives: z.int().min(0) }),
  })
  .superRefine((probe, context) => {
    const problem = shapeProblem(probe);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

export type ProbeData = z.infer<typeof ProbeJson>;

/** The MLP's weights: input → hidden (w1, b1), hidden → output (w2, b2). */
export type ProbeWeights = Pick<ProbeData, 'w1' | 'b1' | 'w2' | 'b2'>;

function shapeProblem(probe: ProbeData): string | null {
  const inputs = FEATURE_NAMES.length;
  if (probe.features.join() !== FEATURE_NAMES.join()) return `features must be ${FEATURE_NAMES.join(', ')} (this probe has ${probe.features.join(', ')})`;
  if (probe.mean.length !== inputs || probe.std.length !== inputs || probe.w1.length !== inputs) return `expected ${inputs} inputs`;
  const hidden = probe.b1.length;
  if (hidden < 1 || probe.w2.length !== hidden || probe.w1.some((row) => row.length !== hidden)) return 'the hidden layer sizes disagree';
  return null;
}

export class ConfidenceProbe {
  private constructor(readonly data: ProbeData) {}

  /** Reads a stored probe back; anything that is not a well-formed probe is refused with the reason. */
  static fromJSON(json: unknown): ConfidenceProbe {
    const parsed = ProbeJson.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`not a confidence probe: ${issue ? `${issue.path.join('.') || 'probe'}: ${issue.message}` : 'unknown shape'}`);
    }
    return new ConfidenceProbe(parsed.data);
  }

  toJSON(): ProbeData {
    return structuredClone(this.data);
  }

  /** P(the self-answer is right), 0..1. */
  predict(features: ProbeFeatures): number {
    const { mean, std, w1, b1, w2, b2 } = this.data;
    const x = featureVector(features).map((v, i) => (v - (mean[i] as number)) / (std[i] as number));
    const hidden = b1.map((bias, j) => Math.tanh(x.reduce((sum, xi, i) => sum + xi * (w1[i]?.[j] as number), bias)));
    return sigmoid(hidden.reduce((sum, h, j) => sum + h * (w2[j] as number), b2));
  }

  /**
   * The adaptive policy's confidence: a self-answer attempt with `engine`, scored by this probe. A
   * question the engine returned no log-probabilities for scores NaN, which `adaptive()` treats as no
   * confidence: it is searched. An engine without log-probabilities at all is an error.
   */
  confidenceFn(engine: LlmEngine): ConfidenceFn {
    return async (question, signal) => {
      try {
        const { features } = await probeFeatures(engine, question, { ...this.data.featureOptions, ...(signal && { signal }) });
        return this.predict(features);
      } catch (error) {
        if (error instanceof MissingLogprobsError) return NaN;
        throw error;
      }
    };
  }
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
