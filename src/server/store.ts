import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Export, ExportJSON } from '../export/export.js';
import type { Exporter } from '../export/exporter.js';
import { describeCause } from '../sinks/target-error.js';
import { isStoredPartIntact } from './part-files.js';
import { parseRecord, buildRecord, restoreExport, RECORD_FILE, writeRecord, type ExportRecord, type StoredRequest } from './records.js';

/** What a restarted server says of an unfinished export it cannot run again (its table is gone). */
export const RESTART_MESSAGE = 'the server restarted before the export finished';

/** Least time between two record writes for progress alone (status changes are written at once). */
const PROGRESS_WRITE_MS = 250;

/** Export ids are UUIDs (randomUUID); only such directories under the data directory are exports. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Entry {
  exp: Export;
  dir: string;
  request: StoredRequest;
  /** Set when the export changed since the last write began. */
  dirty: boolean;
  /** The write loop, while one runs. */
  writing: Promise<void> | null;
  /** The resource as its record on disk has it: what clients are shown (null until the first write). */
  saved: ExportJSON | null;
  /** When the last write began (ms), and the timer of a progress write put off until PROGRESS_WRITE_MS after it. */
  lastWrite: number;
  progressTimer: NodeJS.Timeout | null;
  /** When the export ended (ms), for retention. */
  finishedAt: number | null;
  /** Why its record could not be written: the export is then shown failed with this (see fail). */
  failure: string | null;
  /** Set once deleted: no record is written any more. */
  deleted: boolean;
}

export interface RestoreSummary {
  /** Exports restored in the state their record gives. */
  restored: number;
  /** Exports that were queued or running: run again from the start (same id), their partial files removed. */
  resumed: number;
  /** Directories whose record could not be read, with the reason; left untouched. */
  skipped: string[];
  /** Temporary files and directories that dead processes left in the temp directory, removed (sweepTempFiles). */
  swept: string[];
}



/**
 * Every export the server knows, live or restored, and their records on disk: one directory
 * per export under the data directory holding its files and `.export.json`. Each status
 * change is written at once (atomically, see writeRecord), progress at most every
 * PROGRESS_WRITE_MS. Clients are shown an export as its record holds it, not the newer state
 * in memory: a crash then never takes back what a poller has seen, since the run that follows
 * the restart starts from the recorded progress (Exporter's progressFloor).
 */
export class ExportStore {
  private readonly entries = new Map<string, Entry>();
  private frozen = false;

  constructor(readonly dataDir: string, private readonly log: (line: string) => void, private readonly exporter?: Exporter) {}

  get(id: string): Export | undefined {
    return this.entries.get(id)?.exp;
  }

