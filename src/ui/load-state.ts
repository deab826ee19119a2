/** What a load (the model, an index) shows the user while it runs and once it has ended. */
import type { LoadProgress } from '../core/util/load-progress.ts';

export type LoadState =
  | { status: 'idle' }
  | { status: 'loading'; progress: LoadProgress; etaSeconds?: number }
  | { status: 'ready'; label: string; fromCache?: boolean }
  | { status: 'error'; message: string };
