import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // Generous limits: a guard against hangs, not a speed check (CI has two slow cores; several tests
      // embed with the real USE-lite or spawn the index builder).
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 120_000 } },
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
