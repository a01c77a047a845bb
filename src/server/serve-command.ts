import { parseArgs } from 'node:util';
import { parseMaxFileSize } from '../cli/size.js';
import { MAX_WORKERS } from '../parallel/workers.js';
import { createServer, DEFAULT_RETENTION_MS, ServerConfigError } from './index.js';

const USAGE = `Usage: tabular-export serve --tables <dir> --data <dir> [--port 8080] [--host 127.0.0.1]
         [--concurrency <n>] [--workers <n>] [--token <token>] [--max-file-size <size>]
         [--default-owner local] [--default-dataset default] [--allow-origin <origin>]…
         [--retention 7d] [--drain-timeout 30s] [--max-connections 256]
       tabular-export serve --redis <redis://host:port> --tables <dir|s3://…> --data <dir|s3://…> [--shard-rows <n>] …

  --tables       directory of the tables: Arrow IPC (.arrow, .arrows, .feather) and Parquet files
                 in <dir>/<owner>/<dataset>/, referenced as owner.dataset.table (the file name
                 without its extension; matched ignoring case, other characters than letters,
                 digits and _ matched as _), and files directly in <dir>, which belong to the
                 default owner and dataset
  --data         directory of the exports and their records (created if missing); exports
                 survive a restart, and unfinished ones are run again when the server starts
  --max-file-size  split exports into parts of at most this size when a request gives no
                 maxFileSize (e.g. 512MB, 1GiB; at least 1MiB; default: the formats' own)
  --default-owner, --default-dataset
                 owner and dataset of the files directly in --tables (default local.default)
  --port         TCP port (default 8080; 0 picks a free one)
  --host         address to listen on (default 127.0.0.1, this machine only); any other
                 address needs a token
  --concurrency  exports running at once; the others wait queued (default 2)
  --workers      threads each export encodes with (default: the cores available, at most 16;
                 1 = the main thread only)
  --token        require "Authorization: Bearer <token>" on every request; the environment
                 variable TABULAR_EXPORT_TOKEN is read when the flag is absent, which keeps
                 the token out of the process list; without a token only requests to a
                 loopback name (localhost, 127.0.0.1, [::1]) are answered
  --allow-origin web origin (e.g. https://app.example.org) whose pages may call the API;
                 repeatable; requests from any other origin get 403
  --retention    delete finished exports (files and records) this long after they ended
                 (e.g. 90m, 12h, 7d; default 7d; "never" keeps them)
  --drain-timeout  on SIGINT/SIGTERM, how long downloads under way may go on (default 30s)
  --max-connections  connections served at once (default 256)
  --redis        the distributed mode (docs/DISTRIBUTED.md): exports run as BullMQ jobs on
                 \`tabular-export worker\` processes, their records kept in this Redis, so any
                 number of API processes answer for any export; --tables and --data are then
                 directories every worker mounts at the same path, or s3://bucket/prefix
  --shard-rows   with --redis: rows per shard, about (default 2000000); shards cut at Parquet
                 row groups
Routes: see docs/SERVER.md. Stops on SIGINT or SIGTERM: no new connections, running exports
stopped (they run again at the next start), downloads under way finish within --drain-timeout.`;

