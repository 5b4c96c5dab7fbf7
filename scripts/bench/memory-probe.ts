/**
 * Preloaded into a benchmark's worker (`node --import <this file>`): appends the process's
 * memory as one JSON line to WATTLINE_MEMORY_PROBE every WATTLINE_MEMORY_PROBE_MS (default
 * 10 s), bytes: process.memoryUsage(), the old generation's committed size (where a worker's
 * garbage waits for the next major GC), and on Linux RSS split into anonymous memory (heaps,
 * native allocations) and file pages (mostly the node binary's own). Heap figures cannot be
 * read from outside the process; the timer is unref'd so it never keeps the worker alive.
 * WATTLINE_MEMORY_PROBE_GC_S (an experiment, off by default: it changes what it measures)
 * forces a full GC before a sample that often, marked `gc: true`: heapUsed there is what is
 * live, so a rising heap between major GCs (garbage) can be told from a leak.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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

/** V8's gc() without --expose-gc on the command line (a context made after the flag has it). */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

if (path) {
  const started = Date.now();
  const gcEveryMs = Number(process.env.WATTLINE_MEMORY_PROBE_GC_S ?? 0) * 1000;
  const gc = gcEveryMs > 0 ? exposedGc() : undefined;
  let nextGc = started + gcEveryMs;
  const sample = (): void => {
    const forced = gc !== undefined && Date.now() >= nextGc;
    if (forced) {
      gc();
      nextGc += gcEveryMs;
    }
    const m = process.memoryUsage();
    const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    const line = {
      s: (Date.now() - started) / 1000,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      oldCommitted: old?.space_size ?? 0,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      ...rssSplit(),
      ...(forced ? { gc: true } : {}),
    };
    appendFileSync(path, `${JSON.stringify(line)}\n`);
  };
  setInterval(sample, Number(process.env.WATTLINE_MEMORY_PROBE_MS ?? 10_000)).unref();
}
