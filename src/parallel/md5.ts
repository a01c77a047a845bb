import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ExportError } from '../errors.js';
import { recycle, retain } from './recycle.js';

/**
 * A file's MD5, taken as its bytes pass. update may ask the caller to wait (backpressure); when
 * the bytes were lent to the hashing thread (transferred: a recyclable buffer, recycle.ts), the promise gives them
 * back, as a new view of the same memory, and the caller must use that one.
 */
export interface Md5 {
  update(bytes: Uint8Array): Promise<void> | null;
  digest(): Promise<string>;
  /** The file was given up: forget its state. */
  dispose(): void;
}

/** On the calling thread (workers: 1). */
export function localMd5(): Md5 {
  const hash = createHash('md5');
  return {
    update(bytes) { hash.update(bytes); return null; },
    digest: async () => hash.digest('hex'),
    dispose() { /* nothing held */ },
  };
}

/**
 * Bytes sent to the hashing thread and not yet hashed, at most: past this, writers wait (MD5
 * runs at ~700 MB/s, so this is ~50 ms of hashing).
 */
const MAX_OUTSTANDING = 32 << 20;


/**
 * The hashing thread's source: MD5 is sequential within a file, so every file's bytes go, in
 * order, to one thread that keeps a hash per file. Dynamic import only: the worker inherits
 * the process's flags, under which eval'd source may run as an ES module.
 */
const SOURCE = `(async () => {
  const { parentPort } = await import('node:worker_threads');
  const { createHash } = await import('node:crypto');
  const hashes = new Map();
  parentPort.on('message', (m) => {
    if (m.t === 'u') {
      let h = hashes.get(m.id);
      if (h === undefined) hashes.set(m.id, (h = createHash('md5')));
      h.update(new Uint8Array(m.b, m.o, m.n));
      parentPort.postMessage({ t: 'a', n: m.n });
    } else if (m.t === 'd') {
      const h = hashes.get(m.id) ?? createHash('md5');
      hashes.delete(m.id);
      parentPort.postMessage({ t: 'd', id: m.id, hex: h.digest('hex') });
    } else hashes.delete(m.id);
  });
})();`;

interface Waiter { resolve: () => void; reject: (err: Error) => void }
/** A shared chunk the thread is reading: the caller waits for it, or a hold on it is released (recycle.ts). */
type Loan = { resolve: () => void; reject: (err: Error) => void } | { held: Uint8Array };

/** The process's hashing thread, started on first use, unref'd whenever nothing waits on it. */
class HashThread {
  private readonly worker: Worker;
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();
  private readonly waiters: Waiter[] = [];
  /** Shared chunks not yet hashed, in the order they were sent (the thread answers in order). */
  private readonly loans: (Loan | null)[] = [];
  private outstanding = 0;
  private nextId = 1;
  private dead: Error | null = null;
  private referenced = false;

