import { parseArgs } from 'node:util';
import { parseByteSize } from '../cli/size.js';
import { createServer } from './index.js';

const USAGE = `Usage: tabular-export serve --tables <dir> --data <dir> [--port 8080] [--host 127.0.0.1]
         [--concurrency <n>] [--token <token>] [--max-file-size <size>]
         [--default-owner local] [--default-dataset default]

  --tables       directory of the tables: Arrow IPC (.arrow, .arrows, .feather) and Parquet files
                 in <dir>/<owner>/<dataset>/, referenced as owner.dataset.table (the file name
                 without its extension; matched ignoring case, other characters than letters,
                 digits and _ matched as _), and files directly in <dir>, which belong to the
                 default owner and dataset
  --data         directory of the exports and their records (created if missing); exports
                 survive a restart, and unfinished ones are run again when the server starts
  --max-file-size  split exports into parts of at most this size when a request gives no
                 maxFileSize (e.g. 512MB, 1GiB; default: the formats' own)
  --default-owner, --default-dataset
                 owner and dataset of the files directly in --tables (default local.default)
  --port         TCP port (default 8080; 0 picks a free one)
  --host         address to listen on (default 127.0.0.1, this machine only)
  --concurrency  exports running at once; the others wait queued (default 2)
  --token        require "Authorization: Bearer <token>" on every request; the environment
                 variable TABULAR_EXPORT_TOKEN is read when the flag is absent, which keeps
                 the token out of the process list
Routes: see docs/SERVER.md. Stops on SIGINT or SIGTERM.`;

function fail(message: string): never {
  process.stderr.write(`tabular-export serve: ${message}\n\n${USAGE}\n`);
  process.exit(2);
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
        token: { type: 'string' },
        'max-file-size': { type: 'string' },
        'default-owner': { type: 'string' },
        'default-dataset': { type: 'string' },
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
  const token = values.token ?? process.env.TABULAR_EXPORT_TOKEN ?? null;
  if (token === '') fail('--token must not be empty');
  const sizeText = values['max-file-size'];
  const maxFileSize = sizeText === undefined ? undefined : parseByteSize(sizeText) ?? fail(`--max-file-size: "${sizeText}" is not a size`);
  for (const flag of ['default-owner', 'default-dataset'] as const) {
    const name = values[flag];
    if (name !== undefined && !/^[A-Za-z0-9_]+$/.test(name)) fail(`--${flag}: "${name}" must be letters, digits and _`);
  }

  const log = (line: string): void => { process.stderr.write(`tabular-export serve: ${line}\n`); };
  let server;
  let address;
  try {
    server = createServer({
      tables: values.tables, data: values.data, concurrency, token, log, maxFileSize,
      defaultOwner: values['default-owner'], defaultDataset: values['default-dataset'],
    });
    address = await server.listen(port, values.host ?? '127.0.0.1');
  } catch (err) {
    process.stderr.write(`tabular-export serve: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const summary = server.restored;
  if (summary && summary.restored + summary.resumed > 0) {
    log(`restored ${summary.restored} export(s); ${summary.resumed} unfinished export(s) running again`);
  }
  // One line on stdout, so scripts (and the tests) can read the port picked for --port 0.
  process.stdout.write(`listening on ${address.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
