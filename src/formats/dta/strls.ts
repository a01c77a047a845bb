import { Buffer } from 'node:buffer';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportError } from '../../errors.js';
import { describeCause } from '../../sinks/target-error.js';
import type { ByteSink } from '../protocol.js';
import { tempName } from '../../temp-files.js';
import type { BoundColumn } from './data.js';
import { GSO_HEADER_BYTES, GSO_TYPE_ASCII } from './spec.js';

/** GSO bytes gathered before they go to the spool file, and the size of each read-back chunk. */
const SPOOL_CHUNK = 1 << 20;

/**
 * The `<strls>` section (facts A6), spooled while rows stream because it follows `</data>`:
 * one GSO record per non-empty strL cell, `GSO` u32 v, u64 o, u8 t=130, u32 len, then the UTF-8
 * bytes and a NUL (len counts the NUL), in data order: ascending o, then ascending v. Records
 * stay in memory up to 1 MiB; beyond that they go to a temp file that is unlinked as soon as it
 * is open (POSIX), so no file is left behind even when the export fails mid-way. No
 * cross-linking: every cell gets its own record (allowed, facts A5), which keeps memory O(1).
 */
export class StrlSpool {
  private buffer: Buffer = Buffer.allocUnsafe(SPOOL_CHUNK);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  private length = 0;
  private file: FileHandle | null = null;
  /** Set while the temp file still has a name to remove (where unlinking an open file failed). */
  private path: string | null = null;
  private fileBytes = 0;
  /** Set by dispose(): no spool file may be opened (or written) any more. */
  private disposed = false;
  /** Bytes of every GSO record so far. */
  totalBytes = 0;

  constructor(private readonly dir: string) {}

  /** Adds the records of rows start..end-1 of the strL columns (in v order), row by row. */
  async append(cols: readonly BoundColumn[], obsBase: number, start: number, end: number): Promise<void> {
    for (let r = start; r < end; r++) {
      for (const col of cols) {
        if (col.validity !== null && ((col.validity[(col.bitOffset + r) >> 3] >> ((col.bitOffset + r) & 7)) & 1) === 0) continue;
        const s = col.offsets[r];
        const len = col.offsets[r + 1] - s;
        if (len === 0) continue; // "" is (0,0) and has no GSO (facts A5)
        const size = GSO_HEADER_BYTES + len + 1;
        if (this.length + size > this.buffer.length) await this.flush();
        if (size > this.buffer.length) {
          // A value larger than the buffer goes straight to the file after its header.
          this.writeGsoHeader(col.v, obsBase + r, len);
          await this.flush();
          await this.writeToFile(col.bytes.subarray(s, s + len));
          await this.writeToFile(new Uint8Array(1));
        } else {
          this.writeGsoHeader(col.v, obsBase + r, len);
          this.buffer.set(col.bytes.subarray(s, s + len), this.length);
          this.buffer[this.length + len] = 0;
          this.length += len + 1;
        }
        this.totalBytes += size;
      }
    }
  }

  private writeGsoHeader(v: number, o: number, len: number): void {
    const view = this.view;
    const at = this.length;
    view.setUint8(at, 0x47); // G
    view.setUint8(at + 1, 0x53); // S
    view.setUint8(at + 2, 0x4f); // O
    view.setUint32(at + 3, v, true);
    view.setBigUint64(at + 7, BigInt(o), true);
    view.setUint8(at + 15, GSO_TYPE_ASCII);
    view.setUint32(at + 16, len + 1, true);
    this.length += GSO_HEADER_BYTES;
  }

  private async flush(): Promise<void> {
    if (this.length === 0) return;
    await this.writeToFile(this.buffer.subarray(0, this.length));
    this.length = 0;
  }

  private async writeToFile(bytes: Uint8Array): Promise<void> {
    if (this.disposed) throw new ExportError('CANCELLED', 'the strL spool was released', { format: 'dta' });
    const file = this.file ?? await this.openFile();
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await file.write(bytes, done, bytes.length - done, this.fileBytes)
        .catch((err: unknown) => { throw spoolFailed('writing', err); });
      done += bytesWritten;
      this.fileBytes += bytesWritten;
    }
  }

  private async openFile(): Promise<FileHandle> {
    const path = join(this.dir, tempName('strl', '.tmp'));
    let file: FileHandle;
    try {
      file = await open(path, 'wx+');
    } catch (err) {
      throw spoolFailed('creating', err);
    }
    if (this.disposed) {
      // Released while the file was being created: it must not outlive the spool.
      await file.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      throw new ExportError('CANCELLED', 'the strL spool was released', { format: 'dta' });
    }
    this.file = file;
    this.path = path;
    await rm(path).then(() => { this.path = null; }, () => undefined); // kept open; removed in dispose() instead
    return file;
  }

  /** Hands every record to `sink`, in order, then releases the spool. */
  async drain(sink: ByteSink): Promise<void> {
    try {
      if (this.file === null) {
        // Everything fit in memory: the buffer itself goes to the sink, which owns it from now on.
        if (this.length > 0) await sink.write(this.buffer.subarray(0, this.length));
        this.length = 0;
        return;
      }
      await this.flush();
      for (let at = 0; at < this.fileBytes; at += SPOOL_CHUNK) {
        const chunk = Buffer.allocUnsafe(Math.min(SPOOL_CHUNK, this.fileBytes - at));
        let got = 0;
        while (got < chunk.length) {
          const { bytesRead } = await this.file.read(chunk, got, chunk.length - got, at + got)
            .catch((err: unknown) => { throw spoolFailed('reading back', err); });
          if (bytesRead === 0) throw new ExportError('INTERNAL', 'the strL spool file ended early', { format: 'dta' });
          got += bytesRead;
        }
        await sink.write(chunk);
      }
    } finally {
      await this.dispose();
    }
  }

  /** Closes and removes the spool file, if one was made. Safe to call twice. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => undefined);
    if (this.path !== null) await rm(this.path, { force: true }).catch(() => undefined);
    this.path = null;
  }
}

/**
 * A failure of the spool file: TARGET_FAILED (the export's disk space, not the data, is at
 * fault), in the system's words but without the path, which is the server's temporary
 * directory; the splitting sink adds the name of the .dta file it was for.
 */
function spoolFailed(doing: string, err: unknown): ExportError {
  return new ExportError('TARGET_FAILED', `${doing} the strL spool file in the temporary directory failed: ${describeCause(err)}`,
    { format: 'dta' }, { cause: err });
}
