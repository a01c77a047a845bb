/**
 * A local S3-compatible server (s3rver, an npm devDependency) for the object-store tests: on a
 * free loopback port, its objects in a temporary directory, with the buckets asked for. The
 * AWS variables it is reached with are given as `env`; `useEnv()` puts them in process.env for
 * the test file (and returns a function that puts back what was there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  readonly endpoint: string;
  readonly directory: string;
  /** The variables the library's S3 store reads: endpoint, keys, region. */
  readonly env: Record<string, string>;
  useEnv(): () => void;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

// s3rver accepts any keys whose id and secret it was given (its default pair is S3RVER/S3RVER).
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export async function startS3(buckets: readonly string[] = ['exports']): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'te-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1',
  };
  let stopped: Promise<void> | null = null;
  return {
    endpoint, directory, env,
    useEnv() {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      return () => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
    },
    stop: () => (stopped ??= (async () => {
      // Kept-alive connections of the SDK's clients would hold close() up until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    })()),
  };
}
