/**
 * nut-ups end to end against real NUT 2.8 from Debian (`nut-server`): dummy-ups replays a
 * .dev file (OL -> OB -> OB LB, stepped by TIMER lines) and upsd serves it on a free
 * loopback port, both from a temporary folder (NUT_CONFPATH/NUT_STATEPATH), as root
 * without dropping privileges (`-u root`), in the foreground (`-D`). Every process is
 * killed by PID afterwards. No timing assertions: polls retry until a bounded deadline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { systemClock } from '../../src/core/clock.js';
import { TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { IntField, type Point } from '../../src/core/point.js';
import { isNutUpsError, nutUpsDriver, type NutUpsSession } from '../../src/devices/nut-ups/index.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { freePort } from '../helpers/ports.js';
import { killAndWait, spawnServer, tail, type ServerProcess } from '../helpers/server-process.js';

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

async function waitPort(proc: ServerProcess, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) throw new Error(`upsd exited; log:\n${tail(join(dir, 'upsd.log'))}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`upsd not listening on ${port}; log:\n${tail(join(dir, 'upsd.log'))}`);
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
  writeFileSync(join(dir, 'upsd.users'), '[monitor]\n  password = secret\n  upsmon primary\n', { mode: 0o600 });
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
  await waitPort(upsd, 10_000);
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

test('real upsd stopped and started again: errors for those polls, recovery afterwards', async () => {
  const s = session('myups');
  assert.equal((await s.collect(AbortSignal.timeout(5000))).points.length, 1);
  await killAndWait(upsd!, 2000);
  await assert.rejects(s.collect(AbortSignal.timeout(5000)), (e: unknown) => e instanceof TransportError && e.retryable);
  await assert.rejects(s.collect(AbortSignal.timeout(5000)), (e: unknown) => e instanceof TransportError && e.retryable);
  upsd = startUpsd();
  await waitPort(upsd, 10_000);
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
