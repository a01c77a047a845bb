// Preloaded with `node --import ./bench/report-rss.mjs …`: on exit, writes the process's peak RSS
// (bytes) to $BENCH_RSS_FILE, so any command (the CLI included) can be measured unchanged.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
