/**
 * Every dashboard under grafana/ is checked without Grafana (none runs here): its InfluxQL
 * queries, with Grafana's macros expanded as Grafana would, run against a real influxd 1.6.7
 * filled by `wattline once` from every simulated device, and each must return data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { runCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { ROOT } from '../helpers/paths.js';

interface Target {
  query: string;
  rawQuery?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: { id: number; title: string; targets?: Target[] }[];
}

const DB = 'dashboards';
let influxd: Influxd;
let dir: string;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, DB);
  dir = mkdtempSync(join(tmpdir(), 'wattline-dash-'));
  const config = {
    outbox: { path: 'outbox.sqlite' },
    influx: { version: 1, url: influxd.url, database: DB, precision: 'ms' },
    devices: simulatedDeviceEntries('dash'),
  };
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config));
  // Two collections at least a second apart, so GROUP BY time(1s) and differences have two buckets.
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 0, r.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1100));
  }
});

after(async () => {
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Grafana's InfluxQL macros, expanded the way Grafana does for a multi-value variable. */
function expand(q: string, devices: readonly string[]): string {
  const regex = `(${devices.map((d) => d.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})`;
  return q.replaceAll('$timeFilter', 'time > now() - 1h').replaceAll('$__interval', '1s').replaceAll('$device', regex);
}

// wattline.json shows the workers themselves (self-metrics): grafana-wattline.test.ts checks it.
const files = readdirSync(join(ROOT, 'grafana')).filter((f) => f.endsWith('.json') && f !== 'wattline.json');

test('there are dashboards to check', () => {
  assert.ok(files.includes('p1.json') && files.includes('hdhk.json'), `found ${files.join(', ')}`);
  assert.ok(files.includes('vebus.json'), `found ${files.join(', ')}`);
  assert.ok(files.includes('itho.json'), `found ${files.join(', ')}`);
  assert.ok(files.includes('powerwalker.json'), `found ${files.join(', ')}`);
});

for (const file of files) {
  test(`grafana/${file}: every query returns data from the real InfluxDB`, async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'grafana', file), 'utf8')) as Dashboard;
    assert.ok(dash.uid && dash.title, 'uid and title');
    assert.ok(dash.templating.list.some((v) => v.type === 'datasource'), 'a datasource variable, so the dashboard imports anywhere');

    const deviceVar = dash.templating.list.find((v) => v.name === 'device');
    assert.ok(deviceVar, 'a device variable');
    const tagValues = await query(influxd.url, DB, deviceVar.query);
    // One series per measurement when the query names several (as Grafana, take them all).
    const devices = [...new Set(tagValues.flatMap((series) => series.values.map((row) => String(row[1]))))];
    assert.ok(devices.length > 0, `the device variable's query found no devices: ${deviceVar.query}`);

    const targets = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
    assert.ok(targets.length > 0);
    for (const t of targets) {
      assert.equal(t.rawQuery, true, `${t.panel}: raw InfluxQL, so it is checkable`);
      const series = await query(influxd.url, DB, expand(t.query, devices));
      const values = series.flatMap((s) => s.values.flatMap((row) => row.slice(1)));
      assert.ok(
        values.some((v) => typeof v === 'number'),
        `${file} panel "${t.panel}" returned no numbers: ${expand(t.query, devices)}`,
      );
    }
  });
}
