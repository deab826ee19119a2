/**
 * WebLLM's load progress as one bar. WebLLM reports each phase of a load from 0 to 1 on its own: the
 * weights' download ("Fetching param cache[…]"), their copy to the GPU ("Loading model from cache[…]"),
 * the shader compilation ("Loading GPU shader modules[…]"), so a bar fed its fractions runs three times
 * and jumps back between (seen in test/webllm/webllm-engine.test.ts, on the real runtime). Here each
 * phase gets its share of one bar. The download is the long part of a first load, so it gets most of
 * it; a load from the cache never downloads, and its two phases share the bar.
 */
import type { LoadProgress, ProgressReporter } from '../core/util/load-progress.ts';

export interface WebLlmReport {
  progress: number;
  text: string;
}

type Phase = 'download' | 'copy' | 'shaders';

const PHASE_BY_PREFIX: [string, Phase][] = [
  ['Start to fetch params', 'download'],
  ['Fetching param cache', 'download'],
  ['Loading model from cache', 'copy'],
  ['Loading GPU shader modules', 'shaders'],
];

/** Where each phase starts on the bar and how much of it it fills: after a download, and without one. */
const SPANS: Record<'downloaded' | 'cached', Record<Phase, [number, number]>> = {
  downloaded: { download: [0, 0.8], copy: [0.8, 0.1], shaders: [0.9, 0.1] },
  cached: { download: [0, 0], copy: [0, 0.5], shaders: [0.5, 0.5] },
};

export function webLlmProgress(report: ProgressReporter): (p: WebLlmReport) => void {
  let downloaded = false;
  let shown = 0;
  return ({ progress, text }) => {
    const phase = PHASE_BY_PREFIX.find(([prefix]) => text.startsWith(prefix))?.[1];
    // WebLLM says "Loading model from cache[…]" when it skips the download, "Fetching param cache[…]" when not.
    if (text.startsWith('Fetching param cache')) downloaded = true;
    const within = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
    const [start, span] = phase ? SPANS[downloaded ? 'downloaded' : 'cached'][phase] : [within, 0];
    shown = Math.max(shown, start + span * within);
    const update: LoadProgress = { text, fraction: shown };
    if (phase === 'copy' && !downloaded) update.fromCache = true;
    report(update);
  };
}
