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
import { seededRandom } from '../agent/noise.ts';
import type { ConfidenceFn } from '../agent/policy.ts';
import { DEFAULT_PROBE_FEATURE_OPTIONS, FEATURE_NAMES, featureVector, MissingLogprobsError, probeFeatures, type ProbeFeatureOptions, type ProbeFeatures } from './probe-features.ts';

export interface ProbeExample {
  features: ProbeFeatures;
  /** Whether the self-answer was right: String-F1 ≥ the label threshold. */
  label: boolean;
}

export const DEFAULT_LABEL_THRESHOLD = 0.5;

export function labelOf(selfF1: number, threshold = DEFAULT_LABEL_THRESHOLD): boolean {
  return selfF1 >= threshold;
}

export interface TrainOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights: calibration sets are small, and an unpenalised MLP would memorise them. */
  l2: number;
  seed: number;
  signal?: AbortSignal;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { hidden: 8, epochs: 400, learningRate: 0.03, l2: 1e-3, seed: 1 };

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

  /** Trains on labelled examples; the same examples and options give the same probe. */
  static async train(examples: readonly ProbeExample[], options: Partial<TrainOptions> & { labelThreshold?: number; featureOptions?: ProbeFeatureOptions } = {}): Promise<ConfidenceProbe> {
    if (examples.length === 0) throw new RangeError('the probe needs at least one labelled example');
    const settings = { ...DEFAULT_TRAIN_OPTIONS, ...options };
    const rows = examples.map((e) => featureVector(e.features));
    const { mean, std } = standardisation(rows);
    const inputs = rows.map((row) => row.map((x, i) => (x - (mean[i] as number)) / (std[i] as number)));
    const weights = await fitMlp(inputs, examples.map((e) => (e.label ? 1 : 0)), settings);
    return new ConfidenceProbe({
      kind: 'sdg-confidence-probe',
      version: 1,
      features: [...FEATURE_NAMES],
      featureOptions: options.featureOptions ?? DEFAULT_PROBE_FEATURE_OPTIONS,
      labelThreshold: options.labelThreshold ?? DEFAULT_LABEL_THRESHOLD,
      mean,
      std,
      ...weights,
      trainedOn: { examples: examples.length, positives: examples.filter((e) => e.label).length },
    });
  }

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

/**
 * Each example's confidence from a probe that never saw it (k-fold, folds drawn with the seed): the
 * honest input for calibration charts, where scores on the training set would flatter the probe.
 */
export async function crossValidatedConfidences(examples: readonly ProbeExample[], options: Partial<TrainOptions> & { folds?: number } = {}): Promise<number[]> {
  const folds = Math.min(options.folds ?? 5, examples.length);
  if (folds < 2) {
    // One example: there is nothing to hold out, so it is scored by the probe trained on it.
    const probe = await ConfidenceProbe.train(examples, options);
    return examples.map((e) => probe.predict(e.features));
  }
  const fold = shuffledFolds(examples.length, folds, options.seed ?? DEFAULT_TRAIN_OPTIONS.seed);
  const confidences = new Array<number>(examples.length).fill(NaN);
  for (let k = 0; k < folds; k++) {
    const probe = await ConfidenceProbe.train(examples.filter((_, i) => fold[i] !== k), options);
    examples.forEach((e, i) => {
      if (fold[i] === k) confidences[i] = probe.predict(e.features);
    });
  }
  return confidences;
}

/** Folds of the cross-validation that gives each calibration question its out-of-sample confidence. */
const CALIBRATION_FOLDS = 5;

/** The calibration's training: each example's cross-validated confidence, and the probe trained on all. */
export async function trainProbe(examples: readonly ProbeExample[], labelThreshold: number): Promise<{ confidences: number[]; probe: ConfidenceProbe }> {
  const confidences = await crossValidatedConfidences(examples, { folds: CALIBRATION_FOLDS });
  return { confidences, probe: await ConfidenceProbe.train(examples, { labelThreshold }) };
}

