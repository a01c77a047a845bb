import type { WriteStream } from 'node:tty';

/** A one-line progress bar for a terminal; redrawn in place, at most every 100 ms. */
export class ProgressBar {
  private last = 0;

  constructor(private readonly stream: WriteStream) {}

  draw(percent: number, rows: number): void {
    const now = Date.now();
    if (now - this.last < 100 && percent < 100) return;
    this.last = now;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 40));
    const filled = Math.round((percent / 100) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.stream.write(`\r[${bar}] ${percent.toFixed(1).padStart(5)}%  ${rows.toLocaleString('en-US')} rows`);
  }

  clear(): void {
    this.stream.write('\r\x1b[K');
  }
}
