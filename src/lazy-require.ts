import { createRequire } from 'node:module';

/**
 * A package loaded on first use rather than when the library is: a CLI run that writes csv
 * should not pay for avsc or fzstd (issue #12: start-up). Synchronous, so the functions that
 * use them keep their signatures; works from the ESM build (import.meta.url) and the CJS build
 * (__filename), whose packages are CommonJS-loadable.
 */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= requireHere<T>(id);
    return loaded;
  };
}

/** Loads a package now, resolved from this library's own location. */
export function requireHere<T>(id: string): T {
  const base = (import.meta as { url?: string }).url ?? __filename;
  return createRequire(base)(id) as T;
}
