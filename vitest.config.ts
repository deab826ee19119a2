import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // Generous limits: a guard against hangs, not a speed check (CI has two slow cores; several tests
      // embed with the real USE-lite or spawn the index builder).
      {
        // The page's controllers (`*.svelte.ts`) are tested here with their runes live: compiled for the
        // client, not the server (whose `$state` does not react), and with `svelte` itself resolved to its
        // client runtime (Node would get the server one, whose `flushSync` does nothing). Only those files
        // import svelte; the other unit tests are unaffected.
        plugins: [svelte({ configFile: false, dynamicCompileOptions: () => ({ generate: 'client' }) })],
        resolve: { alias: [{ find: /^svelte$/, replacement: fileURLToPath(new URL('node_modules/svelte/src/index-client.js', import.meta.url)) }] },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 120_000 },
      },
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
      // A real WebLLM runtime on SwiftShader: minutes a request, so on its own (npm run test:webllm).
      { test: { name: 'webllm', include: ['test/webllm/**/*.test.ts'], environment: 'node', testTimeout: 900_000, hookTimeout: 900_000, fileParallelism: false } },
    ],
  },
});
