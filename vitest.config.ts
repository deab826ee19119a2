import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // Generous limits: a guard against hangs, not a speed check (CI has two slow cores; several tests
      // embed with the real USE-lite or spawn the index builder).
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 120_000 } },
      // The benchmarks' smoke runs build the app and drive Chromium: not unit tests, and run on their own.
      { test: { name: 'bench', include: ['test/bench/**/*.test.ts'], environment: 'node', testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One Chromium at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
