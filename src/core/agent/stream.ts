/**
 * Bridges a callback-style producer into an async generator: items the callback emits while `start`'s
 * promise runs are yielded as they come, then the promise's value is returned (or its error thrown).
 * Engines stream through callbacks (they cross worker boundaries), the agent speaks in iterators.
 */
export async function* streamWhile<T, R>(start: (emit: (item: T) => void) => Promise<R>): AsyncGenerator<T, R> {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  const task = start((item) => {
    queue.push(item);
    notify();
  });
  // Settlement only wakes the loop; the value or error is taken from `task` below.
  task.then(
    () => ((done = true), notify()),
    () => ((done = true), notify()),
  );
  for (;;) {
    const batch = queue.splice(0);
    for (const item of batch) yield item;
    if (done && queue.length === 0) break;
    if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  }
  return await task;
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts, so a retriever or engine that ignores
 * its signal cannot hang a run past a cancel or a deadline.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The abandoned call may still reject (a cancelled engine does): that is expected, not unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
