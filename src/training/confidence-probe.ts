/**
 * Training the confidence probe (src/core/probe/probe-model.ts) in the page: TensorFlow.js (tfjs-core with
 * its pure-JS CPU backend: autodiff and Adam, no wasm to serve), loaded on first training only, so a page
 * that merely applies a stored probe never downloads it. Outside core, which imports no TensorFlow.js.
 */
import { seededRandom } from '../core/agent/noise.ts';
import { DEFAULT_PROBE_FEATURE_OPTIONS, FEATURE_NAMES, featureVector, type ProbeFeatureOptions } from '../core/probe/probe-features.ts';
import { ConfidenceProbe, DEFAULT_LABEL_THRESHOLD, type ProbeExample, type ProbeWeights } from '../core/probe/probe-model.ts';

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

/** Trains a probe on labelled examples; the same examples and options give the same probe. */
export async function trainConfidenceProbe(examples: readonly ProbeExample[], options: Partial<TrainOptions> & { labelThreshold?: number; featureOptions?: ProbeFeatureOptions } = {}): Promise<ConfidenceProbe> {
  if (examples.length === 0) throw new RangeError('the probe needs at least one labelled example');
  const settings = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const rows = examples.map((e) => featureVector(e.features));
  const { mean, std } = standardisation(rows);
  const inputs = rows.map((row) => row.map((x, i) => (x - (mean[i] as number)) / (std[i] as number)));
  const weights = await fitMlp(inputs, examples.map((e) => (e.label ? 1 : 0)), settings);
  return ConfidenceProbe.fromJSON({
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


/**
 * Each example's confidence from a probe that never saw it (k-fold, folds drawn with the seed): the
 * honest input for calibration charts, where scores on the training set would flatter the probe.
 */
export async function crossValidatedConfidences(examples: readonly ProbeExample[], options: Partial<TrainOptions> & { folds?: number } = {}): Promise<number[]> {
  const folds = Math.min(options.folds ?? 5, examples.length);
  if (folds < 2) {
    // One example: there is nothing to hold out, so it is scored by the probe trained on it.
    const probe = await trainConfidenceProbe(examples, options);
    return examples.map((e) => probe.predict(e.features));
  }
  const fold = shuffledFolds(examples.length, folds, options.seed ?? DEFAULT_TRAIN_OPTIONS.seed);
  const confidences = new Array<number>(examples.length).fill(NaN);
  for (let k = 0; k < folds; k++) {
    const probe = await trainConfidenceProbe(examples.filter((_, i) => fold[i] !== k), options);
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
  return { confidences, probe: await trainConfidenceProbe(examples, { labelThreshold }) };
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


/** Glorot-uniform weights from the seeded generator, zero biases. */
function initialProbeWeights(inputs: number, hidden: number, seed: number): ProbeWeights {
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
async function fitMlp(inputs: number[][], labels: number[], options: TrainOptions): Promise<ProbeWeights> {
  const tf = await loadTf();
  options.signal?.throwIfAborted();
  const previous = tf.getBackend() as string | undefined;
  // The CPU backend is deterministic and needs no wasm; a backend in use before is put back after.
  if (previous !== 'cpu') await tf.setBackend('cpu');
  const init = initialProbeWeights(FEATURE_NAMES.length, options.hidden, options.seed);
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
