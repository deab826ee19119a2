/**
 * Benchmark runs kept in IndexedDB, each saved after every finished question: a reload (or a crash)
 * loses at most the question that was running, and the run resumes from there. The form's choices
 * (how many questions, which policy) are kept in localStorage, so a reload keeps them too. A run names
 * what it searched: the local index in its retrieval mode, or a retrieval server by its endpoint.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import type { QuestionResult } from '../core/eval/benchmark.ts';
import type { BenchQuestion } from '../core/eval/datasets.ts';
import { FIXED_POLICY_NAMES, type FixedPolicyName } from '../core/agent/policy.ts';
import type { RetrievalMode } from '../core/agent/retriever.ts';
import { parseRunSettings, type RunSettings } from '../core/agent/run-settings.ts';
import { parseFields } from '../core/util/parse-fields.ts';
import { checkHttpUrl } from '../core/util/http-url.ts';

/**
 * The user's run settings when the run started, kept with it: a resumed run uses them again. A run on a
 * retrieval server keeps its `/retrieve` endpoint: the server ranked, so `retrievalMode` did not apply.
 */
export type BenchSettings = RunSettings & { dataset: string; policy: FixedPolicyName; retrievalServer?: string };

/** What runs stored before the run settings were kept have instead: the rest were the defaults. */
interface LegacySettings {
  retrieval?: RetrievalMode;
  /** Share of searches that failed, 0..1. */
  noise?: number;
}

export interface StoredRun {
  id: string;
  createdAt: number;
  /** The engine and model that ran it, as the engine labels itself. */
  engine: string;
  settings: BenchSettings;
  questions: BenchQuestion[];
  results: QuestionResult[];
  status: 'paused' | 'done';
}

interface BenchDb extends DBSchema {
  runs: { key: string; value: StoredRun };
}

let db: Promise<IDBPDatabase<BenchDb>> | null = null;

function open(): Promise<IDBPDatabase<BenchDb>> {
  db ??= openDB<BenchDb>('sdg-bench', 1, { upgrade: (database) => void database.createObjectStore('runs', { keyPath: 'id' }) });
  return db;
}

const RetrievalServer = z.string().max(4_000).refine((url) => checkHttpUrl(url).ok);

/**
 * Stored settings are untrusted (an older version, a hand edit): a bad field falls back to its default.
 * Runs stored before servers were named searched the local index.
 */
export function readBenchSettings(stored: Pick<BenchSettings, 'dataset' | 'policy' | 'retrievalServer'> & Partial<RunSettings> & LegacySettings): BenchSettings {
  const { dataset, policy, retrieval, noise, retrievalServer, ...run } = stored;
  const legacy = retrieval === undefined ? {} : { retrievalMode: retrieval, noiseKind: 'fail', noisePercent: Math.round((noise ?? 0) * 100) };
  const server = RetrievalServer.safeParse(retrievalServer);
  return { dataset, policy, ...parseRunSettings({ ...legacy, ...run }), ...(server.success && { retrievalServer: server.data }) };
}

/** What a run searched, as its row and the chart name it: the server's endpoint, or the index's mode. */
export function retrievalOf(settings: Pick<BenchSettings, 'retrievalMode' | 'retrievalServer'>): string {
  return settings.retrievalServer ?? settings.retrievalMode;
}

/** Export files are named for the run: its policy, what it searched (a server by host and port), when. */
export function exportStem(run: Pick<StoredRun, 'settings' | 'createdAt'>): string {
  const { policy, retrievalMode, retrievalServer } = run.settings;
  const searched = retrievalServer ? `server-${new URL(retrievalServer).host.replace(/[^\w.-]+/g, '-')}` : retrievalMode;
  return `sdg-${policy}-${searched}-${new Date(run.createdAt).toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
}

/**
 * Why a stored run cannot resume on what runs search now (`server`: the connected server's endpoint, or
 * null for the local index): its other questions must search what its first ones did. Null when it can.
 */
export function resumeProblem(settings: Pick<BenchSettings, 'retrievalServer'>, server: string | null): string | null {
  const searched = settings.retrievalServer ?? null;
  if (searched === server) return null;
  return searched ? `this run searched the retrieval server at ${searched}: connect to it under Index to resume it` : 'this run searched the local index: open it under Index to resume it';
}

export async function listRuns(): Promise<StoredRun[]> {
  const runs = await (await open()).getAll('runs');
  return runs.map((run) => ({ ...run, settings: readBenchSettings(run.settings) })).sort((a, b) => a.createdAt - b.createdAt);
}

/** Stored as plain data: Svelte state proxies cannot be structured-cloned. */
export async function saveRun(run: StoredRun): Promise<void> {
  await (await open()).put('runs', JSON.parse(JSON.stringify(run)) as StoredRun);
}

export async function deleteRun(id: string): Promise<void> {
  await (await open()).delete('runs', id);
}

/** What the benchmark form asks for next; a dataset with fewer questions runs them all. */
export interface BenchForm {
  count: number;
  policy: FixedPolicyName;
}

export const DEFAULT_BENCH_FORM: BenchForm = { count: 20, policy: 'always-search' };

const FORM_KEY = 'sdg.bench-form.v1';

const formFields: { [K in keyof BenchForm]: z.ZodType<BenchForm[K]> } = {
  count: z.number().int().min(1).max(1_000_000),
  policy: z.enum(FIXED_POLICY_NAMES),
};

/** What was stored is untrusted (an old version, a hand edit): a bad field falls back to its default. */
export function readBenchForm(storage: Pick<Storage, 'getItem'> = localStorage): BenchForm {
  try {
    const stored = storage.getItem(FORM_KEY);
    return parseFields(formFields, DEFAULT_BENCH_FORM, stored === null ? null : JSON.parse(stored));
  } catch {
    return DEFAULT_BENCH_FORM;
  }
}

/** A browser that refuses storage keeps the form for the visit: not worth an error on the page. */
export function saveBenchForm(form: BenchForm, storage: Pick<Storage, 'setItem'> = localStorage): void {
  try {
    storage.setItem(FORM_KEY, JSON.stringify(form));
  } catch {
    // Kept in the page until it is closed.
  }
}
