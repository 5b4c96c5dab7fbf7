/**
 * Preloaded into a benchmark's worker (`node --import <this file>`): appends the process's
 * memory (process.memoryUsage(), bytes) as one JSON line to WATTLINE_MEMORY_PROBE every
 * WATTLINE_MEMORY_PROBE_MS (default 10 s). Heap figures cannot be read from outside the
 * process; the timer is unref'd so it never keeps the worker alive.
 */
import { appendFileSync } from 'node:fs';

const path = process.env.WATTLINE_MEMORY_PROBE;
if (path) {
  const started = Date.now();
  const sample = (): void => {
    const m = process.memoryUsage();
    appendFileSync(path, `${JSON.stringify({ s: (Date.now() - started) / 1000, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  };
  setInterval(sample, Number(process.env.WATTLINE_MEMORY_PROBE_MS ?? 10_000)).unref();
}
