// Runs a command and prints its wall time and the CPU seconds of each of its threads (from
// /proc/<pid>/task/*/stat, polled every 20 ms; Linux only). Usage: node bench/thread-cpu.mjs <command> [args…]
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
const [cmd, ...args] = process.argv.slice(2);
const t0 = performance.now();
const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const last = new Map();
const poll = () => {
  try {
    for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
      const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      last.set(tid, { tid: Number(tid), comm, cpu: (Number(f[11]) + Number(f[12])) / 100 });
    }
  } catch { /* gone */ }
};
const timer = setInterval(poll, 20);
child.on('exit', () => {
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  // BY_TID=1: in the order the threads were made (main, V8's platform workers, libuv's pool, then workers), as +offset from the main thread's id.
  const byTid = process.env.BY_TID === '1';
  const rows = [...last.values()].filter((r) => r.cpu > 0.02).sort((a, b) => (byTid ? a.tid - b.tid : b.cpu - a.cpu));
  const name = (r) => (byTid ? `+${r.tid - child.pid}` : r.comm);
  console.log(`wall ${wall.toFixed(2)} s, cpu ${rows.reduce((n, r) => n + r.cpu, 0).toFixed(2)} s:`, rows.map((r) => `${name(r)} ${r.cpu.toFixed(2)}`).join(', '));
});
