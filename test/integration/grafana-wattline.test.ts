/**
 * grafana/wattline.json, the dashboard of the workers themselves, checked without Grafana
 * (none runs here): three workers, each its own `host`, write self-metrics into one real
 * influxd; every panel's InfluxQL, with Grafana's macros expanded as Grafana would for the
 * `host` variable set to All, must return a series for each of the three hosts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../../src/devices/index.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { ROOT } from '../helpers/paths.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

interface Dashboard {
  uid: string;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: { type: string; title: string; repeat?: string; targets?: { query: string; rawQuery?: boolean }[] }[];
}

const DB = 'fleet';
const HOSTS = ['rig-1', 'rig-2', 'rig-3'];
let influxd: Influxd;
let dir: string;
const workers: RunningWorker[] = [];

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, DB);
  dir = mkdtempSync(join(tmpdir(), 'wattline-fleet-'));
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('grafana/wattline.json: every panel returns each of three workers (hosts) writing to one influxd', async () => {
  for (const host of HOSTS) {
    workers.push(
      await startWorker(
        {
          host,
          site: 'fleet-test',
          outbox: { path: `${host}.sqlite`, synchronous: 'normal' },
          influx: { version: 1, url: influxd.url, database: DB, flushIntervalMs: 200 },
          internal: { schedule: '* * * * * *' },
          devices: [{ name: `meter-${host}`, driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
        },
        drivers,
        dir,
      ),
    );
  }
  const dash = JSON.parse(readFileSync(join(ROOT, 'grafana', 'wattline.json'), 'utf8')) as Dashboard;
  assert.ok(
    dash.templating.list.some((v) => v.type === 'datasource'),
    'a datasource variable, so the dashboard imports anywhere',
  );
  assert.ok(
    dash.panels.some((p) => p.type === 'row' && p.repeat === 'host'),
    'one row per host',
  );
  const hostVar = dash.templating.list.find((v) => v.name === 'host')!;

  // Enough rounds for derivatives (two buckets per host at least).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await query(influxd.url, DB, 'SELECT count("uptime_s") FROM "wattline_process" GROUP BY "host"');
    if (rows.length === 3 && rows.every((s) => (s.values[0]![1] as number) >= 4)) break;
    if (Date.now() > deadline) throw new Error(`not enough self-metrics yet: ${JSON.stringify(rows)}`);
    await sleep(500);
  }
  const hosts = (await query(influxd.url, DB, hostVar.query)).flatMap((s) => s.values.map((r) => String(r[1])));
  assert.deepEqual(hosts.sort(), HOSTS);

  const regex = `(${hosts.join('|').replace(/-/g, '\\-')})`;
  const expand = (q: string) => q.replaceAll('$timeFilter', 'time > now() - 1h').replaceAll('$__interval', '1s').replaceAll('$host', regex);
  const targets = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
  assert.ok(targets.length >= 8);
  for (const t of targets) {
    assert.equal(t.rawQuery, true, `${t.panel}: raw InfluxQL, so it is checkable`);
    const series = await query(influxd.url, DB, expand(t.query));
    const withNumbers = series.filter((s) => s.values.some((row) => row.slice(1).some((v) => typeof v === 'number')));
    const seen = [...new Set(withNumbers.map((s) => s.tags?.host))].sort();
    assert.deepEqual(seen, HOSTS, `panel "${t.panel}" must show every host: ${expand(t.query)}`);
  }
});
