/**
 * Fuzz: valid IPC files (stream and file format, plain and LZ4/ZSTD-compressed, by arrow-js and
 * pyarrow) and Parquet files (by this library and pyarrow), damaged with a fixed seed: bit flips
 * anywhere and near length fields, truncations, zeroed ranges, and negative or huge values over
 * the length fields themselves. Each case runs in a child process (corrupt-runner.ts) through
 * every reader (path, buffer, one-shot stream, the server's row count, a csv export): each must
 * succeed or fail with SOURCE_FAILED (an export: with any code but INTERNAL) naming the file
 * and no directory, within the per-case limit; never hang, crash the process or balloon its
 * memory. FUZZ_SEED and FUZZ_CASES (per fixture) run others.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../fixtures/random.js';
import { tempDir } from '../helpers/batches.js';
import { ipcLengthFields, makeFixtures } from './corrupt-fixtures.js';
import type { Fixture, LengthField } from './corrupt-fixtures.js';
import type { FuzzCase, FuzzReply } from './corrupt-runner.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES_PER_FIXTURE = Number(process.env.FUZZ_CASES ?? 50);
/** A case answering later than this is a hang (every step together: four reads, a count, an export). */
const CASE_LIMIT_MS = 3000;
/** No step may take longer than this. */
const STEP_LIMIT_MS = 2000;
/** Memory the runner may hold in ArrayBuffers after a case, and its peak resident size: far below "gigabytes". */
const MAX_ARRAY_BUFFERS = 256 * 2 ** 20;
const MAX_RSS = 1024 * 2 ** 20;


interface Mutation {
  readonly what: string;
  readonly bytes: Uint8Array;
}

/** Values written over a length field: negative, zero, just past the file, huge. */
function lengthValues(size: number): bigint[] {
  return [-1n, -8n, -(2n ** 31n), -(2n ** 62n), 0n, 7n, BigInt(size), BigInt(size + 8), 2n ** 31n - 1n, 2n ** 32n + 8n, 2n ** 53n, 2n ** 62n];
}

function mutate(fixture: Fixture, rnd: () => number): Mutation {
  const source = fixture.bytes;
  const bytes = source.slice();
  const view = new DataView(bytes.buffer);
  const at = (n: number): number => Math.floor(rnd() * n);
  const fields = fixture.kind === 'ipc' ? ipcLengthFields(source) : [{ at: source.byteLength - 8, size: 4 as const, what: 'footer length' }];
  const footer = fixture.kind === 'parquet' ? view.getUint32(source.byteLength - 8, true) + 8 : 0;
  const choice = rnd();
  if (choice < 0.3) {
    const field: LengthField = fields[at(fields.length)];
    const values = lengthValues(source.byteLength);
    // A body length that points back to the first message is the issue's endless loop.
    const value = field.rewind !== undefined && rnd() < 0.5 ? field.rewind : values[at(values.length)];
    if (field.size === 8) view.setBigInt64(field.at, value, true);
    else view.setInt32(field.at, Number(BigInt.asIntN(32, value)), true);
    return { what: `${field.what} at ${field.at} := ${value}`, bytes };
  }
  if (choice < 0.55) {
    // Near a length field (IPC) or in the footer (Parquet): where the structure is.
    const flips = 1 + at(3);
    const spots: number[] = [];
    for (let k = 0; k < flips; k++) {
      const pos = fixture.kind === 'ipc'
        ? Math.min(source.byteLength - 1, Math.max(0, fields[at(fields.length)].at + at(96) - 48))
        : source.byteLength - 1 - at(footer);
      bytes[pos] ^= 1 << at(8);
      spots.push(pos);
    }
    return { what: `bit flips near structure at ${spots.join(', ')}`, bytes };
  }
  if (choice < 0.7) {
    const flips = 1 + at(4);
    const spots: number[] = [];
    for (let k = 0; k < flips; k++) {
      const pos = at(source.byteLength);
      bytes[pos] ^= 1 << at(8);
      spots.push(pos);
    }
    return { what: `bit flips at ${spots.join(', ')}`, bytes };
  }
  if (choice < 0.85) {
    const cut = at(source.byteLength);
    return { what: `truncated to ${cut} bytes`, bytes: bytes.subarray(0, cut) };
  }
  const start = at(source.byteLength);
  const length = 1 + at(64);
  bytes.fill(0, start, start + length);
  return { what: `${length} bytes zeroed at ${start}`, bytes };
}

/** The child process and its one case in flight; a case past the limit kills it and starts another. */
class Runner {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  restarts = 0;

