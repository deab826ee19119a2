/**
 * Search policies. A policy decides, before the first step, whether a run searches or answers from the
 * model's own knowledge:
 * - always-search: every run searches; the agent refuses an answer that has no search before it.
 * - adaptive: a confidence function scores the question; at or above the threshold the model self-answers.
 * - no-search: the baseline that always answers from memory.
 */

export type PolicyName = 'always-search' | 'adaptive' | 'no-search';

/** How likely (0..1) the model can answer this question from its own knowledge. */
export type ConfidenceFn = (question: string, signal?: AbortSignal) => Promise<number>;

export type Plan =
  | { mode: 'search' | 'self-answer'; policy: 'always-search' | 'no-search' }
  | { mode: 'search' | 'self-answer'; policy: 'adaptive'; confidence: number; threshold: number };

export interface Policy {
  readonly name: PolicyName;
  plan(question: string, signal?: AbortSignal): Promise<Plan>;
}

export const alwaysSearch: Policy = {
  name: 'always-search',
  plan: async () => ({ mode: 'search', policy: 'always-search' }),
};

export const noSearch: Policy = {
  name: 'no-search',
  plan: async () => ({ mode: 'self-answer', policy: 'no-search' }),
};

/** The policies that need no probe: the ones a stored benchmark run or `npm run eval --policy` names. */
export const FIXED_POLICY_NAMES = ['always-search', 'no-search'] as const;
export type FixedPolicyName = (typeof FIXED_POLICY_NAMES)[number];

export function policyByName(name: FixedPolicyName): Policy {
  return name === 'always-search' ? alwaysSearch : noSearch;
}

export function adaptive(confidence: ConfidenceFn, threshold: number): Policy {
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must be within [0, 1], got ${threshold}`);
  return {
    name: 'adaptive',
    async plan(question, signal) {
      const raw = await confidence(question, signal);
      // A broken probe must not silently switch searching off: NaN counts as no confidence.
      const score = Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0;
      return { mode: score >= threshold ? 'self-answer' : 'search', policy: 'adaptive', confidence: score, threshold };
    },
  };
}
