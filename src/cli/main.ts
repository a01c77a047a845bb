import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { Exporter } from '../export/exporter.js';
import type { Export } from '../export/export.js';
import { availableFormats } from '../formats/registry.js';
import { closeWorkerPools } from '../parallel/pool.js';
import { MAX_WORKERS } from '../parallel/workers.js';
import { sourceOf } from './input.js';
import { ProgressBar } from './progress-bar.js';
import { formatBytes, parseMaxFileSize } from './size.js';

const USAGE = `Usage: tabular-export <input.arrow|.arrows|.feather|.parquet|-> --format <fmt> --out <dir|s3://bucket/prefix>
         [--max-file-size <bytes, e.g. 512MB or 1GiB>] [--max-rows-per-file <n>] [--name <table name>]
         [--gzip] [--no-header] [--delimiter <c>] [--workers <n>] [--json]

  --format             ${availableFormats().join(', ')} (ndjson = jsonl)
  --out                directory for the files (created if missing), or s3://bucket/prefix
  --max-file-size      start a new file once one reaches this size, at least 1MiB (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n)
  --max-rows-per-file  at most this many rows per file
  --name               table name (default: the input file's name without its extension); names the files
  --gzip               csv/jsonl: write .csv.gz / .jsonl.gz
  --no-header          csv: no header row
  --delimiter          csv: field delimiter (default ",")
  --workers            threads that encode (default: the cores available, at most 16; 1 = the main
                       thread only); the files are the same whatever the number
  --json               print the final Export resource as JSON on stdout
Input "-" reads an Arrow IPC stream from standard input; a named pipe (mkfifo) is read as a stream too.
An input or output s3://bucket/key is S3-compatible storage, reached through AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_S3), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION; inputs are read with ranged GETs.
Exit status: 0 completed, 1 failed, 2 bad usage, 130 cancelled.
The HTTP server of the Export API: tabular-export serve --help.
A worker of distributed exports (BullMQ on Redis): tabular-export worker --help.`;

function fail(message: string): never {
  process.stderr.write(`tabular-export: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** --max-file-size in bytes (size.ts), or usage and exit 2. */
function fileSizeOption(text: string): number {
  const bytes = parseMaxFileSize(text);
  return typeof bytes === 'number' ? bytes : fail(`${bytes}; to split into smaller parts, use --max-rows-per-file`);
}

const OPTIONS = {
  format: { type: 'string' },
  out: { type: 'string' },
  'max-file-size': { type: 'string' },
  'max-rows-per-file': { type: 'string' },
  name: { type: 'string' },
  gzip: { type: 'boolean' },
  'no-header': { type: 'boolean' },
  delimiter: { type: 'string' },
  json: { type: 'boolean' },
  workers: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command line parsed, or usage and exit 2 for an unknown option or a missing value. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length !== 1) fail('give exactly one input file');
  if (!values.format) fail('--format is required');
  if (!values.out) fail('--out is required');
  const input = positionals[0];
  const maxFileSize = values['max-file-size'] === undefined ? undefined : fileSizeOption(values['max-file-size']);
  const rowsText = values['max-rows-per-file'];
  const maxRowsPerFile = rowsText === undefined ? undefined : /^\d+$/.test(rowsText) && Number(rowsText) > 0 ? Number(rowsText) : fail(`--max-rows-per-file: "${rowsText}" is not a positive integer`);
  const workersText = values.workers;
  const workers = workersText === undefined ? undefined
    : /^\d+$/.test(workersText) && Number(workersText) >= 1 && Number(workersText) <= MAX_WORKERS ? Number(workersText)
      : fail(`--workers: "${workersText}" is not a whole number from 1 to ${MAX_WORKERS}`);
  const name = values.name ?? (input === '-' ? 'stdin' : basename(input, extname(input)));

  // The AWS SDK warns on every run under Node < 22 about its future support; the command's
  // output is its own. (Only read when an s3:// location loads the SDK.)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const source = sourceOf(input);
  if (typeof source === 'string') fail(source);

  const exporter = new Exporter({ concurrency: 1, workers });
  let exp: Export;
  try {
    exp = exporter.create(source, {
      format: values.format, out: values.out, name, maxFileSize, maxRowsPerFile,
      csv: { header: !values['no-header'], delimiter: values.delimiter, gzip: values.gzip },
      jsonl: { gzip: values.gzip },
    });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const bar = process.stderr.isTTY ? new ProgressBar(process.stderr) : null;
  if (bar) exp.on('progress', () => bar.draw(exp.percentCompleted, exp.rows));
  const onSignal = (): void => { exporter.cancel(exp.id, 'interrupted'); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await exp.done();
  // The encoding threads end here, while the signal handlers are still in place: left to the
  // process's exit, their teardown took long enough that a SIGTERM arriving then found no
  // handler and killed a finished export's process by signal (issue #11's test, issue #12).
  await closeWorkerPools().catch(() => undefined);
  bar?.clear();
  if (values.json) process.stdout.write(`${JSON.stringify(exp.toJSON(), null, 2)}\n`);
  if (exp.status !== 'completed') {
    process.stderr.write(`tabular-export: ${exp.status}: ${exp.errorMessage}\n`);
    return exp.status === 'cancelled' ? 130 : 1;
  }
  for (const w of exp.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const r of exp.renames) process.stderr.write(`renamed: ${r.from} -> ${r.to} (${r.reason})\n`);
  if (!values.json) {
    for (const f of exp.files) process.stdout.write(`${f.path ?? f.name}\t${f.rows} rows\t${formatBytes(f.size)}\tmd5 ${f.md5}\n`);
  }
  return 0;
}

const args = process.argv.slice(2);
// The server's code is loaded only for `serve` (issue #12: a one-file export starts fast).
const run = args[0] === 'serve' ? import('../server/serve-command.js').then((m) => m.runServeCommand(args.slice(1)))
  : args[0] === 'worker' ? import('./worker-command.js').then((m) => m.runWorkerCommand(args.slice(1))) : main(args);
run.then((code) => {
  process.exitCode = code;
  // A cancelled export has removed its files by the time it ends; what can still hold the
  // process is its input (a FIFO nobody opened for writing, a stdin that sends nothing), which
  // would make the first SIGTERM seem ignored (issue #11), so it is not waited for.
  if (args[0] !== 'serve' && args[0] !== 'worker' && code === 130) process.exit();
}, (err: unknown) => {
  process.stderr.write(`tabular-export: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
