/**
 * Reloading a running worker's config while it collects and flushes into a real influxd
 * (simulated devices: no PDU, ATS or Multiplus on this machine). Five reloads: add a device,
 * change a schedule (and the influx batch size, so the flusher is replaced under load), remove
 * a device, an invalid edit (refused, nothing changes), and back to the first config. Then
 * every line the worker committed is looked up by query: none lost, none extra, and the added
 * device's points among them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { createDatabase, query, quoteIdent, startInfluxd, timeNs, type Influxd } from '../helpers/influxd.js';
import { startWorker } from '../helpers/worker-run.js';
import { until } from '../helpers/until.js';

const DB = 'reload';
let influxd: Influxd;
let dir = '';

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, DB);
  dir = mkdtempSync(join(tmpdir(), 'wattline-reload-'));
});
after(async () => {
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Shape {
  pduSchedule?: string;
  ats?: boolean;
  mp2?: boolean;
  batchSize?: number;
}

function raw(shape: Shape): Record<string, unknown> {
  const devices: Record<string, unknown>[] = [{ name: 'pdu', driver: 'powerwalker-pdu', simulate: true, schedule: shape.pduSchedule ?? '*/2 * * * * *' }];
  if (shape.ats ?? true) devices.push({ name: 'ats', driver: 'powerwalker-ats', simulate: true, schedule: '* * * * * *' });
  if (shape.mp2) devices.push({ name: 'mp2', driver: 'victron-vebus', simulate: true, schedule: '* * * * * *' });
  return {
    site: 'reload-test',
    // Self-metrics are committed too but are no device's report: this test counts device points.
    internal: { enabled: false },
    outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
    // Small batches, flushed often: reloads land while a request is in flight.
    influx: { version: 1, url: influxd.url, database: DB, precision: 'ms', batchSize: shape.batchSize ?? 7, flushIntervalMs: 50, gzip: false },
    devices,
  };
}

/** What the test would write to the file: validated exactly as `run` validates a file. */
function loaded(shape: Shape): LoadedConfig {
  return { config: validate(raw(shape), drivers, 'test config'), path: null, dir, demo: false };
}

/** `measurement,tags ms` for a committed line (tags are sorted by the encoder). */
function lineKey(line: string): string {
  const space = line.search(/(?<!\\) /);
  return `${line.slice(0, space)} ${line.slice(line.lastIndexOf(' ') + 1)}`;
}

async function storedKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  const measurements = (await query(influxd.url, DB, 'SHOW MEASUREMENTS'))[0]?.values.map((v) => String(v[0])) ?? [];
  for (const m of measurements) {
    for (const series of await query(influxd.url, DB, `SELECT * FROM ${quoteIdent(m)} GROUP BY *`)) {
      const tags = Object.entries(series.tags ?? {})
        .filter(([, v]) => v !== '')
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `,${k}=${v}`)
        .join('');
      for (const row of series.values) keys.add(`${series.name}${tags} ${timeNs(String(row[0])) / 1_000_000n}`);
    }
  }
  return keys;
}

