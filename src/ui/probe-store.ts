/**
 * The probe's calibration kept in IndexedDB, saved after every finished question: a reload keeps the
 * rows, the trained probe and the threshold, and an interrupted calibration resumes.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Calibration } from '../core/probe/probe-calibration.ts';

interface ProbeDb extends DBSchema {
  calibration: { key: string; value: Calibration };
}

/** One calibration at a time: a new one replaces it. */
const KEY = 'current';
let db: Promise<IDBPDatabase<ProbeDb>> | null = null;

function open(): Promise<IDBPDatabase<ProbeDb>> {
  db ??= openDB<ProbeDb>('sdg-probe', 1, { upgrade: (database) => void database.createObjectStore('calibration') });
  return db;
}

export async function readCalibration(): Promise<Calibration | null> {
  return (await (await open()).get('calibration', KEY)) ?? null;
}

/** Stored as plain data: Svelte state proxies cannot be structured-cloned. */
export async function saveCalibration(calibration: Calibration): Promise<void> {
  await (await open()).put('calibration', JSON.parse(JSON.stringify(calibration)) as Calibration, KEY);
}

export async function deleteCalibration(): Promise<void> {
  await (await open()).delete('calibration', KEY);
}
