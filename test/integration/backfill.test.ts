/**
 * Capture archive and backfill (docs/capture.md) end to end, against a real influxd 1.6.7: a run of
 * simulated devices (the project's own P1, HDHK and UPS simulators behind the same transports)
 * with capture on, the database dropped and rebuilt from the archive; a re-decode with a changed
 * ctRatio; a P1 telegram log with broken telegrams; backfills interrupted by SIGTERM and SIGKILL
 * and resumed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd, type Influxd, type Series } from '../helpers/influxd.js';
import { fixture } from '../helpers/paths.js';
import { p1Log } from '../helpers/p1-log.js';

let dir: string;
let influxd: Influxd;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-backfill-'));
  influxd = await startInfluxd();
});
after(async () => {
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const HDHK_OPTIONS = (garageRatio: number) => `
    options:
      units:
        - id: 1
          name: board-a
          channels: { "1": { circuit: oven, phase: L1, voltageV: 230 }, "2": { circuit: dishwasher, phase: L2, voltageV: 230 } }
        - id: 2
          name: board-b
          channels: { "16": { circuit: garage, phase: L3, ctRatio: ${garageRatio} } }`;

function simulatedConfig(folder: string, db: string, garageRatio: number): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `wattline-${garageRatio}.yaml`);
  writeFileSync(
    path,
    [
      'log: { level: warn }',
      'outbox: { path: outbox.sqlite, synchronous: normal }',
      // Self-metrics have no captures to backfill from: this test compares device data.
      'internal: { enabled: false }',
      `influx: { version: 1, url: "${influxd.url}", database: ${db}, flushIntervalMs: 200 }`,
      'devices:',
      '  - name: meter',
      '    driver: dsmr-p1',
      '    simulate: true',
      '    schedule: "* * * * * *"',
      '    capture: on',
      '    options: { mode: every }',
      '  - name: bus',
      '    driver: hdhk',
      '    simulate: true',
      '    schedule: "* * * * * *"',
      '    capture: on' + HDHK_OPTIONS(garageRatio),
      '  - name: ups',
      '    driver: nut-ups',
      '    simulate: true',
      '    schedule: "* * * * * *"',
      '    capture: on',
      '    options: { ups: demo }',
      '',
    ].join('\n'),
  );
  return path;
}

async function measurements(db: string): Promise<string[]> {
  const s = await query(influxd.url, db, 'SHOW MEASUREMENTS');
  return (s[0]?.values ?? []).map((v) => String(v[0])).sort();
}

/** Each measurement's every series and row, up to `until` (RFC 3339) per measurement when given. */
async function dump(db: string, names: readonly string[], until?: Map<string, string>): Promise<Map<string, Series[]>> {
  const out = new Map<string, Series[]>();
  for (const m of names) {
    const where = until?.get(m) ? ` WHERE time <= '${until.get(m)}'` : '';
    out.set(m, await query(influxd.url, db, `SELECT * FROM "${m}"${where} GROUP BY *`));
  }
  return out;
}

function lastTimes(d: Map<string, Series[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [m, series] of d)
    out.set(
      m,
      series
        .flatMap((s) => s.values.map((v) => String(v[0])))
        .sort()
        .at(-1)!,
    );
  return out;
}

