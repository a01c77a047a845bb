// Preloaded with `node --import ./bench/report-rss.mjs …`: on exit, writes the process's peak RSS
// (bytes) to $BENCH_RSS_FILE, so any command (the CLI included) can be measured unchanged.
// VmHWM from /proc is this process's own high-water mark; getrusage's maxrss can carry a large
// parent's peak across fork/exec, which once reported 713 MB for a 140 MB export.
import { readFileSync, writeFileSync } from 'node:fs';

function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(peakRss())));
