/**
 * Keeps a broken engine from freezing the page: a generate call that does not finish in time is aborted
 * and fails, and any failure that leaves the engine unusable (a timeout, a lost GPU device, an aborted
 * wasm module) is reported once through `onFatal`, so the page can load the model again.
 */
import { EngineError, type GenerateRequest, type GenerateResult, type LlmEngine } from './engine.ts';

export interface GuardOptions {
  /** The longest one generate call may take, streaming included. */
  callTimeoutMs: number;
  onFatal: (error: EngineError) => void;
}

/** Long enough for a 512-token step on a slow CPU, short enough that a hung GPU is noticed. */
export const DEFAULT_CALL_TIMEOUT_MS = 180_000;

export function guardEngine(engine: LlmEngine, options: GuardOptions): LlmEngine {
  let broken = false;
  const fail = (error: EngineError): never => {
    if (!broken) {
      broken = true;
      options.onFatal(error);
    }
    throw error;
  };
  return {
    label: engine.label,
    capabilities: engine.capabilities,
    unload: () => engine.unload(),
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      if (broken) throw new EngineError('the engine stopped working and is being loaded again', { fatal: true });
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(), options.callTimeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
      try {
        const result = await Promise.race([engine.generate({ ...request, signal }), aborted(timer.signal)]);
        if (timer.signal.aborted) return fail(timedOut(options.callTimeoutMs));
        return result;
      } catch (error) {
        if (timer.signal.aborted) return fail(timedOut(options.callTimeoutMs));
        if (error instanceof EngineError && error.fatal) return fail(error);
        throw error;
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}

function timedOut(ms: number): EngineError {
  return new EngineError(`the engine did not answer within ${Math.round(ms / 1000)} s; it is being loaded again`, { fatal: true });
}

/** Settles (never resolves) when the signal aborts: an engine that ignores its abort still lets go. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('timed out', 'TimeoutError')), { once: true }));
}