test('five reloads while collecting and flushing into influxd: no committed point lost or duplicated, the added device arrives', async () => {
  const run = await startWorker(raw({}), drivers, dir);
  const { worker } = run;
  const sessionOf = (name: string) => worker.devices.get(name)?.session;
  const reportsOf = (name: string, since = 0) => run.reports.slice(since).filter((r) => r.device === name);
  try {
    await until('first collections', () => reportsOf('pdu').length >= 2 && reportsOf('ats').length >= 2, 15_000);

    // 1. Add a device: it collects; the others keep their sessions (open ports) and jobs.
    const pduSession = sessionOf('pdu');
    const atsSession = sessionOf('ats');
    const flusher = worker.flusher;
    let plan = await worker.reload(loaded({ mp2: true }));
    assert.deepEqual(
      plan.added.map((d) => d.name),
      ['mp2'],
    );
    assert.deepEqual([plan.removed, plan.changed.map((d) => d.name)], [[], []]);
    assert.equal(sessionOf('pdu'), pduSession);
    assert.equal(sessionOf('ats'), atsSession);
    assert.equal(worker.flusher, flusher, 'influx unchanged: the flusher and its batch in flight are left alone');
    let mark = run.reports.length;
    await until('the added device', () => reportsOf('mp2', mark).length >= 2, 15_000);

    // 2. Change a schedule (and the influx batch size: a new flusher, the old one's batch finishes first).
    plan = await worker.reload(loaded({ mp2: true, pduSchedule: '* * * * * *', batchSize: 11 }));
    assert.deepEqual(
      plan.changed.map((d) => d.name),
      ['pdu'],
    );
    assert.equal(plan.influxChanged, true);
    assert.notEqual(worker.flusher, flusher);
    assert.equal(worker.flusher?.status().running, true);
    assert.notEqual(sessionOf('pdu'), pduSession, 'a changed device gets a new session');
    assert.equal(sessionOf('ats'), atsSession);
    assert.equal(worker.scheduler.status().find((s) => s.name === 'pdu')?.cron, '* * * * * *');
    mark = run.reports.length;
    await until('pdu on its new schedule', () => reportsOf('pdu', mark).length >= 3, 15_000);

    // 3. Remove a device: its job stops, nothing of it is collected after the reload.
    plan = await worker.reload(loaded({ mp2: true, pduSchedule: '* * * * * *', batchSize: 11, ats: false }));
    assert.deepEqual(plan.removed, ['ats']);
    assert.equal(worker.devices.has('ats'), false);
    mark = run.reports.length;
    await until('collection after the removal', () => reportsOf('mp2', mark).length >= 2, 15_000);
    assert.equal(reportsOf('ats', mark).length, 0);

    // 4. An invalid edit (a cron field out of range): refused, nothing changes.
    const running = worker.scheduler.status().map((s) => `${s.name} ${s.cron}`);
    const mp2Session = sessionOf('mp2');
    await assert.rejects(
      async () => worker.reload(loaded({ mp2: true, pduSchedule: '*/61 * * * * *', batchSize: 11, ats: false })),
      (e: unknown) => e instanceof ConfigError && /61/.test(e.message),
    );
    assert.deepEqual(
      worker.scheduler.status().map((s) => `${s.name} ${s.cron}`),
      running,
    );
    assert.equal(sessionOf('mp2'), mp2Session);
    assert.deepEqual([...worker.devices.keys()].sort(), ['mp2', 'pdu']);

    // 5. Back to the first config.
    plan = await worker.reload(loaded({}));
    assert.deepEqual([plan.added.map((d) => d.name), plan.removed, plan.changed.map((d) => d.name)], [['ats'], ['mp2'], ['pdu']]);
    mark = run.reports.length;
    await until('the reverted config collecting', () => reportsOf('ats', mark).length >= 2 && reportsOf('pdu', mark).length >= 1, 15_000);

    // Collection ends; the flusher sends what is left.
    await worker.scheduler.stop();
    await until('the outbox to empty', () => worker.outbox!.stats().rows === 0, 30_000);
  } finally {
    await run.stop();
  }

  assert.equal(run.logged(/config reloaded/).length, 4);
  const committed = new Set(run.reports.flatMap((r) => r.lines.map(lineKey)));
  const stored = await storedKeys();
  const lost = [...committed].filter((k) => !stored.has(k));
  const extra = [...stored].filter((k) => !committed.has(k));
  assert.deepEqual(lost, [], 'committed points missing from influxd');
  assert.deepEqual(extra, [], 'points in influxd nobody committed');
  assert.ok(
    [...stored].some((k) => k.startsWith('vebus,device=mp2')),
    'the added device reached influxd',
  );
  assert.ok(committed.size > 100, `enough points to mean something (${committed.size})`);
});