describe('capture during a simulated run, drop the database, backfill (simulated devices)', () => {
  const folder = () => join(dir, 'sim');
  let names: string[] = [];
  let original: Map<string, Series[]>;

  before(async () => {
    await createDatabase(influxd.url, 'sim');
    const config = simulatedConfig(folder(), 'sim', 0.02);
    const run = startCli(['--config', config, 'run']);
    await new Promise((r) => setTimeout(r, 6500));
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output().stderr);
    const d = await runCli(['--config', config, 'drain', '--no-progress']);
    assert.equal(d.code, 0, d.stderr);
    names = await measurements('sim');
    original = await dump('sim', names);
  });

  test('the same series, timestamps and values come back, query for query', async () => {
    assert.deepEqual(names, ['hdhk', 'hdhk_phase', 'p1', 'p1_mbus', 'ups']);
    for (const [m, s] of original) assert.ok(s.reduce((n, x) => n + x.values.length, 0) >= 2, `${m}: a few points from the run: ${JSON.stringify(s)}`);
    const config = simulatedConfig(folder(), 'sim', 0.02);

    await query(influxd.url, '', 'DROP DATABASE sim');
    await createDatabase(influxd.url, 'sim');
    assert.deepEqual(await measurements('sim'), []);
    for (const device of ['meter', 'bus', 'ups']) {
      const b = await runCli(['--config', config, 'backfill', '--device', device, '--no-progress']);
      assert.equal(b.code, 0, `${device}: ${b.stderr}`);
      assert.match(b.stderr, /points sent to InfluxDB/);
    }
    // The archive also holds what arrived after a device's last committed collection (the
    // telegram or poll under way at SIGTERM): compare up to each measurement's last original time.
    assert.deepEqual(await dump('sim', names, lastTimes(original)), original);
  });

  test('a changed ctRatio gives new values at the original timestamps', async () => {
    const config = simulatedConfig(folder(), 'sim', 0.04);
    const b = await runCli(['--config', config, 'backfill', '--device', 'bus', '--no-progress']);
    assert.equal(b.code, 0, b.stderr);
    const q = `SELECT current_a FROM hdhk WHERE circuit = 'garage' AND time <= '${lastTimes(original).get('hdhk')}'`;
    const before = original
      .get('hdhk')!
      .filter((s) => s.tags?.circuit === 'garage')
      .flatMap((s) => s.values.map((v) => [v[0], v[s.columns.indexOf('current_a')]]));
    const now = (await query(influxd.url, 'sim', q))[0]!.values;
    assert.equal(now.length, before.length);
    assert.ok(before.length >= 2);
    for (let i = 0; i < now.length; i++) {
      assert.equal(now[i]![0], before[i]![0], 'same timestamp');
      assert.ok(Math.abs(Number(now[i]![1]) - 2 * Number(before[i]![1])) < 1e-4, `${now[i]![1]} is twice ${before[i]![1]}`);
    }
  });

  test('a range with no captures, and a device without captures, are clear errors', async () => {
    const config = simulatedConfig(folder(), 'sim', 0.02);
    const r = await runCli(['--config', config, 'backfill', '--device', 'bus', '--from', '2001-01-01T00:00:00Z', '--to', '2001-01-02T00:00:00Z']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no captures of device bus between 2001-01-01T00:00:00.000Z and 2001-01-02T00:00:00.000Z \(its captures run from 20\d\d-/);
    const u = await runCli(['--config', config, 'backfill', '--device', 'nobody']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /no device named "nobody" in the config \(devices: meter, bus, ups\)/);
  });

  test('captures export → decode gives the same lines as backfill --dry-run, for every driver', async () => {
    const config = simulatedConfig(folder(), 'sim', 0.02);
    for (const [device, driver] of [
      ['meter', 'dsmr-p1'],
      ['bus', 'hdhk'],
      ['ups', 'nut-ups'],
    ] as const) {
      const file = join(folder(), `${device}.jsonl`);
      const e = await runCli(['--config', config, 'captures', 'export', '--device', device, '-o', file]);
      assert.equal(e.code, 0, e.stderr);
      const dry = await runCli(['--config', config, 'backfill', '--device', device, '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      const opts = driver === 'hdhk' ? ['-o', `units=${JSON.stringify(JSON.parse(JSON.stringify(hdhkUnits())))}`] : driver === 'nut-ups' ? ['-o', 'ups=demo'] : ['-o', 'mode=every'];
      const dec = await runCli(['decode', driver, file, '--device', device, ...opts]);
      assert.equal(dec.code, 0, dec.stderr);
      assert.ok(dry.stdout.length > 0);
      assert.equal(dec.stdout, dry.stdout, `${device}: decode of the exported file = backfill --dry-run`);
    }
  });
});

describe('captures import (simulated devices)', () => {
  test('an exported archive imported elsewhere re-decodes to the same lines; stats count it', async () => {
    const from = simulatedConfig(join(dir, 'sim'), 'sim', 0.02);
    const exported = join(dir, 'sim', 'all.jsonl');
    assert.equal((await runCli(['--config', from, 'captures', 'export', '-o', exported])).code, 0);
    const to = simulatedConfig(join(dir, 'imported'), 'sim', 0.02);
    const imp = await runCli(['--config', to, 'captures', 'import', exported]);
    assert.equal(imp.code, 0, imp.stderr);
    const [a, b] = await Promise.all([runCli(['--config', from, 'captures', 'stats', '--json']), runCli(['--config', to, 'captures', 'stats', '--json'])]);
    const counts = (r: { stdout: string }) => (JSON.parse(r.stdout) as { devices: { device: string; records: number }[] }).devices.map((d) => [d.device, d.records]);
    assert.deepEqual(counts(b), counts(a));
    assert.equal(counts(a).length, 3);
    for (const device of ['meter', 'bus', 'ups']) {
      const [x, y] = await Promise.all([runCli(['--config', from, 'backfill', '--device', device, '--dry-run']), runCli(['--config', to, 'backfill', '--device', device, '--dry-run'])]);
      assert.ok(x.stdout.length > 0);
      assert.equal(y.stdout, x.stdout, device);
    }
    const bad = join(dir, 'imported', 'bad.jsonl');
    writeFileSync(bad, '{"time":1,"direction":"rx","hex":"00"}\n');
    const r = await runCli(['--config', to, 'captures', 'import', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.jsonl:1: record names no device: give --device/);
  });
});

function hdhkUnits() {
  return [
    { id: 1, name: 'board-a', channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 }, '2': { circuit: 'dishwasher', phase: 'L2', voltageV: 230 } } },
    { id: 2, name: 'board-b', channels: { '16': { circuit: 'garage', phase: 'L3', ctRatio: 0.02 } } },
  ];
}

function p1Config(folder: string, db: string, createDatabase = true): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'wattline.yaml');
  writeFileSync(
    path,
    [
      'log: { level: warn }',
      'outbox: { path: outbox.sqlite, synchronous: normal }',
      `influx: { version: 1, url: "${influxd.url}", database: ${db}, batchSize: 5000, createDatabase: ${createDatabase} }`,
      'devices:',
      '  - { name: meter, driver: dsmr-p1, port: { path: /dev/ttyP1 }, options: { timezone: Europe/Stockholm } }',
      '',
    ].join('\n'),
  );
  return path;
}

