/**
 * The nut-ups session over a sim link against the project's own upsd simulator on the
 * device end: a poll, stale data, an unknown UPS name, login, silence and a dropped link
 * with recovery. Reply timeouts are real timers, kept short; nothing asserts on time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../src/core/errors.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { IntField } from '../../src/core/point.js';
import { isNutUpsError, nutUpsDriver, type NutUpsSession } from '../../src/devices/nut-ups/index.js';
import { NUT_UPS_DEMO_OPTIONS, startNutUpsSimulator, type NutUpsSimulator, type NutUpsSimulatorOptions } from '../../src/simulators/nut-ups.js';
import { createSimLink, type SimEndpoint } from '../../src/transports/sim.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_700_000_000_000;
const signal = () => new AbortController().signal;
const clock = new FakeClock(T0);

interface Rig {
  session: NutUpsSession;
  sim: NutUpsSimulator;
  host: SimEndpoint;
}

async function rig(options: Record<string, unknown> = {}, sim: NutUpsSimulatorOptions = {}, log: Logger = silentLogger()): Promise<Rig> {
  const { host, device } = createSimLink('sim:ups');
  await device.open();
  const s = startNutUpsSimulator(device, NUT_UPS_DEMO_OPTIONS, { vary: false, ...sim });
  const parsed = nutUpsDriver.options.parse({ ...NUT_UPS_DEMO_OPTIONS, timeoutMs: 100, ...options });
  const session = nutUpsDriver.createSession({ device: 'rack-ups', options: parsed, tags: { site: 'home' }, transport: host, clock, log }) as NutUpsSession;
  await session.start();
  return { session, sim: s, host };
}

const flag = (v: unknown) => (v instanceof IntField ? Number(v.value) : v);

test('demo options are valid; defaults host 127.0.0.1 port 3493; network address', () => {
  const o = nutUpsDriver.options.parse(NUT_UPS_DEMO_OPTIONS);
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 3493);
  assert.deepEqual(nutUpsDriver.networkAddress!(o), { host: '127.0.0.1', port: 3493 });
  assert.equal(nutUpsDriver.link, 'network');
  assert.throws(() => nutUpsDriver.options.parse({}));
  assert.throws(() => nutUpsDriver.options.parse({ ups: 'x', extra: 1 }));
  assert.throws(() => nutUpsDriver.options.parse({ ups: 'x', password: 'p' }));
});

test('one poll: every variable in one LIST VAR, typed fields, flags, info tags', async () => {
  const r = await rig();
  try {
    const { points } = await r.session.collect(signal());
    assert.equal(points.length, 1);
    const p = points[0]!;
    assert.equal(p.measurement, 'ups');
    assert.deepEqual(p.tags, { site: 'home', device: 'rack-ups', ups: 'demo', mfr: 'American Power Conversion', model: 'Smart-UPS 1500 "demo"', serial: 'AS1234567890' });
    assert.equal(p.fields.battery_charge_pct, 100);
    assert.equal(flag(p.fields.battery_runtime_s), 2460);
    assert.equal(p.fields.input_voltage_v, 231.2);
    assert.equal(p.fields.status, 'OL CHRG');
    assert.equal(flag(p.fields.on_line), 1);
    assert.equal(flag(p.fields.charging), 1);
    assert.equal(flag(p.fields.on_battery), 0);
    assert.equal(p.time, BigInt(T0) * 1_000_000n);
    assert.deepEqual(r.sim.commands, ['LIST VAR']);
    r.sim.setVar('ups.status', 'OB LB DISCHRG');
    const next = (await r.session.collect(signal())).points[0]!;
    assert.equal(flag(next.fields.on_battery), 1);
    assert.equal(flag(next.fields.low_battery), 1);
    assert.equal(flag(next.fields.on_line), 0);
    assert.deepEqual(r.sim.commands, ['LIST VAR', 'LIST VAR']);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('stale data is an error for that poll only', async () => {
  const r = await rig();
  try {
    r.sim.setStale(true);
    await assert.rejects(r.session.collect(signal()), (e: unknown) => isNutUpsError(e, 'data-stale'));
    r.sim.setStale(false);
    assert.equal((await r.session.collect(signal())).points.length, 1);
    assert.equal(r.session.stats().stale, 1);
    assert.equal(r.session.stats().reopens, 0);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('an unknown UPS name is a clear error naming the known ones', async () => {
  const r = await rig({ ups: 'nosuch' });
  try {
    await assert.rejects(r.session.collect(signal()), (e: unknown) => {
      assert.ok(isNutUpsError(e, 'unknown-ups'));
      assert.deepEqual(e.knownUps, ['demo']);
      assert.match(e.message, /nosuch.*it knows: demo/);
      return true;
    });
    assert.deepEqual(r.sim.commands, ['LIST VAR', 'LIST UPS']);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('login: USERNAME/PASSWORD once per connection; a refused login is a login error', async () => {
  const ok = await rig({ username: 'mon', password: 's3cret "x"' }, { username: 'mon', password: 's3cret "x"' });
  try {
    await ok.session.collect(signal());
    await ok.session.collect(signal());
    assert.deepEqual(ok.sim.commands, ['USERNAME mon', 'PASSWORD s3cret "x"', 'LIST VAR', 'LIST VAR']);
  } finally {
    ok.sim.stop();
    await ok.session.close();
  }
  const bad = await rig({ username: 'mon', password: 'wrong' }, { username: 'mon', password: 'right' });
  try {
    await assert.rejects(bad.session.collect(signal()), (e: unknown) => isNutUpsError(e, 'login') && !e.message.includes('wrong'));
  } finally {
    bad.sim.stop();
    await bad.session.close();
  }
});

test('silence: a timeout error, the connection is dropped and reopened on the next poll', async () => {
  const r = await rig();
  try {
    r.sim.setSilent(true);
    await assert.rejects(r.session.collect(signal()), (e: unknown) => isNutUpsError(e, 'timeout'));
    assert.equal(r.host.isOpen, false);
    r.sim.setSilent(false);
    assert.equal((await r.session.collect(signal())).points.length, 1);
    assert.equal(r.session.stats().reopens, 1);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('the link drops: a retryable TransportError, then recovery by itself', async () => {
  const r = await rig();
  try {
    await r.session.collect(signal());
    r.sim.setSilent(true);
    const pending = r.session.collect(signal());
    setTimeout(() => r.host.unplug(), 10);
    await assert.rejects(pending, (e: unknown) => e instanceof TransportError && e.retryable);
    r.sim.setSilent(false);
    await r.host.peer.open();
    assert.equal((await r.session.collect(signal())).points.length, 1);
    assert.equal(r.session.stats().reopens, 1);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('the job signal aborts a poll', async () => {
  const r = await rig({ timeoutMs: 10_000 });
  try {
    r.sim.setSilent(true);
    const ac = new AbortController();
    const pending = r.session.collect(ac.signal);
    setTimeout(() => ac.abort(new Error('job timeout')), 10);
    await assert.rejects(pending, /job timeout/);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('ups.status WAIT (upsd has no data yet): a waiting error; info is read once data comes', async () => {
  const r = await rig();
  try {
    r.sim.setVar('ups.status', 'WAIT');
    await assert.rejects(r.session.collect(signal()), (e: unknown) => isNutUpsError(e, 'waiting'));
    r.sim.setVar('ups.status', 'OL');
    const p = (await r.session.collect(signal())).points[0]!;
    assert.equal(p.tags.serial, 'AS1234567890');
    assert.equal(r.session.deviceInfo?.firmware, 'UPS 09.3 / ID=18');
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});

test('the connection through the session kit: a drop is said once and its reopening once, stats keep their keys in their order', async () => {
  const said: { level: number; msg: string }[] = [];
  const r = await rig({}, {}, pino({ level: 'info' }, { write: (line: string) => void said.push(JSON.parse(line)) }));
  try {
    await r.session.collect(signal());
    r.host.unplug();
    await r.host.peer.open();
    assert.equal((await r.session.collect(signal())).points.length, 1);
    assert.deepEqual(
      said.filter((l) => /upsd/.test(l.msg)).map((l) => [l.level, l.msg]),
      [
        [40, 'nut-ups: connection to upsd closed; reopening on the next poll'],
        [30, 'nut-ups: connection to upsd reopened'],
      ],
    );
    // `wattline devices --stats` and /metrics show these keys; the kit keeps the order they had.
    assert.deepEqual(Object.keys(r.session.stats()), ['polls', 'polls_ok', 'reopens', 'open_failures', 'timeouts', 'stale', 'protocol_errors', 'nut_errors', 'stray_lines', 'link_open']);
    assert.deepEqual([r.session.stats().reopens, r.session.stats().open_failures, r.session.stats().polls_ok], [1, 0, 2]);
  } finally {
    r.sim.stop();
    await r.session.close();
  }
});
