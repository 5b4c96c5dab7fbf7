/**
 * nut-ups end to end against real NUT 2.8 from Debian (`nut-server`): dummy-ups replays a
 * .dev file (OL -> OB -> OB LB, stepped by TIMER lines) and upsd serves it on a free
 * loopback port, both from a temporary folder (NUT_CONFPATH/NUT_STATEPATH), as root
 * without dropping privileges (`-u root`), in the foreground (`-D`). Every process is
 * killed by PID afterwards. No timing assertions: polls retry until a bounded deadline.
 *
 * Also instant commands through the CLI (`wattline ups <device> commands | cmd`) against
 * that upsd, and `wattline once` from it into a real influxd. dummy-ups 2.8.0 lists exactly
 * one instant command, `load.off` (upsd answers OK; dummy-ups then logs it as unknown and
 * does nothing), so OK is shown with load.off and test.battery.start is CMD-NOT-SUPPORTED.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { IntField, type Point } from '../../src/core/point.js';
import { isNutUpsError, nutUpsDriver, type NutUpsSession } from '../../src/devices/nut-ups/index.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { runCli, startCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { killAndWait, spawnServer, tail, waitListening, type ServerProcess } from '../helpers/server-process.js';

function find(name: string, dirs: string[]): string {
  const found = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found in ${dirs.join(', ')}: install the Debian package nut-server`);
  return found;
}

const UPSD = find('upsd', ['/lib/nut', '/usr/lib/nut', '/usr/sbin', '/sbin']);
const DUMMY = find('dummy-ups', ['/lib/nut', '/usr/lib/nut', '/usr/bin', '/bin']);

// Each state lasts STEP_S seconds; dummy-ups stays in the last one (mode dummy-once).
const STEP_S = 3;
const DEV = [
  'device.mfr: "Wattline Test"',
  'device.model: "Dummy 1000"',
  'device.serial: "WT-0001"',
  'ups.status: OL',
  'battery.charge: 100',
  'battery.runtime: 1800',
  'input.voltage: 230.5',
  'ups.load: 20',
  `TIMER ${STEP_S}`,
  'ups.status: OB DISCHRG',
  'battery.charge: 60',
  'input.voltage: 0',
  `TIMER ${STEP_S}`,
  'ups.status: OB LB DISCHRG',
  'battery.charge: 8',
  `TIMER ${STEP_S}`,
  '',
].join('\n');

let dir = '';
let port = 0;
let driver: ServerProcess | undefined;
let upsd: ServerProcess | undefined;
const sessions: NutUpsSession[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startUpsd(): ServerProcess {
  return spawnServer(UPSD, ['-u', 'root', '-D'], join(dir, 'upsd.log'), dir);
}

function session(ups: string): NutUpsSession {
  const options = nutUpsDriver.options.parse({ port, ups, timeoutMs: 2000 });
  const s = nutUpsDriver.createSession({ device: 'ups1', options, tags: {}, transport: new TcpTransport(nutUpsDriver.networkAddress!(options)), clock: systemClock, log: silentLogger() }) as NutUpsSession;
  sessions.push(s);
  return s;
}

const num = (v: unknown) => (v instanceof IntField ? Number(v.value) : v);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-nut-'));
  port = await freePort();
  writeFileSync(join(dir, 'seq.dev'), DEV);
  writeFileSync(join(dir, 'ups.conf'), `[myups]\n  driver = dummy-ups\n  port = ${join(dir, 'seq.dev')}\n  desc = "wattline test UPS"\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'upsd.conf'), `LISTEN 127.0.0.1 ${port}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'upsd.users'), '[monitor]\n  password = secret\n  upsmon primary\n[admin]\n  password = adminpw\n  instcmds = ALL\n  actions = SET\n', { mode: 0o600 });
  // spawnServer passes our environment on; the NUT programs find their files through it.
  process.env.NUT_CONFPATH = dir;
  process.env.NUT_STATEPATH = dir;
  driver = spawnServer(DUMMY, ['-a', 'myups', '-u', 'root', '-D'], join(dir, 'dummy-ups.log'), dir);
  const end = Date.now() + 10_000;
  while (!existsSync(join(dir, 'dummy-ups-myups'))) {
    if (driver.child.exitCode !== null || Date.now() > end) throw new Error(`dummy-ups did not start; log:\n${tail(join(dir, 'dummy-ups.log'))}`);
    await sleep(25);
  }
  upsd = startUpsd();
  await waitListening(upsd, port, { timeoutMs: 10_000, logFile: join(dir, 'upsd.log'), name: 'upsd' });
});

after(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  if (upsd) await killAndWait(upsd, 2000);
  if (driver) await killAndWait(driver, 2000);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('real upsd + dummy-ups: OL -> OB -> OB LB read as the right flags', async () => {
  const s = session('myups');
  const seen: Point[] = [];
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    try {
      const p = (await s.collect(AbortSignal.timeout(5000))).points[0]!;
      if (seen.at(-1)?.fields.status !== p.fields.status) seen.push(p);
      if (p.fields.status === 'OB LB DISCHRG') break;
    } catch (err) {
      // Right after start upsd answers WAIT (or has no driver yet): a 'waiting' error.
      if (!isNutUpsError(err, 'driver-not-connected') && !isNutUpsError(err, 'data-stale') && !isNutUpsError(err, 'waiting')) throw err;
    }
    await sleep(200);
  }
  assert.deepEqual(
    seen.map((p) => p.fields.status),
    ['OL', 'OB DISCHRG', 'OB LB DISCHRG'],
  );
  const [ol, ob, lb] = seen.map((p) => Object.fromEntries(['on_line', 'on_battery', 'low_battery', 'discharging'].map((k) => [k, num(p.fields[k])])));
  assert.deepEqual(ol, { on_line: 1, on_battery: 0, low_battery: 0, discharging: 0 });
  assert.deepEqual(ob, { on_line: 0, on_battery: 1, low_battery: 0, discharging: 1 });
  assert.deepEqual(lb, { on_line: 0, on_battery: 1, low_battery: 1, discharging: 1 });
  assert.equal(seen[0]!.fields.battery_charge_pct, 100);
  assert.equal(num(seen[0]!.fields.battery_runtime_s), 1800);
  assert.equal(seen[2]!.fields.battery_charge_pct, 8);
  // dummy-ups 2.8.0 sets device.mfr/model itself ("Dummy Manufacturer", "Dummy UPS"); the serial is ours.
  assert.deepEqual({ ...seen[0]!.tags }, { device: 'ups1', ups: 'myups', mfr: 'Dummy Manufacturer', model: 'Dummy UPS', serial: 'WT-0001' });
});

test('real upsd: a wrong UPS name is a clear error naming the known UPS', async () => {
  const s = session('nosuch');
  await assert.rejects(s.collect(AbortSignal.timeout(5000)), (e: unknown) => {
    assert.ok(isNutUpsError(e, 'unknown-ups'), String(e));
    assert.deepEqual(e.knownUps, ['myups']);
    assert.match(e.message, /nosuch.*it knows: myups/);
    return true;
  });
});

/** A wattline config in the test folder with one nut-ups device on our upsd, plus `extra` lines. */
function writeConfig(file: string, device: Record<string, unknown>, extra: string[] = []): string {
  const path = join(dir, file);
  const options = { host: '127.0.0.1', port, ups: 'myups', timeoutMs: 2000, ...device };
  writeFileSync(
    path,
    [
      `outbox: { path: ${JSON.stringify(join(dir, `${file}.sqlite`))} }`,
      ...extra,
      'devices:',
      `  - { name: ups1, driver: nut-ups, schedule: "*/10 * * * * *", options: ${JSON.stringify(options)} }`,
      '  - { name: meter, driver: dsmr-p1, simulate: true, enabled: false }',
      '',
    ].join('\n'),
  );
  return path;
}