function shuffledFolds(n: number, folds: number, seed: number): number[] {
  const random = seededRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const fold = new Array<number>(n);
  order.forEach((example, position) => (fold[example] = position % folds));
  return fold;
}

function standardisation(rows: readonly number[][]): { mean: number[]; std: number[] } {
  const mean = FEATURE_NAMES.map((_, i) => rows.reduce((sum, r) => sum + (r[i] as number), 0) / rows.length);
  const std = FEATURE_NAMES.map((_, i) => {
    const variance = rows.reduce((sum, r) => sum + ((r[i] as number) - (mean[i] as number)) ** 2, 0) / rows.length;
    // A feature that never varied carries no information; dividing by 1 keeps it at 0 after centring.
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { mean, std };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

type Weights = Pick<ProbeData, 'w1' | 'b1' | 'w2' | 'b2'>;

/** Glorot-uniform weights from the seeded generator, zero biases. */
function initialWeights(inputs: number, hidden: number, seed: number): Weights {
  const random = seededRandom(seed);
  const uniform = (limit: number) => (2 * random() - 1) * limit;
  const limit1 = Math.sqrt(6 / (inputs + hidden));
  const limit2 = Math.sqrt(6 / (hidden + 1));
  return {
    w1: Array.from({ length: inputs }, () => Array.from({ length: hidden }, () => uniform(limit1))),
    b1: new Array<number>(hidden).fill(0),
    w2: Array.from({ length: hidden }, () => uniform(limit2)),
    b2: 0,
  };
}

type Tf = typeof import('@tensorflow/tfjs-core');
type Scalar = import('@tensorflow/tfjs-core').Scalar;

async function loadTf(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  return tf;
}

/** Full-batch Adam on the mean cross-entropy plus the L2 penalty, on tfjs's CPU backend. */
async function fitMlp(inputs: number[][], labels: number[], options: TrainOptions): Promise<Weights> {
  const tf = await loadTf();
  options.signal?.throwIfAborted();
  const previous = tf.getBackend() as string | undefined;
  // The CPU backend is deterministic and needs no wasm; a backend in use before is put back after.
  if (previous !== 'cpu') await tf.setBackend('cpu');
  const init = initialWeights(FEATURE_NAMES.length, options.hidden, options.seed);
  const x = tf.tensor2d(inputs, [inputs.length, FEATURE_NAMES.length]);
  const y = tf.tensor2d(labels, [labels.length, 1]);
  const w1 = tf.variable(tf.tensor2d(init.w1));
  const b1 = tf.variable(tf.tensor1d(init.b1));
  const w2 = tf.variable(tf.tensor2d(init.w2, [options.hidden, 1]));
  const b2 = tf.variable(tf.tensor1d([init.b2]));
  const optimizer = tf.train.adam(options.learningRate);
  const loss = () =>
    tf.tidy(() => {
      // Functional ops: tfjs-core's chained methods need a side-effect import that tree-shaking drops.
      const logits = tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2);
      const penalty = tf.mul(tf.add(tf.sum(tf.square(w1)), tf.sum(tf.square(w2))), options.l2);
      // Both terms are scalars, so their sum is one (tf.add is typed as returning any rank).
      return tf.add(tf.losses.sigmoidCrossEntropy(y, logits), penalty) as Scalar;
    });
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      optimizer.minimize(loss, false, [w1, b1, w2, b2]);
      // Let the page breathe (and a cancel land) every few dozen steps.
      if (epoch % 50 === 49) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        options.signal?.throwIfAborted();
      }
    }
    return { w1: w1.arraySync(), b1: b1.arraySync(), w2: w2.arraySync().map((row) => row[0] as number), b2: b2.arraySync()[0] as number };
  } finally {
    tf.dispose([x, y, w1, b1, w2, b2]);
    optimizer.dispose();
    if (previous && previous !== 'cpu' && tf.getBackend() === 'cpu') await tf.setBackend(previous);
  }
}