  /**
   * The Export resource as served: as its record on disk has it, so a client never sees a
   * state a crash could take back (a completion whose record is not written yet, progress the
   * run after a restart would start below).
   */
  view(id: string): ExportJSON | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.failure !== null) return { ...entry.exp.toJSON(), status: 'failed', errorMessage: entry.failure, size: null, fileCount: null };
    return entry.saved ?? entry.exp.toJSON();
  }

  /** Where an export's files and record go. Only ever called with ids this server made. */
  dirOf(id: string): string {
    if (!ID.test(id)) throw new Error(`not an export id: ${id}`);
    return join(this.dataDir, id);
  }

  /** Keeps a new export and writes its record now and on every status change. */
  track(exp: Export, request: StoredRequest): void {
    const entry = newEntry(exp, this.dirOf(exp.id), request);
    this.entries.set(exp.id, entry);
    exp.on('status', () => {
      this.clearProgressTimer(entry);
      if (exp.finished) entry.finishedAt = Date.now();
      void this.persist(entry);
    });
    exp.on('progress', () => { this.persistProgress(entry); });
    void this.persist(entry);
  }

  /**
   * Reads every record under the data directory. Completed, failed and cancelled exports are
   * served again as they were (a completed one whose files are gone or changed becomes failed).
   * Queued and running ones were cut short by a crash or a stop: every file beside their
   * record is removed and they are returned, oldest first, for the caller to run again (their
   * records stay as they are until then, so a crash during this start finds them again).
   */
  async restore(): Promise<{ summary: RestoreSummary; unfinished: ExportRecord[] }> {
    await mkdir(this.dataDir, { recursive: true });
    const summary: RestoreSummary = { restored: 0, resumed: 0, skipped: [], swept: [] };
    const unfinished: ExportRecord[] = [];
    const dirs = (await readdir(this.dataDir, { withFileTypes: true })).filter((d) => d.isDirectory() && ID.test(d.name));
    for (const { name: id } of dirs) {
      const dir = join(this.dataDir, id);
      await removeRecordTemps(dir);
      let text: string;
      try {
        text = await readFile(join(dir, RECORD_FILE), 'utf8');
      } catch {
        summary.skipped.push(`${id}: no ${RECORD_FILE}`);
        continue;
      }
      let record: ExportRecord;
      try {
        record = parseRecord(text, id);
      } catch (err) {
        summary.skipped.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (record.export.status === 'queued' || record.export.status === 'running') {
        await removeAllBut(dir, RECORD_FILE);
        unfinished.push(record);
        summary.resumed += 1;
        continue;
      }
      const lost = record.export.status === 'completed' && !(await hasAllFiles(record, dir));
      const entry = newEntry(restoreExport(lost ? markLost(record) : record, dir), dir, record.request, !lost);
      entry.finishedAt = record.finishedAt ?? Math.floor((await stat(join(dir, RECORD_FILE))).mtimeMs);
      this.entries.set(id, entry);
      summary.restored += 1;
      if (lost) await this.persist(entry);
    }
    for (const line of summary.skipped) this.log(`skipped export directory ${line}`);
    unfinished.sort((a, b) => a.export.createdAt - b.export.createdAt);
    return { summary, unfinished };
  }

  /** An unfinished export that cannot run again (its table is gone): failed, saying why. */
  async failUnfinished(record: ExportRecord, reason: string): Promise<void> {
    const dir = this.dirOf(record.export.id);
    const exp = restoreExport(record, dir);
    exp.resumeFrom(record.export.percentCompleted);
    exp.markFailed(`${RESTART_MESSAGE}, and ${reason}`, 'SOURCE_FAILED');
    const entry = newEntry(exp, dir, record.request);
    entry.finishedAt = Date.now();
    this.entries.set(exp.id, entry);
    await this.persist(entry);
  }

  /**
   * Deletes a finished export: its record and files, and the Exporter's memory of it.
   * 'unfinished' (nothing done) for an export still queued or running.
   */
  async delete(id: string): Promise<'deleted' | 'unfinished' | 'missing'> {
    const entry = this.entries.get(id);
    if (!entry || entry.deleted) return 'missing';
    if (!entry.exp.finished) return 'unfinished';
    entry.deleted = true;
    this.clearProgressTimer(entry);
    await this.written(id, entry);
    // Files first: once the export is gone from the API, nothing of it is left on disk.
    await rm(entry.dir, { recursive: true, force: true });
    this.entries.delete(id);
    this.exporter?.forget(id);
    return 'deleted';
  }

  /** Deletes every export that ended more than `retention` ms ago (serve's retention). */
  async expire(retention: number): Promise<string[]> {
    const before = Date.now() - retention;
    const old = [...this.entries.values()].filter((e) => e.exp.finished && e.finishedAt !== null && e.finishedAt <= before).map((e) => e.exp.id);
    for (const id of old) await this.delete(id).catch((err: unknown) => this.log(`cannot delete expired export ${id}: ${String(err)}`));
    if (old.length > 0) this.log(`deleted ${old.length} export(s) that ended more than ${Math.round(retention / 1000)} s ago`);
    return old;
  }

  /** Stops writing records (a closing server leaves them as a crash would) and waits for writes under way. */
  async freeze(): Promise<void> {
    this.frozen = true;
    for (const entry of this.entries.values()) this.clearProgressTimer(entry);
    await Promise.all([...this.entries.values()].map((e) => e.writing));
  }

  /** Resolves once the export's record on disk is up to date (no write under way). */
  async written(id: string, entry = this.entries.get(id)): Promise<void> {
    while (entry?.writing) await entry.writing;
  }

  unfinished(): Export[] {
    return [...this.entries.values()].map((e) => e.exp).filter((exp) => !exp.finished);
  }

  /** Writes the latest state; writes of one export never overlap, and a burst of changes is written once more at most. */
  private persist(entry: Entry): Promise<void> {
    entry.dirty = true;
    entry.writing ??= this.flush(entry).finally(() => { entry.writing = null; });
    return entry.writing;
  }

  /** Progress alone is written at most every PROGRESS_WRITE_MS: at once if the last write is older, else when it will be. */
  private persistProgress(entry: Entry): void {
    if (entry.progressTimer || entry.exp.finished) return;
    const wait = entry.lastWrite + PROGRESS_WRITE_MS - Date.now();
    if (wait <= 0) {
      void this.persist(entry);
      return;
    }
    entry.progressTimer = setTimeout(() => {
      entry.progressTimer = null;
      if (!entry.exp.finished) void this.persist(entry);
    }, wait);
  }

  private clearProgressTimer(entry: Entry): void {
    if (entry.progressTimer) clearTimeout(entry.progressTimer);
    entry.progressTimer = null;
  }

  private async flush(entry: Entry): Promise<void> {
    while (entry.dirty && !this.frozen && !entry.deleted && entry.failure === null) {
      entry.dirty = false;
      entry.lastWrite = Date.now();
      const record = buildRecord(entry.exp, entry.request, entry.finishedAt);
      try {
        await writeRecord(entry.dir, record);
        entry.saved = record.export;
      } catch (err) {
        this.log(`cannot write the record of export ${entry.exp.id} in ${entry.dir}: ${err instanceof Error ? err.message : String(err)}`);
        await this.fail(entry, `the export's record cannot be written to the data directory: ${describeCause(err)}`);
      }
    }
  }

  /**
   * An export whose record cannot be written (a full or read-only disk) could not survive a
   * restart, nor be told apart from one cut short: it is stopped if it runs, its files are
   * removed, and it is shown failed with the cause.
   */
  private async fail(entry: Entry, message: string): Promise<void> {
    entry.failure = message;
    entry.finishedAt ??= Date.now();
    if (!entry.exp.finished) {
      this.exporter?.cancel(entry.exp.id, message);
      await entry.exp.done();
    }
    await removeAllBut(entry.dir, RECORD_FILE).catch(() => undefined);
  }
}

