/**
 * npm run dev: Vite at once, and the demo's vectors embedded beside it. predev has built what the first
 * question needs (the lexical index and the passage texts, seconds); the vectors take minutes on two
 * cores, so they come after, at a lower priority than the page and its model. Vite's end stops the
 * embedding; its resume cache makes the next run carry on where this one stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function node(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

const embedding = node(['--import', 'tsx', resolve(root, 'index-builder/cli.ts'), '--demo', '--low-priority']);
embedding.on('exit', (code) => {
  if (code) console.warn(`index-builder: the background embedding stopped (exit code ${code}); lexical search works, dense search waits for the next npm run dev`);
});
const vite = node([resolve(root, 'node_modules/vite/bin/vite.js'), ...process.argv.slice(2)]);
vite.on('exit', (code) => {
  if (running(embedding)) embedding.kill('SIGINT');
  process.exitCode = code ?? 0;
});
// Ctrl-C reaches both children through the terminal; this process only waits for them.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {
  vite.kill('SIGTERM');
  if (running(embedding)) embedding.kill('SIGINT');
});
