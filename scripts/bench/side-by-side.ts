/**
 * Several `wattline run` workers of each kind at once, side by side over the same time, so the
 * machine's noise hits every kind alike (the method of mqtt-cpu.ts, whose README figures it
 * gives): start them interleaved, warm up, then measure each worker's CPU over one window and
 * its peak resident memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../../test/helpers/paths.js';
import { cpuSeconds, stopChild } from './common.js';

/** Peak resident memory of a process (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface WorkerKind {
  name: string;
  /** The config of its n-th worker (1-based), written as YAML into the worker's own folder. */
  config: (n: number) => Promise<unknown> | unknown;
}

export interface SideBySideResult {
  /** Per kind, per worker: CPU seconds over the window, and peak RSS at its end. */
  cpu: Map<string, number[]>;
  peakRss: Map<string, number[]>;
}

/**
 * `perKind` fresh workers of each kind, interleaved; `warmupS`, then one `seconds` window.
 * `during` runs while they do (e.g. a scraper), given each worker's kind and number.
 */
export async function sideBySide(
  kinds: readonly WorkerKind[],
  o: { perKind: number; warmupS: number; seconds: number; during?: (workers: { kind: string; n: number }[], stop: AbortSignal) => Promise<void> },
): Promise<SideBySideResult> {
  const runs: { kind: string; n: number; worker: ChildProcess; dir: string }[] = [];
  const alive = () => {
    for (const { worker } of runs) if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
  };
  const stop = new AbortController();
  let during: Promise<void> = Promise.resolve();
  try {
    for (let n = 1; n <= o.perKind; n++) {
      for (const kind of kinds) {
        const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-'));
        const path = join(dir, 'wattline.yaml');
        writeFileSync(path, stringify(await kind.config(n)));
        const worker = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'error', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
        runs.push({ kind: kind.name, n, worker, dir });
      }
    }
    if (o.during)
      during = o.during(
        runs.map(({ kind, n }) => ({ kind, n })),
        stop.signal,
      );
    await sleep(o.warmupS * 1000);
    alive();
    const before = runs.map(({ worker }) => cpuSeconds(worker.pid!));
    await sleep(o.seconds * 1000);
    alive();
    const cpu = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
    const peakRss = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
    runs.forEach(({ kind, worker }, i) => {
      cpu.get(kind)!.push(cpuSeconds(worker.pid!) - before[i]!);
      peakRss.get(kind)!.push(peakRssBytes(worker.pid!));
    });
    return { cpu, peakRss };
  } finally {
    stop.abort();
    await during.catch(() => undefined);
    for (const { worker, dir } of runs) {
      await stopChild(worker);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round3 = (x: number) => Math.round(x * 1000) / 1000;
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