/** `onDisk`: the export is restored from its record, which holds it as it is. */
function newEntry(exp: Export, dir: string, request: StoredRequest, onDisk = false): Entry {
  return {
    exp, dir, request, dirty: false, writing: null, saved: onDisk ? exp.toJSON() : null, lastWrite: 0, progressTimer: null,
    finishedAt: null, failure: null, deleted: false,
  };
}

/** Temporaries of a record write cut short by a crash (the record itself is whole, see writeRecord). */
async function removeRecordTemps(dir: string): Promise<void> {
  const names = await readdir(dir);
  const temps = names.filter((n) => n.startsWith(`${RECORD_FILE}.`) && n.endsWith('.tmp'));
  await Promise.all(temps.map((n) => rm(join(dir, n), { force: true })));
}

async function removeAllBut(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(names.filter((n) => n !== keep).map((n) => rm(join(dir, n), { recursive: true, force: true })));
}

/** A completed export's parts must all be there, as regular files (not links) with their recorded sizes and MD5s, to be served again. */
async function hasAllFiles(record: ExportRecord, dir: string): Promise<boolean> {
  for (const file of record.files) {
    if (!(await isStoredPartIntact(join(dir, file.name), file.size, file.md5))) return false;
  }
  return true;
}

/** The record of a completed export whose files are gone: failed, and saying why. */
function markLost(record: ExportRecord): ExportRecord {
  const message = 'the export\'s files are missing from the data directory or were changed';
  return {
    ...record,
    export: { ...record.export, status: 'failed', errorMessage: message, size: null, fileCount: null },
    errorCode: 'TARGET_FAILED',
    files: [],
  };
}