  private start(): Promise<void> {
    const child = fork(fileURLToPath(new URL('./corrupt-runner.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the fuzz runner exited at start (code ${code})`)));
    });
  }

  async run(c: FuzzCase): Promise<FuzzReply | { failure: string }> {
    this.ready ??= this.start();
    await this.ready;
    const child = this.child as ChildProcess;
    return new Promise((resolve) => {
      const done = (answer: FuzzReply | { failure: string }): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(answer);
      };
      const onMessage = (reply: FuzzReply): void => done(reply);
      const onExit = (code: number | null, signal: string | null): void => {
        this.ready = null;
        this.restarts++;
        done({ failure: `the process died (code ${code}, signal ${signal})` });
      };
      const timer = setTimeout(() => {
        child.off('exit', onExit);
        child.kill('SIGKILL');
        this.ready = null;
        this.restarts++;
        done({ failure: `no answer within ${CASE_LIMIT_MS} ms (hang)` });
      }, CASE_LIMIT_MS);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(c);
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
  }
}

describe('corrupt files: fuzz', () => {
  let dir = '';
  let fixtures: Fixture[] = [];
  const runner = new Runner();

  beforeAll(async () => {
    dir = await tempDir('te-fuzz-');
    fixtures = await makeFixtures(dir);
  });
  afterAll(() => runner.stop());

  it(`${CASES_PER_FIXTURE} damaged versions of each file fail fast, never hang, crash or allocate without bound (seed ${SEED})`, async () => {
    const generator = new Random(SEED);
    const rnd = (): number => generator.float();
    const problems: string[] = [];
    const tally = new Map<string, number>();
    let cases = 0;
    let slowest = 0;
    let maxRss = 0;
    const started = performance.now();
    for (const fixture of fixtures) {
      // Every reader sees the undamaged file whole first: the fuzz judges damage, not the fixture.
      const original = join(dir, `original${fixture.kind === 'ipc' ? '.arrow' : '.parquet'}`);
      await writeFile(original, fixture.bytes);
      const clean = await runner.run({ id: -1, kind: fixture.kind, path: original, out: join(dir, 'clean') });
      expect('steps' in clean && clean.steps.every((s) => s.failure === undefined && s.rows === 400), `${fixture.name}: ${JSON.stringify(clean)}`).toBe(true);
      for (let k = 0; k < CASES_PER_FIXTURE; k++) {
        const id = cases++;
        const mutation = mutate(fixture, rnd);
        const caseDir = join(dir, `case-${id}`);
        await mkdir(caseDir);
        const path = join(caseDir, `damaged-${id}${fixture.kind === 'ipc' ? '.arrow' : '.parquet'}`);
        await writeFile(path, mutation.bytes);
        const reply = await runner.run({ id, kind: fixture.kind, path, out: caseDir });
        const where = `${fixture.name}, ${mutation.what}`;
        if ('failure' in reply) {
          problems.push(`${where}: ${reply.failure}`);
          continue;
        }
        maxRss = Math.max(maxRss, reply.maxRss);
        if (reply.arrayBuffers > MAX_ARRAY_BUFFERS) problems.push(`${where}: holds ${reply.arrayBuffers} bytes in ArrayBuffers`);
        for (const s of reply.steps) {
          slowest = Math.max(slowest, s.ms);
          const crashed = s.failure?.message.includes('Parquet reader crashed') === true;
          const outcome = s.failure ? `${s.failure.code}${crashed ? ' (parquet-wasm panicked, worker ended)' : ''}` : 'ok';
          tally.set(`${fixture.kind} ${s.step} ${outcome}`, (tally.get(`${fixture.kind} ${s.step} ${outcome}`) ?? 0) + 1);
          if (s.ms > STEP_LIMIT_MS) problems.push(`${where}: ${s.step} took ${Math.round(s.ms)} ms`);
          if (!s.failure) continue;
          const bad = s.step === 'export' ? s.failure.code === 'INTERNAL' || s.failure.code === 'none' : s.failure.code !== 'SOURCE_FAILED';
          if (bad) problems.push(`${where}: ${s.step} failed ${s.failure.code}: ${s.failure.message}`);
          if (s.failure.message.includes(caseDir)) problems.push(`${where}: ${s.step}'s message has the path: ${s.failure.message}`);
          if ((s.step === 'path' || s.step === 'count') && !s.failure.message.includes(basename(path))) {
            problems.push(`${where}: ${s.step}'s message does not name the file: ${s.failure.message}`);
          }
        }
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`fuzz: ${cases} cases in ${seconds} s, slowest step ${Math.round(slowest)} ms, peak RSS ${Math.round(maxRss / 2 ** 20)} MiB, ` +
      `runner restarts ${runner.restarts}\n${[...tally].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n')}`);
    expect(problems).toEqual([]);
    expect(maxRss).toBeLessThan(MAX_RSS);
    expect(runner.restarts).toBe(0);
  }, 120_000);
});