const ADMIN = { username: 'admin', password: '${NUT_TEST_PASSWORD}' };
const ENV = { NUT_TEST_PASSWORD: 'adminpw' };

test('CLI + real upsd: `ups <device> commands` lists what dummy-ups offers (load.off) with its description', async () => {
  const path = writeConfig('list.yaml', {});
  const r = await runCli(['--config', path, 'ups', 'ups1', 'commands'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'load.off\tTurn off the load immediately\n');
});

test('CLI + real upsd: an allowed command dummy-ups offers (load.off) answers OK', async () => {
  const path = writeConfig('ok.yaml', { ...ADMIN, commands: { allow: ['load.off', 'test.battery.start'] } });
  const r = await runCli(['--config', path, 'ups', 'ups1', 'cmd', 'load.off'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'OK\n');
});

test('CLI + real upsd: test.battery.start, which dummy-ups does not offer, is ERR CMD-NOT-SUPPORTED, exit 1 (OK path: simulator below)', async () => {
  const path = writeConfig('nosup.yaml', { ...ADMIN, commands: { allow: ['test.battery.start'] } });
  const r = await runCli(['--config', path, 'ups', 'ups1', 'cmd', 'test.battery.start'], { env: ENV });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^wattline: ups1: upsd refused test\.battery\.start on UPS myups: ERR CMD-NOT-SUPPORTED \(.*wattline ups ups1 commands.*\)\n$/);
});

test('CLI + real upsd: a wrong password is a clear ERR ACCESS-DENIED, exit 1; no credentials ERR USERNAME-REQUIRED', async () => {
  const path = writeConfig('denied.yaml', { username: 'admin', password: 'wrong', commands: { allow: ['load.off'] } });
  const r = await runCli(['--config', path, 'ups', 'ups1', 'cmd', 'load.off']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^wattline: ups1: upsd refused load\.off on UPS myups: ERR ACCESS-DENIED \(check username\/password.*\)\n$/);
  const anon = writeConfig('anon.yaml', { commands: { allow: ['load.off'] } });
  const a = await runCli(['--config', anon, 'ups', 'ups1', 'cmd', 'load.off']);
  assert.equal(a.code, 1, a.stderr);
  assert.match(a.stderr, /ERR USERNAME-REQUIRED/);
});

test('CLI: a command the config does not allow is exit 2 before any connection; so is a device that is not nut-ups', async () => {
  // Port 1 on loopback: nothing listens, so a connection attempt would be exit 1, not 2.
  const path = writeConfig('refuse.yaml', { port: 1, ...ADMIN, commands: { allow: ['beeper.disable'] } });
  const r = await runCli(['--config', path, 'ups', 'ups1', 'cmd', 'load.off'], { env: ENV });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'wattline: ups1: instant command "load.off" is not allowed by the config (options.commands.allow: beeper.disable)\n');
  const none = writeConfig('none.yaml', { port: 1 });
  const n = await runCli(['--config', none, 'ups', 'ups1', 'cmd', 'load.off']);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /options\.commands\.allow: none\)\n$/);
  const m = await runCli(['--config', path, 'ups', 'meter', 'commands'], { env: ENV });
  assert.equal(m.code, 2);
  assert.equal(m.stderr, 'wattline: no nut-ups device named "meter" (nut-ups devices: ups1)\n');
  const u = await runCli(['--config', path, 'ups', 'ups1', 'reboot'], { env: ENV });
  assert.equal(u.code, 2);
  const h = await runCli(['ups', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /wattline ups rack-ups cmd test\.battery\.start/);
});

