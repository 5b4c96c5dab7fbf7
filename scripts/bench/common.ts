/** Small pieces every benchmark uses. */
import type { ChildProcess } from 'node:child_process';
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
 * of `npm run bench` (issue 24): the cells as given (benchmark, wattline, baseline, ratio,
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
