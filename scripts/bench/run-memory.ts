/**
 * Resident memory of `wattline run` with the simulated P1 meter collected every second
 * (issue target: under 80 MB), against a baseline in the same run: a bare Node process
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
import { ROOT } from '../../test/helpers/paths.js';

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

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function run(seconds = Number(process.env.BENCH_SECONDS ?? 30)): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mem-'));
  const config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    ['outbox: { path: outbox.sqlite }', 'devices:', '  - name: meter', '    driver: dsmr-p1', '    simulate: true', '    schedule: "* * * * * *"', ''].join('\n'),
  );
  const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const worker = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), join(ROOT, 'dist/src/cli/main.js'), '--config', config, '--log-level', 'warn', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const [ours, bare] = await Promise.all([sample(worker, seconds), sample(baseline, seconds)]);
    const rows = (await import('better-sqlite3')).default;
    const db = new rows(join(dir, 'outbox.sqlite'), { readonly: true });
    const committed = (db.prepare('SELECT rows FROM outbox_counters').get() as { rows: number }).rows;
    db.close();
    const result = {
      bench: 'run-memory',
      seconds,
      rss_max_mb: Math.round(ours.max * 10) / 10,
      rss_last_mb: Math.round(ours.last * 10) / 10,
      baseline_rss_mb: Math.round(bare.max * 10) / 10,
      ratio: Math.round((ours.max / bare.max) * 100) / 100,
      points_committed: committed,
      baseline: 'bare node process (setInterval)',
    };
    console.log(`wattline run, simulated P1 every second for ${seconds} s: max RSS ${result.rss_max_mb} MB (bare node ${result.baseline_rss_mb} MB, ×${result.ratio}); ${committed} points committed`);
    return result;
  } finally {
    await Promise.all([stop(worker), stop(baseline)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run()));
}
