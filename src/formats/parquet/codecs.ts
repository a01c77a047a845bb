import { gzipSync } from 'node:zlib';
import { lazyRequire, requireHere } from '../../lazy-require.js';
import type { ParquetCompression } from './options.js';

/** parquet.thrift CompressionCodec */
export const CODEC_ID: Record<KernelCompression, number> = { none: 0, snappy: 1, gzip: 2 };

/** The codecs the hand-written writer compresses with; zstd stays with parquet-wasm (Node 20 has no zstd). */
export type KernelCompression = 'snappy' | 'gzip' | 'none';

export type Compress = (page: Uint8Array) => Uint8Array;

type Snappy = typeof import('snappy');

/**
 * snappy: the native `snappy` package (napi-rs), loaded on first use. Measured here on 1 MiB
 * of int64 pages: 4.8 ms against 9.1 ms for the JS compressor of the avro folder.
 */
const snappy = lazyRequire<Snappy>('snappy');

/**
 * The platform's binary package of `snappy` (an optional dependency of it, as npm installs
 * them: @napi-rs/snappy-linux-x64-gnu here), which is what the package's entry ends up loading
 * after probing for files it does not ship and for musl: ~2 ms against ~7–15 ms, paid by every
 * thread that writes Parquet (issue #12: start-up). Where none loads (another layout of
 * node_modules, another libc), the package's entry as before.
 */
function loadSnappy(): Snappy {
  const { platform, arch } = process;
  const names = platform === 'linux' ? [`linux-${arch}-gnu`, `linux-${arch}-musl`]
    : platform === 'darwin' ? [`darwin-${arch}`] : platform === 'win32' ? [`win32-${arch}-msvc`] : [];
  for (const name of names) {
    try {
      const binding = requireHere<Snappy>(`@napi-rs/snappy-${name}`);
      if (typeof binding.compressSync === 'function') return binding;
    } catch {
      // not this one
    }
  }
  return snappy();
}

let loaded: Snappy | null = null;
function snappyBinding(): Snappy {
  loaded ??= loadSnappy();
  return loaded;
}

/** Whether the writer can compress with `compression` in this process (the native module loads). */
export function kernelSupports(compression: ParquetCompression): compression is KernelCompression {
  if (compression === 'none' || compression === 'gzip') return true;
  if (compression !== 'snappy') return false;
  try {
    return typeof snappyBinding().compressSync === 'function';
  } catch {
    return false;
  }
}

/** A page compressor. `none` gives the page itself (the caller copies it before reusing its buffer). */
export function compressorOf(compression: KernelCompression): Compress {
  switch (compression) {
    case 'none': return (page) => page;
    case 'gzip': return (page) => gzipSync(page);
    case 'snappy': {
      const { compressSync } = snappyBinding();
      // copyOutputData: the result in memory V8 allocates and counts. Its default, a buffer
      // made outside V8, is not counted towards collection: a worker thread that allocates
      // little else held hundreds of MB of spent pages before its next collection.
      const options = { copyOutputData: true };
      return (page) => compressSync(page, options);
    }
  }
}
