#!/usr/bin/env node
// How long BullMQ takes to add one export's flow of N shard jobs (one MULTI/EXEC), and how long
// Redis answers nothing else meanwhile (a PING sent every millisecond from another connection,
// its worst round trip). The job data is a shard's real size (one piece). Redis of its own.
// Usage: node bench/flow-add.mjs [1000,10000]
import { spawn } from 'node:child_process';
import { FlowProducer } from 'bullmq';
import { Redis } from 'ioredis';

const counts = (process.argv[2] ?? '1000,10000').split(',').map(Number);
const port = 20000 + Math.floor(Math.random() * 20000);
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const flows = new FlowProducer({ connection, prefix: 'tabular-export' });
const pinger = new Redis(connection);
console.log('| shards | flow add | longest PING during it | Redis memory after |');
console.log('|---|---|---|---|');
try {
  for (const n of counts) {
    const id = `bench-${n}`;
    let worst = 0;
    let pinging = true;
    const loop = (async () => {
      while (pinging) {
        const t = performance.now();
        await pinger.ping();
        worst = Math.max(worst, performance.now() - t);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const t0 = performance.now();
    await flows.add({
      name: 'finalize', queueName: 'finalize', data: { exportId: id }, opts: { jobId: id },
      children: Array.from({ length: n }, (_, i) => ({
        name: 'shard', queueName: 'shards', opts: { jobId: `${id}-${i}`, ignoreDependencyOnFailure: true },
        data: { exportId: id, index: i, pieces: [{ key: `tables/big/part-${String(i >> 3).padStart(5, '0')}.parquet`, kind: 'parquet', start: (i & 7) * 4, end: (i & 7) * 4 + 4, rows: 2_000_000 }] },
      })),
    });
    const took = performance.now() - t0;
    pinging = false;
    await loop;
    const memory = /used_memory_human:(\S+)/.exec(await pinger.info('memory'))?.[1];
    console.log(`| ${n.toLocaleString('en-US')} | ${took.toFixed(0)} ms | ${worst.toFixed(0)} ms | ${memory} |`);
  }
} finally {
  await flows.close();
  pinger.disconnect();
  server.kill('SIGTERM');
}
