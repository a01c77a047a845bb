import { parseArgs } from 'node:util';
import { startWorker } from '../distributed/worker.js';

const USAGE = `Usage: tabular-export worker --redis <redis://host:port> [--concurrency <n>] [--threads <n>] [--prefix <p>]
         [--lock-duration <ms>] [--stalled-interval <ms>]

Runs the shard and finalize jobs of distributed exports (docs/DISTRIBUTED.md) until SIGINT or
SIGTERM, then finishes the jobs it holds and exits 0 (a second signal gives them back at once:
another worker runs them again once its lock expires).

  --redis             the Redis every worker and API process of the deployment uses
  --concurrency       shard jobs run at once (default 1)
  --threads           threads each shard encodes with (default 1)
  --prefix            key prefix in Redis (default tabular-export)
  --lock-duration     BullMQ's job lock, ms (default 30000): a dead worker's shard runs again about
                      lock-duration + stalled-interval later
  --stalled-interval  how often stalled jobs are looked for, ms (default 30000)
Sources and outputs in s3:// are reached through AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_REGION.`;

function fail(message: string): never {
  process.stderr.write(`tabular-export worker: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : fail(`--${name}: "${text}" is not a positive integer`);
}

export async function runWorkerCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' }, concurrency: { type: 'string' }, threads: { type: 'string' }, prefix: { type: 'string' },
        'lock-duration': { type: 'string' }, 'stalled-interval': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (!values.redis) fail('--redis is required');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const worker = await startWorker({
    redis: values.redis, prefix: values.prefix,
    concurrency: positive('concurrency', values.concurrency), threads: positive('threads', values.threads),
    lockDuration: positive('lock-duration', values['lock-duration']), stalledInterval: positive('stalled-interval', values['stalled-interval']),
  });
  process.stdout.write(`worker ready (pid ${process.pid})\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (): void => {
      signals += 1;
      void worker.close(signals > 1).then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}
