/**
 * Resident memory of `wattline run` with the simulated P1 meter collected every second
 * (issue target: under 80 MB), and with every simulated device, against a baseline in the same run: a bare Node process
 * that only keeps an interval alive. RSS is read from /proc/<pid>/status every 500 ms.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/run-memory.js
 *   BENCH_SECONDS=60 node dist/scripts/bench/run-memory.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { ROOT } from '../../test/helpers/paths.js';
import { loadAverage, met, printRow, stopChild } from './common.js';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function sample(child: ChildProcess, seconds: number): Promise<{ max: number; last: number }> {
  let max = 0;
  let last = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode !== null) throw new Error(`process exited early with ${child.exitCode}`);
    last = rssMb(child.pid!);
    max = Math.max(max, last);
  }
  return { max, last };
}

function p1Only(): unknown {
  return { outbox: { path: 'outbox.sqlite' }, devices: [{ name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }] };
}

function everyDevice(): unknown {
  return {
    outbox: { path: 'outbox.sqlite' },
    devices: simulatedDeviceEntries('sim', { schedule: '* * * * * *' }),
  };
}

async function measure(config: unknown, seconds: number): Promise<{ max: number; last: number; bare: number; committed: number; cpuS: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mem-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config));
  const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(process.execPath, [...flags, join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'warn', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const [ours, bare] = await Promise.all([sample(worker, seconds), sample(baseline, seconds)]);
    const fields = readFileSync(`/proc/${worker.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir, 'outbox.sqlite'), { readonly: true });
    const committed = (db.prepare('SELECT rows FROM outbox_counters').get() as { rows: number }).rows;
    db.close();
    return { max: ours.max, last: ours.last, bare: bare.max, committed, cpuS };
  } finally {
    await Promise.all([stopChild(worker), stopChild(baseline)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export async function run(seconds = Number(process.env.BENCH_SECONDS ?? 30)): Promise<Record<string, unknown>> {
  const load = loadAverage();
  const p1 = await measure(p1Only(), seconds);
  console.log(`wattline run, simulated P1 every second for ${seconds} s: max RSS ${r1(p1.max)} MB (bare node ${r1(p1.bare)} MB, x${r1(p1.max / p1.bare)}); CPU ${p1.cpuS.toFixed(1)} s; ${p1.committed} points committed`);
  const all = await measure(everyDevice(), seconds);
  console.log(`wattline run, every simulated device every second for ${seconds} s: max RSS ${r1(all.max)} MB; CPU ${all.cpuS.toFixed(1)} s; ${all.committed} points committed`);
  printRow(
    [
      `\`run-memory\`: \`wattline run\`, simulated P1 every second, ${seconds} s`,
      `${r1(p1.max)} MB max RSS`,
      `bare \`node\` process, ${r1(p1.bare)} MB`,
      `${(p1.max / p1.bare).toFixed(1)}×`,
      `< 80 MB ${met(p1.max < 80)}`,
    ],
    load,
  );
  printRow(
    [
      `\`run-memory\`, every simulated device every second, ${seconds} s`,
      `${r1(all.max)} MB max RSS`,
      `bare \`node\`, ${r1(p1.bare)} MB`,
      `${(all.max / p1.bare).toFixed(1)}×`,
      `≤ 80 MB ${met(all.max <= 80)} (issue 24)`,
    ],
    load,
  );
  return {
    bench: 'run-memory',
    seconds,
    rss_max_mb: r1(p1.max),
    rss_last_mb: r1(p1.last),
    baseline_rss_mb: r1(p1.bare),
    ratio: Math.round((p1.max / p1.bare) * 100) / 100,
    cpu_s: p1.cpuS,
    points_committed: p1.committed,
    all_devices_rss_max_mb: r1(all.max),
    all_devices_cpu_s: all.cpuS,
    all_devices_points_committed: all.committed,
    baseline: 'bare node process (setInterval)',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run()));
}
