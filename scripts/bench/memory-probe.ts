/**
 * Preloaded into a benchmark's worker (`node --import <this file>`): appends the process's
 * memory as one JSON line to WATTLINE_MEMORY_PROBE every WATTLINE_MEMORY_PROBE_MS (default
 * 10 s), bytes: process.memoryUsage(), the old generation's committed size (where a worker's
 * garbage waits for the next major GC), and on Linux RSS split into anonymous memory (heaps,
 * native allocations) and file pages (mostly the node binary's own). Heap figures cannot be
 * read from outside the process; the timer is unref'd so it never keeps the worker alive.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const path = process.env.WATTLINE_MEMORY_PROBE;

/** RssAnon and RssFile of /proc/self/status in bytes (0 where there is no /proc). */
function rssSplit(): { rssAnon: number; rssFile: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') + kb('RssShmem') };
  } catch {
    return { rssAnon: 0, rssFile: 0 };
  }
}

if (path) {
  const started = Date.now();
  const sample = (): void => {
    const m = process.memoryUsage();
    const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    const line = { s: (Date.now() - started) / 1000, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, oldCommitted: old?.space_size ?? 0, external: m.external, arrayBuffers: m.arrayBuffers, ...rssSplit() };
    appendFileSync(path, `${JSON.stringify(line)}\n`);
  };
  setInterval(sample, Number(process.env.WATTLINE_MEMORY_PROBE_MS ?? 10_000)).unref();
}
