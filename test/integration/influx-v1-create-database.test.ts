/**
 * influx.createDatabase (InfluxDB 1.x), against a real influxd 1.6.7: a missing database is
 * created once, on the first 404 "database not found", through /query with the writer's own
 * credentials, and the batch goes again; `false` keeps the 404 a refusal that keeps every
 * point; a user who may not create databases gets one clear line and no CREATE loop. How many
 * CREATEs were sent is read from influxd's own request counters (/debug/vars, httpd queryReq).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import { runCli, startCli } from '../helpers/cli.js';
import { query, startInfluxd, type Credentials, type Influxd } from '../helpers/influxd.js';
import { until } from '../helpers/until.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-createdb-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** influxd's count of /query and /write requests since it started. */
async function requests(influxd: Influxd): Promise<{ query: number; write: number }> {
  const vars = (await (await fetch(`${influxd.url}/debug/vars`, { signal: AbortSignal.timeout(10_000) })).json()) as Record<string, { name?: string; values?: Record<string, number> }>;
  const httpd = Object.values(vars).find((v) => v?.name === 'httpd')?.values;
  assert.ok(httpd, 'influxd /debug/vars has httpd statistics');
  return { query: httpd.queryReq ?? 0, write: httpd.writeReq ?? 0 };
}

async function databases(influxd: Influxd, auth?: Credentials): Promise<string[]> {
  return (await query(influxd.url, '', 'SHOW DATABASES', auth)).flatMap((s) => (s.values ?? []).map((v) => String(v[0])));
}

/** Every point of `db` (all measurements): rows of `SELECT *`. */
async function points(influxd: Influxd, db: string): Promise<number> {
  return (await query(influxd.url, db, 'SELECT * FROM /.*/')).reduce((n, s) => n + s.values.length, 0);
}

function config(name: string, influx: string, schedule = '*/10 * * * * *'): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, ['log: { format: json }', `outbox: { path: ${name}.sqlite }`, `influx: { ${influx} }`, 'devices:', `  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "${schedule}" }`, ''].join('\n'));
  return path;
}

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l));

describe('influxd without auth', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd();
  });
  after(async () => {
    await influxd?.stop();
  });

  test('once against a database that does not exist: created (one line), and it holds the points', async () => {
    assert.ok(!(await databases(influxd)).includes('fresh'));
    const path = config('fresh', `version: 1, url: "${influxd.url}", database: fresh, precision: ms`);
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lines(r.stderr, /did not exist: created it/).length, 1, r.stderr);
    assert.match(r.stderr, /"msg":"database \\"fresh\\" did not exist: created it \(influx\.createDatabase\)"/);
    assert.ok((await databases(influxd)).includes('fresh'));
    const collected = lines(r.stderr, /"msg":"collected"/).reduce((n, l) => n + (JSON.parse(l) as { points: number }).points, 0);
    assert.ok(collected > 0, r.stderr);
    assert.equal(await points(influxd, 'fresh'), collected);
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.equal((JSON.parse(b.stdout) as { rows: number }).rows, 0);
  });

  test('createDatabase: false: exit 1, the database is not made, the points stay in the outbox', async () => {
    const path = config('nocreate', `version: 1, url: "${influxd.url}", database: nocreate, precision: ms, createDatabase: false`);
    const before = await requests(influxd);
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /database not found: \\"nocreate\\" \(influx\.createDatabase is false: create it, or set it to true\)/);
    assert.equal((await requests(influxd)).query, before.query, 'no CREATE sent');
    assert.ok(!(await databases(influxd)).includes('nocreate'));
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.ok((JSON.parse(b.stdout) as { rows: number }).rows > 0, b.stdout);
  });

  test('a database dropped while the writer lives is created again, once per successful write in between', async () => {
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void logged.push(s) });
    const w = new InfluxV1Writer({ url: influxd.url, database: 'dropped', timeoutMs: 10_000, gzip: true, createDatabase: true }, log);
    try {
      let q = (await requests(influxd)).query;
      assert.deepEqual(await w.write(['m v=1 1700000000'], 's'), { kind: 'ok', status: 204 });
      assert.equal((await requests(influxd)).query - q, 1, 'one CREATE');
      assert.deepEqual(await w.write(['m v=2 1700000001'], 's'), { kind: 'ok', status: 204 });
      await query(influxd.url, '', 'DROP DATABASE "dropped"');
      q = (await requests(influxd)).query;
      assert.deepEqual(await w.write(['m v=3 1700000002'], 's'), { kind: 'ok', status: 204 });
      assert.equal((await requests(influxd)).query - q, 1, 'one CREATE again');
      assert.equal(await points(influxd, 'dropped'), 1, 'the dropped points are gone; the new one is there');
      assert.equal(logged.filter((l) => l.includes('did not exist: created it')).length, 2);
    } finally {
      await w.close();
    }
  });
});

describe('influxd with auth: a user who may write but not create databases', () => {
  let influxd: Influxd;
  const admin = { user: 'admin', pass: 'adm1n' };
  before(async () => {
    influxd = await startInfluxd({ authEnabled: true });
    await query(influxd.url, '', `CREATE USER "admin" WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES`);
    await query(influxd.url, '', `CREATE USER "writer" WITH PASSWORD 'w'`, admin);
  });
  after(async () => {
    await influxd?.stop();
  });

  test('once: one clear line (the server refused the CREATE), exit 1, points kept', async () => {
    const path = config('authonce', `version: 1, url: "${influxd.url}", database: energy, username: writer, password: w, precision: ms`);
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 1, r.stderr);
    const refused = lines(r.stderr, /creating it failed/);
    assert.equal(refused.length, 1, r.stderr);
    assert.match(
      refused[0]!,
      /database not found: \\"energy\\"; creating it failed \(403 error authorizing query: writer not authorized to execute statement 'CREATE DATABASE energy', requires admin privilege\): create it as an admin, or set influx\.createDatabase: false/,
    );
    assert.doesNotMatch(r.stderr, /did not exist: created it/);
    assert.ok(!(await databases(influxd, admin)).includes('energy'));
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.ok((JSON.parse(b.stdout) as { rows: number }).rows > 0, b.stdout);
  });

  test('run: the CREATE is tried once, not on every batch; the refusal is logged once; the points stay', async () => {
    const path = config('authrun', `version: 1, url: "${influxd.url}", database: energy2, username: writer, password: w, precision: ms, flushIntervalMs: 50, minRetryDelayMs: 20, maxRetryDelayMs: 100`, '* * * * * *');
    const start = await requests(influxd);
    const worker = startCli(['--config', path, 'run']);
    try {
      // Many writes refused, each a chance to CREATE again.
      await until('ten refused writes', async () => (await requests(influxd)).write - start.write >= 10);
      assert.equal((await requests(influxd)).query - start.query, 1, 'one CREATE in all');
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    const { stderr } = worker.output();
    assert.equal(lines(stderr, /creating it failed \(403 /).length, 1, stderr);
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.ok((JSON.parse(b.stdout) as { rows: number }).rows > 0, b.stdout);
  });
});
