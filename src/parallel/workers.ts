import { availableParallelism } from 'node:os';
import { ExportError } from '../errors.js';

/** The default never goes past this many threads, however many cores the machine has. */
export const DEFAULT_WORKERS_CAP = 16;
/** The most threads an export may be given explicitly. */
export const MAX_WORKERS = 64;

/**
 * Threads that encode one export by default: the machine's available parallelism (cgroup and
 * affinity limits included, as Node reports them), at most DEFAULT_WORKERS_CAP.
 */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), DEFAULT_WORKERS_CAP));
}

/** `workers` as given (an integer 1..MAX_WORKERS), or an INVALID_OPTION error. */
export function checkWorkers(value: unknown, format?: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WORKERS) return value;
  throw new ExportError('INVALID_OPTION', `workers must be an integer from 1 to ${MAX_WORKERS}, got ${String(value)}`, format ? { format } : {});
}
