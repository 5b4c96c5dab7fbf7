/**
 * Reliability promise: the worker killed with SIGKILL at random moments while it collects
 * and flushes loses nothing it committed, and re-sending never makes a second point.
 * Real parts: `wattline run` as a process, its SQLite outbox, a real influxd 1.6.7; the
 * devices are the project's simulated P1 meters (no serial hardware needed for this promise).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';

const ROUNDS = 8;
const DEVICES = ['m1', 'm2', 'm3'];
let influxd: Influxd;
let dir: string;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, 'kill');
  dir = mkdtempSync(join(tmpdir(), 'wattline-kill-'));
});

after(async () => {
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `p1,...device=m2,... ... 1795624456255` → `m2@1795624456255` */
function pointKey(line: string): string | null {
  if (!line.startsWith('p1,')) return null;
  const device = /,device=([^, ]+)/.exec(line)?.[1];
  const time = /\s(\d+)$/.exec(line)?.[1];
  return device && time ? `${device}@${time}` : null;
}

test('SIGKILL at random moments while collecting and flushing: every committed point arrives once', async (t) => {
  const config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    [
      'echo: true',
      'log: { level: warn, format: json }',
      'outbox: { path: outbox.sqlite }',
      `influx: { version: 1, url: "${influxd.url}", database: kill, precision: ms, batchSize: 2, flushIntervalMs: 50, minRetryDelayMs: 50 }`,
      'devices:',
      ...DEVICES.flatMap((name) => [`  - name: ${name}`, '    driver: dsmr-p1', '    simulate: true', '    schedule: "* * * * * *"']),
      '',
    ].join('\n'),
  );

  const committed = new Set<string>();
  // A loaded machine starts the worker slowly: after the planned rounds, extra rounds that
  // live longer until enough points were committed for the check below to mean something.
  for (let round = 0; round < ROUNDS || (committed.size < ROUNDS && round < ROUNDS + 4); round++) {
    const worker = startCli(['--config', config, 'run']);
    // Kill somewhere between mid-startup and several collections in, never on a boundary we choose.
    const lifetime = (round < ROUNDS ? 700 : 3000) + Math.floor(Math.random() * 2600);
    await new Promise((r) => setTimeout(r, lifetime));
    worker.child.kill('SIGKILL');
    await worker.exited;
    // Echo is written after the job's outbox transaction commits: every echoed line is committed.
    for (const line of worker.output().stdout.split('\n')) {
      const key = pointKey(line);
      if (key) committed.add(key);
    }
  }
  assert.ok(committed.size >= ROUNDS, `expected the rounds to commit points, got ${committed.size}`);

  // What the killed runs left behind goes out now.
  const drain = await runCli(['--config', config, 'drain', '--no-progress']);
  assert.equal(drain.code, 0, drain.stderr);
  const left = await runCli(['--config', config, 'buffer', '--json']);
  assert.equal(JSON.parse(left.stdout).rows, 0);

  const series = await query(influxd.url, 'kill', 'SELECT "power_import_w", "device" FROM "p1"');
  const rows = series[0]?.values ?? [];
  const arrived = new Set<string>();
  for (const [time, , device] of rows) arrived.add(`${device}@${Date.parse(time as string)}`);

  t.diagnostic(`committed (echoed) ${committed.size}, arrived ${arrived.size}`);
  const missing = [...committed].filter((k) => !arrived.has(k));
  assert.deepEqual(missing, [], `${missing.length} committed points never arrived`);
  // Points committed in the instant before a kill may arrive without having been echoed;
  // at most one collection per device per kill. Anything beyond that would be a duplicate.
  assert.ok(arrived.size <= committed.size + ROUNDS * DEVICES.length, `arrived ${arrived.size} > committed ${committed.size} + ${ROUNDS * DEVICES.length}`);
});