function fail(message: string): never {
  process.stderr.write(`tabular-export serve: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `12h`, `7d`, `30s`, `500ms` (a plain number is seconds) in ms. */
function parseDuration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 's'] : NaN;
  if (!(ms > 0)) fail(`--${flag}: "${text}" is not a duration such as 30s, 15m, 12h or 7d`);
  return ms;
}

function parseCount(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) fail(`--${flag}: "${text}" is not a whole number from ${min} to ${max}`);
  return Number(text);
}

/** `tabular-export serve …`: runs the reference server until SIGINT/SIGTERM. Resolves to the exit code. */
export async function runServeCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tables: { type: 'string' },
        data: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        concurrency: { type: 'string' },
        workers: { type: 'string' },
        token: { type: 'string' },
        'max-file-size': { type: 'string' },
        'default-owner': { type: 'string' },
        'default-dataset': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        retention: { type: 'string' },
        'drain-timeout': { type: 'string' },
        'max-connections': { type: 'string' },
        redis: { type: 'string' },
        'shard-rows': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (!values.tables) fail('--tables is required');
  if (!values.data) fail('--data is required');
  const port = parseCount('port', values.port, 8080, 0, 65535);
  const concurrency = parseCount('concurrency', values.concurrency, 2, 1, 1000);
  const workers = values.workers === undefined ? undefined : parseCount('workers', values.workers, 1, 1, MAX_WORKERS);
  const token = values.token ?? process.env.TABULAR_EXPORT_TOKEN ?? null;
  if (token === '') fail('--token must not be empty');
  const sizeText = values['max-file-size'];
  const parsedSize = sizeText === undefined ? undefined : parseMaxFileSize(sizeText);
  const maxFileSize = typeof parsedSize === 'string' ? fail(parsedSize) : parsedSize;
  for (const flag of ['default-owner', 'default-dataset'] as const) {
    const name = values[flag];
    if (name !== undefined && !/^[A-Za-z0-9_]+$/.test(name)) fail(`--${flag}: "${name}" must be letters, digits and _`);
  }
  const allowedOrigins = values['allow-origin'] ?? [];
  for (const origin of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) fail(`--allow-origin: "${origin}" is not an origin such as https://app.example.org`);
  }
  const retention = values.retention === 'never' ? Infinity : parseDuration('retention', values.retention, DEFAULT_RETENTION_MS);
  const drainTimeout = parseDuration('drain-timeout', values['drain-timeout'], 30_000);
  const maxConnections = parseCount('max-connections', values['max-connections'], 256, 1, 100_000);
  if (values['shard-rows'] !== undefined && values.redis === undefined) fail('--shard-rows needs --redis');
  const shardRows = values['shard-rows'] === undefined ? undefined : parseCount('shard-rows', values['shard-rows'], 1, 1, Number.MAX_SAFE_INTEGER);
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) fail(`--redis: "${values.redis}" is not a redis:// URL`);
  if (values.redis === undefined && values.data.startsWith('s3://')) fail('--data s3://… needs --redis (the embedded server keeps its exports in a directory)');
  if (values.redis === undefined && values.tables.startsWith('s3://')) fail('--tables s3://… needs --redis (the embedded server reads its tables from a directory)');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const log = (line: string): void => { process.stderr.write(`tabular-export serve: ${line}\n`); };
  let server;
  let address;
  try {
    server = createServer({
      tables: values.tables, data: values.data, concurrency, workers, token, log, maxFileSize,
      defaultOwner: values['default-owner'], defaultDataset: values['default-dataset'],
      allowedOrigins, retention, drainTimeout, maxConnections, redis: values.redis, shardRows,
    });
    address = await server.listen(port, values.host ?? '127.0.0.1');
  } catch (err) {
    process.stderr.write(`tabular-export serve: ${err instanceof Error ? err.message : String(err)}\n`);
    // A configuration that cannot work (a data directory that cannot be written, no token on a
    // public address) is a usage error; anything else (the port is taken) is a failure.
    return err instanceof ServerConfigError ? 2 : 1;
  }
  const summary = server.restored;
  if (summary && summary.restored + summary.resumed > 0) {
    log(`restored ${summary.restored} export(s); ${summary.resumed} unfinished export(s) running again`);
  }
  // The handlers go in before the line that tells a supervisor the server is up: one that
  // answers it with SIGTERM at once must find them (they took ~2 ms to install after it, and
  // the signal's default action killed the process).
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // One line on stdout, so scripts (and the tests) can read the port picked for --port 0.
  process.stdout.write(`listening on ${address.url}\n`);
  await stopped;
  await server.close();
  return 0;
}
