import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Export } from '../export/export.js';
import { parseRecord, buildRecord, restoreExport, RECORD_FILE, writeRecord, type ExportRecord, type StoredRequest } from './records.js';

/** What a restarted server says of an export it was running or about to run. */
export const RESTART_MESSAGE = 'the server restarted before the export finished';

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
}

export interface RestoreSummary {
  /** Exports restored in the state their record gives. */
  restored: number;
  /** Exports that were queued or running: now failed, their partial files removed. */
  interrupted: number;
  /** Directories whose record could not be read, with the reason; left untouched. */
  skipped: string[];
}

/**
 * Every export the server knows, live or restored, and their records on disk: one directory
 * per export under the data directory holding its files and `.export.json`. Each status
 * change is written (atomically, see writeRecord); progress is not, since after a restart an
 * unfinished export is failed whatever its progress was.
 */
export class ExportStore {
  private readonly entries = new Map<string, Entry>();
  private frozen = false;

  constructor(readonly dataDir: string, private readonly log: (line: string) => void) {}

  get(id: string): Export | undefined {
    return this.entries.get(id)?.exp;
  }

  /** Where an export's files and record go. Only ever called with ids this server made. */
  dirOf(id: string): string {
    if (!ID.test(id)) throw new Error(`not an export id: ${id}`);
    return join(this.dataDir, id);
  }

  /** Keeps a new export and writes its record now and on every status change. */
  track(exp: Export, request: StoredRequest): void {
    const entry: Entry = { exp, dir: this.dirOf(exp.id), request, dirty: false, writing: null };
    this.entries.set(exp.id, entry);
    exp.on('status', () => { void this.persist(entry); });
    void this.persist(entry);
  }

  /**
   * Reads every record under the data directory. Completed, failed and cancelled exports are
   * served again as they were (a completed one whose files are gone or changed becomes failed);
   * queued and running ones were cut short by the restart: they become failed with
   * RESTART_MESSAGE and every file beside their record is removed.
   */
  async restore(): Promise<RestoreSummary> {
    await mkdir(this.dataDir, { recursive: true });
    const summary: RestoreSummary = { restored: 0, interrupted: 0, skipped: [] };
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
      const lost = record.export.status === 'completed' && !(await hasAllFiles(record, dir));
      const exp = restoreExport(lost ? markLost(record) : record, dir);
      const entry: Entry = { exp, dir, request: record.request, dirty: false, writing: null };
      this.entries.set(id, entry);
      const interrupted = !exp.finished;
      if (interrupted) {
        // Files first: should this start crash too, the next one finds the record unchanged and does it again.
        await removeAllBut(dir, RECORD_FILE);
        exp.markFailed(RESTART_MESSAGE, 'INTERNAL');
        summary.interrupted += 1;
      } else {
        summary.restored += 1;
      }
      if (interrupted || lost) await this.persist(entry);
    }
    for (const line of summary.skipped) this.log(`skipped export directory ${line}`);
    return summary;
  }

  /** Stops writing records (a closing server leaves them as a crash would) and waits for writes under way. */
  async freeze(): Promise<void> {
    this.frozen = true;
    await Promise.all([...this.entries.values()].map((e) => e.writing));
  }

  /** Resolves once the export's record on disk is up to date (no write under way). */
  async written(id: string): Promise<void> {
    const entry = this.entries.get(id);
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

  private async flush(entry: Entry): Promise<void> {
    while (entry.dirty && !this.frozen) {
      entry.dirty = false;
      try {
        await writeRecord(entry.dir, buildRecord(entry.exp, entry.request));
      } catch (err) {
        this.log(`cannot write the record of export ${entry.exp.id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
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

/** A completed export's parts must all be there with their recorded sizes to be served again. */
async function hasAllFiles(record: ExportRecord, dir: string): Promise<boolean> {
  for (const file of record.files) {
    const size = await stat(join(dir, file.name)).then((s) => s.size, () => -1);
    if (size !== file.size) return false;
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