  constructor(private readonly onExit: () => void) {
    this.worker = new Worker(SOURCE, { eval: true });
    this.worker.on('message', (m: { t: string; n?: number; id?: number; hex?: string; b?: ArrayBuffer }) => {
      if (m.t === 'a') {
        this.outstanding -= m.n as number;
        const loan = this.loans.shift();
        if (loan && 'held' in loan) recycle(loan.held);
        else loan?.resolve();
        while (this.outstanding <= MAX_OUTSTANDING && this.waiters.length > 0) (this.waiters.shift() as Waiter).resolve();
      } else {
        const d = this.digests.get(m.id as number);
        this.digests.delete(m.id as number);
        d?.resolve(m.hex as string);
      }
      this.updateRef();
    });
    const fail = (err: Error): void => {
      if (this.dead) return;
      this.dead = new ExportError('INTERNAL', `the MD5 thread failed: ${err.message}`);
      for (const d of this.digests.values()) d.reject(this.dead);
      for (const w of this.waiters) w.reject(this.dead);
      for (const l of this.loans) if (l && 'reject' in l) l.reject(this.dead);
      this.digests.clear();
      this.waiters.length = 0;
      this.loans.length = 0;
      this.onExit();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs a worker again, and a thread made
    // but never used (warmHashThread, then a failed export) held the process open.
    this.worker.unref();
  }

  open(): Md5 {
    const id = this.nextId++;
    return {
      update: (bytes) => this.update(id, bytes),
      digest: () => this.digest(id),
      dispose: () => { if (!this.dead) this.worker.postMessage({ t: 'x', id }); },
    };
  }

  private update(id: number, bytes: Uint8Array): Promise<void> | null {
    if (this.dead) return Promise.reject(this.dead);
    this.outstanding += bytes.length;
    if (bytes.buffer instanceof SharedArrayBuffer) {
      // A chunk in shared memory (chunks.ts): the thread reads it where it is. A chunk of the
      // export's own goes on to the file meanwhile, a hold keeping its memory from the next
      // chunk until the thread has read it (recycle.ts), so the write does not wait for the
      // hash (it did before; on two cores that made no measurable difference either way).
      if (retain(bytes)) {
        this.loans.push({ held: bytes });
        this.worker.postMessage({ t: 'u', id, b: bytes.buffer, o: bytes.byteOffset, n: bytes.length });
        this.updateRef();
        return this.outstanding <= MAX_OUTSTANDING ? null : new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
      }
      // Anyone else's: the caller waits until the thread has read it.
      const hashed = new Promise<void>((resolve, reject) => this.loans.push({ resolve, reject }));
      this.worker.postMessage({ t: 'u', id, b: bytes.buffer, o: bytes.byteOffset, n: bytes.length });
      this.updateRef();
      return hashed;
    }
    // A copy of its own, transferred: the caller's bytes are still on their way to the file.
    const copy = Buffer.allocUnsafeSlow(bytes.length);
    copy.set(bytes);
    this.loans.push(null);
    this.worker.postMessage({ t: 'u', id, b: copy.buffer, o: 0, n: bytes.length }, [copy.buffer]);
    this.updateRef();
    if (this.outstanding <= MAX_OUTSTANDING) return null;
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private digest(id: number): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    const answer = new Promise<string>((resolve, reject) => this.digests.set(id, { resolve, reject }));
    this.worker.postMessage({ t: 'd', id });
    this.updateRef();
    return answer;
  }

  /** Keeps the process alive exactly while an answer is awaited. */
  private updateRef(): void {
    const busy = this.outstanding > 0 || this.digests.size > 0;
    if (busy === this.referenced) return;
    this.referenced = busy;
    if (busy) this.worker.ref();
    else this.worker.unref();
  }
}

let thread: HashThread | null = null;

function hashThread(): HashThread {
  thread ??= new HashThread(() => { thread = null; });
  return thread;
}

/** On the process's hashing thread: hashing leaves the calling thread's path. */
export function threadMd5(): Md5 {
  return hashThread().open();
}

/**
 * Starts the hashing thread ahead of a large export's first bytes: its start (~30–50 ms, more
 * on a busy machine) then overlaps the export's own (a dta or sav first pass, the encoding
 * threads' start) instead of delaying the file's first bytes. It never keeps the process alive.
 */
export function warmHashThread(): void {
  hashThread();
}

/**
 * Bytes of a file hashed on the calling thread before the hashing thread is used: a small
 * file (~6 ms of MD5) does not pay for starting a thread (~30–50 ms; issue #12: a tiny
 * export's whole process in 0.15 s).
 */
const LOCAL_BYTES = 4 << 20;

/**
 * For an export with workers > 1: a copy of the file's first LOCAL_BYTES is kept; a file that
 * ends within them is hashed here, a larger one goes to the hashing thread, its first bytes first.
 */
export function offThreadMd5(): Md5 {
  let held: Uint8Array[] | null = [];
  let heldBytes = 0;
  let remote: Md5 | null = null;
  return {
    update(bytes) {
      if (remote) return remote.update(bytes);
      (held as Uint8Array[]).push(Uint8Array.prototype.slice.call(bytes));
      heldBytes += bytes.length;
      if (heldBytes <= LOCAL_BYTES) return null;
      remote = threadMd5();
      const waits = (held as Uint8Array[]).map((b) => remote?.update(b)).filter((w): w is Promise<void> => w !== null && w !== undefined);
      held = null;
      return waits.length > 0 ? Promise.all(waits).then(() => undefined) : null;
    },
    async digest() {
      if (remote) return remote.digest();
      const hash = createHash('md5');
      for (const b of held ?? []) hash.update(b);
      held = null;
      return hash.digest('hex');
    },
    dispose() {
      held = null;
      remote?.dispose();
    },
  };
}
