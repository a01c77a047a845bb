import { Buffer } from 'node:buffer';
import { ExportError } from '../errors.js';

/**
 * What the WebAssembly kernels (parquet's per-value loops, the csv/jsonl row loop) share: each is
 * a module compiled from AssemblyScript into base64 (scripts/build-wasm.mjs), instantiated once
 * per thread with a memory of its own that it imports.
 */

/** What is used of the WebAssembly global (its types are the DOM library's, which this project does not load). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

export const WASM_PAGE = 65536;

const modules = new Map<string, object>();

/**
 * An instance of the kernel `base64` (compiled once per thread) with a new memory of `pages`
 * 64 KiB pages to start with, which may grow to 4 GiB, and the other imports given in `env`.
 */
export function instantiateKernel<Exports>(base64: string, pages: number, env: Record<string, unknown> = {}): { exports: Exports; memory: WasmMemory } {
  // Column buffers are copied in as they are, in the host's byte order; WebAssembly reads little-endian.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new ExportError('INTERNAL', 'the WebAssembly kernels (csv, jsonl and parquet values) need a little-endian host');
  }
  let module = modules.get(base64);
  if (module === undefined) modules.set(base64, (module = new wasm.Module(Buffer.from(base64, 'base64'))));
  const memory = new wasm.Memory({ initial: pages, maximum: 65536 });
  const exports = new wasm.Instance(module, { env: { ...env, memory } }).exports as Exports;
  return { exports, memory };
}
