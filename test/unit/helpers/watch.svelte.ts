/**
 * Runs `read` in an effect, as a page's template or `$derived` would, and records each new value it sees:
 * a value that changes without a new entry here would not change on the page either.
 */
import { flushSync } from 'svelte';

export interface Watch<T> {
  /** The values `read` gave, the first one included, each one that differs from the one before; pending changes are flushed first. */
  seen(): T[];
  stop(): void;
}

export function watch<T>(read: () => T): Watch<T> {
  const values: T[] = [];
  const stop = $effect.root(() => {
    $effect(() => {
      const value = read();
      if (values.length === 0 || !Object.is(values.at(-1), value)) values.push(value);
    });
  });
  flushSync();
  return {
    seen: () => {
      flushSync();
      return [...values];
    },
    stop,
  };
}
