/**
 * itho-wpu end to end: the project's pigpiod simulator on a loopback TCP port (no real
 * pigpiod on these machines, hence "simulated pigpiod" in the names) with the WPU behind it,
 * polled by `wattline once` through the worker's own TCP link, into a real influxd 1.6.7,
 * and read back by query.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startPigpiodServer, type PigpiodSimulator } from '../../src/simulators/pigpiod.js';
import { runCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { ithoDir, type IthoDir } from '../helpers/itho.js';

const DB = 'itho';
let influxd: Influxd;
let sim: PigpiodSimulator & { port: number };
let d: IthoDir;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, DB);
  sim = await startPigpiodServer({});
  d = ithoDir();
});

after(async () => {
  sim?.stop();
  await influxd?.stop();
  d?.remove();
});

function config(extra: Record<string, unknown> = {}): string {
  const path = join(d.dir, 'wattline.yaml');
  writeFileSync(
    path,
    stringify({
      site: 'e2e',
      outbox: { path: 'outbox.sqlite' },
      influx: { version: 1, url: influxd.url, database: DB, precision: 'ms' },
      devices: [{ name: 'wpu', driver: 'itho-wpu', options: { host: '127.0.0.1', port: sim.port, parameterMap: d.map, cacheDb: join(d.dir, 'cache.sqlite'), ...extra } }],
    }),
  );
  return path;
}

test('simulated pigpiod + WPU → wattline once → real influxd: the datalog and counters arrive decoded and labelled', async () => {
  const r = await runCli(['--config', config(), 'once']);
  assert.equal(r.code, 0, r.stderr);
  const [log] = await query(influxd.url, DB, 'SELECT "t_out", "t_boiltop", "p_sens", "state", "out_ch" FROM "itho_wpu" WHERE "device" = \'wpu\'');
  assert.ok(log, 'itho_wpu arrived');
  assert.deepEqual(log.values[0]!.slice(1), [-10, 44.45, 1.5, 3, 1]);
  const [fields] = await query(influxd.url, DB, 'SHOW FIELD KEYS FROM "itho_wpu"');
  assert.equal(fields!.values.length, 92);
  const types = Object.fromEntries(fields!.values.map((v) => [v[0], v[1]]));
  assert.equal(types.t_out, 'float');
  assert.equal(types.state, 'integer');
  const [cnt] = await query(influxd.url, DB, 'SELECT "cnt_comp_hours" FROM "itho_wpu_counters" WHERE "site" = \'e2e\'');
  assert.equal(cnt!.values[0]![1], 12873);
  // One conversation, all closed: no handle or socket left in the daemon.
  assert.deepEqual(sim.state(), { i2cHandles: 0, notifyHandles: 0, bscOn: false, connections: 0 });
});

test('simulated pigpiod with a WPU that never answers: wattline once exits 1 naming the reason', async () => {
  sim.fault('no-reply', Infinity);
  try {
    const r = await runCli(['--config', config({ retries: 1, replyTimeoutMs: 50 }), 'once']);
    assert.equal(r.code, 1);
    // A new process checks the cached node id first: that is the request that goes unanswered.
    assert.match(r.stderr, /no valid nodeid reply in 2 attempts: no reply in 50 ms/);
  } finally {
    sim.fault(undefined);
  }
});

test("simulated pigpiod: a parameter map without the WPU's list version is a clear error", async () => {
  const old = join(d.dir, 'old-map.sqlite');
  copyFileSync(d.map, old);
  const db = new Database(old);
  db.prepare('DELETE FROM versiebeheer WHERE version = 31').run();
  db.close();
  const r = await runCli(['--config', config({ parameterMap: old, cacheDb: join(d.dir, 'cache-old.sqlite') }), 'once']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /old-map\.sqlite: no list version 31 in versiebeheer \(it has 1 version, 11\.\.11\)/);
});
