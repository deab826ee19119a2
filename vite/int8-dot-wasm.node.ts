/** `#int8-dot-wasm` in Node (benchmarks, unit tests, the eval CLI): the kernel compiled from its WAT
 * at import, by the same function the Vite plugin uses for the app. */
import { compileWatFile } from './wasm-kernel.ts';

export default await compileWatFile(new URL('../src/retrieval/int8-dot.wat', import.meta.url));