test('a P1 telegram log with broken telegrams: the good ones arrive, the broken are counted and named', async () => {
  await createDatabase(influxd.url, 'mixed');
  const config = p1Config(join(dir, 'mixed'), 'mixed');
  const r = await runCli(['--config', config, 'backfill', '--driver', 'dsmr-p1', '--input', fixture('dsmr-p1', 'log-mixed', 'telegram.txt'), '--no-progress']);
  assert.equal(r.code, 1, 'problems make exit 1');
  assert.match(r.stderr, /telegram 2 \(line 45\): a new telegram \('\/'\) began before this one ended/);
  assert.match(r.stderr, /telegram 4 \(line 104\): CRC mismatch: computed D931, telegram says 2B41/);
  assert.match(r.stderr, /into 2 points; 2 problems/);
  const rows = (await query(influxd.url, 'mixed', 'SELECT power_import_w FROM p1'))[0]!.values;
  assert.deepEqual(rows, [
    ['2021-02-17T17:40:19Z', 1727],
    ['2021-08-28T14:24:53Z', 532],
  ]);
});

test('a file in an unknown format: line and reason, nothing written', async () => {
  const folder = join(dir, 'badfile');
  const config = p1Config(folder, 'badfile');
  const file = join(folder, 'bad.jsonl');
  writeFileSync(file, '{"time":"2026-01-01T00:00:00Z","direction":"rx","hex":"00"}\n{"time":"yesterday","direction":"rx","hex":"00"}\n');
  const r = await runCli(['--config', config, 'backfill', '--driver', 'hdhk', '--input', file, '--device', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.jsonl:2: "time" must be an ISO 8601 time or Unix ms, got "yesterday"/);
  const other = await runCli(['--config', config, 'backfill', '--driver', 'hdhk', '--input', fixture('dsmr-p1', 'log-mixed', 'telegram.txt'), '--device', 'x']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /telegram\.txt:1: unknown format: expected a capture file \(JSON lines/);
  assert.equal(existsSync(join(folder, 'outbox.backfill.sqlite')), false);
});

describe('interrupted backfills resume to the same contents as an uninterrupted run', () => {
  const TELEGRAMS = 40_000;
  let log: string;
  let reference: Map<string, Series[]>;

  before(async () => {
    log = join(dir, 'day.log');
    writeFileSync(log, p1Log(TELEGRAMS));
    await createDatabase(influxd.url, 'ref');
    const r = await runCli(['--config', p1Config(join(dir, 'ref'), 'ref'), 'backfill', '--driver', 'dsmr-p1', '--input', log, '--no-progress'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    reference = await dump('ref', ['p1']);
    assert.equal(reference.get('p1')![0]!.values.length, TELEGRAMS);
  });

  /** Wait until the run has committed something (its checkpoint row exists). */
  async function checkpointed(folder: string): Promise<void> {
    const file = join(folder, 'outbox.backfill.sqlite');
    for (let i = 0; i < 400; i++) {
      if (existsSync(file)) {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          db.pragma('busy_timeout = 1000');
          const row = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'backfill_checkpoints'").get() as { n: number };
          if (row.n > 0 && (db.prepare('SELECT count(*) AS n FROM backfill_checkpoints').get() as { n: number }).n > 0) return;
        } catch {
          /* being created */
        } finally {
          db.close();
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the backfill never committed a checkpoint');
  }

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`${signal}, then the same command again`, async () => {
      const db = signal.toLowerCase();
      const folder = join(dir, db);
      await createDatabase(influxd.url, db);
      const config = p1Config(folder, db);
      const args = ['--config', config, 'backfill', '--driver', 'dsmr-p1', '--input', log, '--no-progress'];
      const first = startCli(args);
      await checkpointed(folder);
      first.child.kill(signal);
      const code = await first.exited;
      if (signal === 'SIGTERM') {
        assert.equal(code, 1, first.output().stderr);
        assert.match(first.output().stderr, /backfill interrupted: what was committed stays; run the same command again to continue/);
      }
      const again = await runCli(args, { timeoutMs: 120_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /resumed an interrupted run \(\d+ already done\)/);
      assert.deepEqual(await dump(db, ['p1']), reference);
    });
  }

  test('running a finished backfill again overwrites: same contents, no duplicates', async () => {
    const r = await runCli(['--config', p1Config(join(dir, 'ref'), 'ref'), 'backfill', '--driver', 'dsmr-p1', '--input', log, '--no-progress'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /resumed/);
    assert.deepEqual(await dump('ref', ['p1']), reference);
  });
});

test('an archive that cannot be written never stops collection', async () => {
  const folder = join(dir, 'nocapture');
  mkdirSync(folder, { recursive: true });
  const config = join(folder, 'wattline.yaml');
  // A file that is not SQLite where the archive should be: it cannot open. (A folder that cannot
  // take the archive is refused at start, as a config error: config-check.test.ts.)
  writeFileSync(join(folder, 'capture.sqlite'), 'not a database, but long enough to have a header: '.repeat(4));
  writeFileSync(
    config,
    ['echo: true', 'log: { level: warn, format: json }', 'outbox: { path: outbox.sqlite }', 'capture: { path: capture.sqlite }', 'devices:', '  - { name: meter, driver: dsmr-p1, simulate: true, capture: on }', ''].join(
      '\n',
    ),
  );
  const r = await runCli(['--config', config, 'once']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /capture archive failed; collection goes on without it/);
  assert.match(r.stdout, /^p1,device=meter /m, 'collected and committed all the same');
});

test('--help answers on the new verbs', async () => {
  for (const verb of [['backfill'], ['captures'], ['captures', 'stats'], ['captures', 'export'], ['captures', 'import']]) {
    const r = await runCli([...verb, '--help']);
    assert.equal(r.code, 0, `wattline ${verb.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: wattline/);
  }
});

test('InfluxDB refusing (missing database): the backfill stops, keeps its points, and drain sends them later', async () => {
  const folder = join(dir, 'later');
  const config = p1Config(folder, 'later', false);
  const log = join(folder, 'small.log');
  writeFileSync(log, p1Log(3000));
  const r = await runCli(['--config', config, 'backfill', '--driver', 'dsmr-p1', '--input', log, '--no-progress']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wattline: InfluxDB: .*database not found.*the rest waits in .*outbox\.backfill\.sqlite/);
  const b = await runCli(['--config', config, 'buffer']);
  assert.match(b.stdout, /^backfill: +3000 points pending in .*outbox\.backfill\.sqlite \(sent after the live points\)/m);
  await createDatabase(influxd.url, 'later');
  // `drain` sends the live outbox and then the backfill file beside it.
  const d = await runCli(['--config', config, 'drain', '--no-progress']);
  assert.equal(d.code, 0, d.stderr);
  const rows = await query(influxd.url, 'later', 'SELECT count(power_import_w) FROM p1');
  assert.equal(rows[0]!.values[0]![1], 3000);
});

test('wattline run sends a queued backfill (--queue-only) beside its live points (simulated P1)', async () => {
  const folder = join(dir, 'queued');
  mkdirSync(folder, { recursive: true });
  await createDatabase(influxd.url, 'queued');
  const config = join(folder, 'wattline.yaml');
  writeFileSync(
    config,
    [
      'log: { level: warn }',
      'outbox: { path: outbox.sqlite, synchronous: normal }',
      `influx: { version: 1, url: "${influxd.url}", database: queued, flushIntervalMs: 100, batchSize: 2000 }`,
      'devices:',
      '  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "* * * * * *", options: { timezone: Europe/Amsterdam } }',
      '',
    ].join('\n'),
  );
  const log = join(folder, 'queued.log');
  writeFileSync(log, p1Log(20_000));
  const q = await runCli(['--config', config, 'backfill', '--driver', 'dsmr-p1', '--input', log, '--device', 'meter', '--queue-only', '--no-progress'], { timeoutMs: 120_000 });
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stderr, /queued in .*outbox\.backfill\.sqlite/);
  const run = startCli(['--config', config, 'run']);
  const started = Date.now();
  const counts = async () => {
    const old = await query(influxd.url, 'queued', "SELECT count(power_import_w) FROM p1 WHERE time >= '2026-01-10T00:00:00Z' AND time < '2026-02-01T00:00:00Z'");
    const live = await query(influxd.url, 'queued', `SELECT count(power_import_w) FROM p1 WHERE time > ${(started - 60_000) * 1_000_000}`);
    return { old: Number(old[0]?.values[0]?.[1] ?? 0), live: Number(live[0]?.values[0]?.[1] ?? 0) };
  };
  let c = await counts();
  for (let i = 0; i < 200 && (c.old < 20_000 || c.live < 3); i++) {
    await new Promise((r) => setTimeout(r, 100));
    c = await counts();
  }
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.deepEqual([c.old, c.live >= 3], [20_000, true], 'every backfilled point and the live ones arrived');
});
