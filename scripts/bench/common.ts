/** Small pieces every benchmark uses. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';

/** SIGTERM a benchmark's child process, SIGKILL after 5 s, and wait until it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Run a benchmark file's `run()` when the file is started directly (not through index.ts). */
export function runIfMain(moduleUrl: string, run: () => Promise<unknown>): void {
  if (process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href) {
    run().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  }
}

/** The load average over 1, 5 and 15 minutes, "1.20/0.95/0.80". */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join('/');
}

/**
 * Print one row of the README's benchmark table, so every figure there comes from a run
 * of `npm run bench`: the cells as given (benchmark, wattline, baseline, ratio,
 * target), then when it ran and the load average at its start and end (2 shared cores).
 * `grep '^README row'` collects them.
 */
export function printRow(cells: readonly [bench: string, ours: string, baseline: string, ratio: string, target: string], loadAtStart: string): void {
  const when = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${loadAtStart} → ${loadAverage()}`;
  console.log(`README row: | ${[...cells, when].join(' | ')} |`);
}

/** "✔" or "✘ missed" after a target, as the README's table writes it. */
export function met(ok: boolean): string {
  return ok ? '✔' : '✘ missed';
}

/**
 * CPU time of every thread of a process so far, in seconds: the sum of their
 * /proc/<pid>/task/<tid>/schedstat run times (ns on a CPU, user and kernel; /proc/<pid>/stat
 * counts 10 ms ticks, too coarse for collectd's ~0.5 ms a second). A thread that ends between
 * two readings takes its time with it; the workers measured keep theirs.
 */
export function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9;
}

/** One unit, 16 channels over three phases (what the profile polled). */
export function hdhkSixteenChannels(): unknown {
  const channels: Record<string, unknown> = {};
  for (let c = 1; c <= 16; c++) channels[String(c)] = { circuit: `circuit-${c}`, phase: `L${((c - 1) % 3) + 1}`, voltageV: 230 };
  return { units: [{ id: 1, name: 'board', channels }] };
}