test('CLI + simulator (simulate: true): the OK path of test.battery.start that dummy-ups cannot show', async () => {
  const path = join(dir, 'sim.yaml');
  writeFileSync(
    path,
    `outbox: { path: ${JSON.stringify(join(dir, 'sim.sqlite'))} }\ndevices:\n  - { name: simups, driver: nut-ups, simulate: true, options: { ups: demo, username: admin, password: pw, commands: { allow: [test.battery.start] } } }\n`,
  );
  const l = await runCli(['--config', path, 'ups', 'simups', 'commands']);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /^test\.battery\.start\tStart a battery test$/m);
  const r = await runCli(['--config', path, 'ups', 'simups', 'cmd', 'test.battery.start']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'OK\n');
});

test("CLI + real upsd through a running worker: `ups <device> commands|cmd` go over the worker's own connection (control endpoint), not a second one", async () => {
  const path = writeConfig('worker.yaml', { ...ADMIN, commands: { allow: ['load.off', 'test.battery.start'] } });
  const worker = startCli(['--config', path, 'run', '--log-level', 'warn'], { env: ENV });
  try {
    await until("the worker's control endpoint", () => existsSync(join(dir, 'worker.yaml.sqlite.sock')), 20_000);
    const list = await runCli(['--config', path, 'ups', 'ups1', 'commands', '--format', 'json'], { env: ENV });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    assert.equal(listed.via, 'worker');
    assert.deepEqual(listed.data.commands, [{ name: 'load.off', description: 'Turn off the load immediately' }]);
    const r = await runCli(['--config', path, 'ups', 'ups1', 'cmd', 'load.off', '--format', 'json'], { env: ENV });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.via, 'worker');
    assert.equal(out.message, 'OK');
    // upsd's ERR through the worker: the same one line and exit 1 as directly.
    const refused = await runCli(['--config', path, 'control', 'ups1', 'cmd', 'test.battery.start'], { env: ENV });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^wattline: .*ups1: upsd refused test\.battery\.start on UPS myups: ERR CMD-NOT-SUPPORTED/m);
  } finally {
    worker.child.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(10_000)]);
    worker.child.kill('SIGKILL');
  }
});

test('end to end: `wattline once` reads the real upsd and InfluxDB has battery_charge_pct from the .dev file', async () => {
  // The .dev sequence ends at battery.charge 8 (OB LB); wait until upsd serves that state.
  const s = session('myups');
  const end = Date.now() + 20_000;
  let status: unknown;
  while (Date.now() < end && status !== 'OB LB DISCHRG') {
    try {
      status = (await s.collect(AbortSignal.timeout(5000))).points[0]!.fields.status;
    } catch (err) {
      if (!isNutUpsError(err, 'driver-not-connected') && !isNutUpsError(err, 'data-stale') && !isNutUpsError(err, 'waiting')) throw err;
    }
    if (status !== 'OB LB DISCHRG') await sleep(200);
  }
  assert.equal(status, 'OB LB DISCHRG');
  let influxd: Influxd | undefined;
  try {
    influxd = await startInfluxd();
    await createDatabase(influxd.url, 'nut');
    const path = writeConfig('once.yaml', {}, [`influx: { version: 1, url: "${influxd.url}", database: nut }`]);
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 0, r.stderr);
    const series = await query(influxd.url, 'nut', 'SELECT last("battery_charge_pct") FROM "ups"');
    assert.equal(series[0]?.values[0]?.[1], 8);
  } finally {
    await influxd?.stop();
  }
});

test('real upsd stopped and started again: errors for those polls, recovery afterwards', async () => {
  const s = session('myups');
  assert.equal((await s.collect(AbortSignal.timeout(5000))).points.length, 1);
  await killAndWait(upsd!, 2000);
  await assert.rejects(s.collect(AbortSignal.timeout(5000)), (e: unknown) => e instanceof TransportError && e.retryable);
  await assert.rejects(s.collect(AbortSignal.timeout(5000)), (e: unknown) => e instanceof TransportError && e.retryable);
  upsd = startUpsd();
  await waitListening(upsd, port, { timeoutMs: 10_000, logFile: join(dir, 'upsd.log'), name: 'upsd' });
  let points: Point[] = [];
  const end = Date.now() + 15_000;
  while (points.length === 0 && Date.now() < end) {
    try {
      points = (await s.collect(AbortSignal.timeout(5000))).points;
    } catch (err) {
      // upsd re-attaches to the driver socket a moment after it listens.
      if (!isNutUpsError(err, 'driver-not-connected') && !isNutUpsError(err, 'data-stale') && !isNutUpsError(err, 'waiting')) throw err;
      await sleep(200);
    }
  }
  assert.equal(points.length, 1);
  assert.equal(points[0]!.fields.status, 'OB LB DISCHRG');
  assert.ok(s.stats().reopens >= 1);
});
