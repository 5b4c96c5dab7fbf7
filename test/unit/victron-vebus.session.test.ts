/**
 * The VE.Bus session against the project's Multiplus simulator (src/simulators/victron-vebus.ts,
 * its own tables, no codec) on an in-memory sim link: connect, poll, points, faults, offline,
 * control verbs, and captures re-decoded into the same points. The serial end to end over a
 * real PTY is test/integration/victron-vebus.pty.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { ConfigError, DeviceError, InputError, TimeoutError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { IntField, type Point } from '../../src/core/point.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { victronVebusDriver, type VebusSession } from '../../src/devices/victron-vebus/index.js';
import { startVebusSimulator, type VebusSimOptions } from '../../src/simulators/victron-vebus.js';
import { createSimLink } from '../../src/transports/sim.js';

const signal = () => new AbortController().signal;

function skewedClock(): Clock & { skew: number } {
  const c = {
    skew: 0,
    now: () => Date.now() + c.skew,
    nowNs: () => BigInt(Date.now() + c.skew) * 1_000_000n,
    sleep: systemClock.sleep,
  };
  return c;
}

async function setup(options: Record<string, unknown> = {}, sim: VebusSimOptions = {}) {
  const link = createSimLink('sim:mp2');
  await link.device.open();
  const simulator = startVebusSimulator(link.device, { idleVersionMs: 0, ...sim });
  const parsed = victronVebusDriver.options.parse({ requestTimeoutMs: 150, snapshotWaitMs: 0, ...options });
  const records: CaptureRecord[] = [];
  const clock = skewedClock();
  const session = victronVebusDriver.createSession({
    device: 'mp2',
    options: parsed,
    tags: { site: 'home' },
    transport: link.host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => records.push({ direction, data: Buffer.from(data), timeMs }),
  }) as VebusSession;
  await session.start();
  return { link, simulator, session, records, clock, options: parsed, stop: async () => (simulator.stop(), await session.close()) };
}

const num = (v: unknown) => (v instanceof IntField ? Number(v.value) : v);
function fieldsOf(points: Point[], phase?: string): Record<string, unknown> {
  const p = points.find((x) => x.tags.phase === phase);
  assert.ok(p, `a point with phase ${phase}`);
  return Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, num(v)]));
}

test('first poll: connects (version, address, scales, ESS scan) and reads the simulated Multiplus', async () => {
  const s = await setup();
  try {
    const res = await s.session.collect(signal());
    assert.equal(s.session.version?.version, 1170212);
    assert.equal(s.session.essSetpointRamId, 131);
    const dev = fieldsOf(res.points);
    assert.deepEqual(
      { state: dev.state, battery_v: dev.battery_v, battery_a: dev.battery_a, battery_w: dev.battery_w, soc_pct: dev.soc_pct, inverter_power_w: dev.inverter_power_w, output_power_w: dev.output_power_w },
      { state: 9, battery_v: 52.3, battery_a: -7.1, battery_w: -371, soc_pct: 90, inverter_power_w: 370, output_power_w: 120 },
    );
    assert.deepEqual([dev.led_mains, dev.led_absorption, dev.led_bulk, dev.led_float, dev.leds_on, dev.leds_blink], [1, 0, 1, 1, 1, 12]);
    assert.equal(dev.dc_inverter_a, 7.1);
    assert.equal(dev.dc_charger_a, 0);
    assert.equal(dev.ess_setpoint_w, 0);
    assert.equal(dev.phases, 1);
    assert.deepEqual(fieldsOf(res.points, 'L1'), { mains_v: 232.76, mains_a: -1.61, mains_hz: 50.1, inverter_v: 232.76, inverter_a: 0.08 });
    assert.ok(res.points.every((p) => p.measurement === 'vebus' && p.tags.device === 'mp2' && p.tags.site === 'home'));
    // Scales were asked for once per variable (11), the scan read 128, 129, 130.
    assert.equal(s.simulator.requests.get('V'), 1);
    assert.equal(s.simulator.requests.get('A'), 1);

    await s.session.collect(signal());
    assert.equal(s.simulator.requests.get('V'), 1, 'no reconnect on the second poll');
    assert.equal(s.session.stats().connects, 1);
    assert.equal(s.session.stats().polls_ok, 2);
  } finally {
    await s.stop();
  }
});

test('captures: each poll re-decodes into the same points with the same timestamp (decodeCapture), with the device scales', async () => {
  // A device whose mains voltage counts 0.1 V and battery voltage 1/256 V: not the defaults.
  const vars = { 0: { scale: 0.1, signed: false, offset: 0 }, 4: { scale: 1 / 256, signed: false, offset: 0 } };
  const s = await setup({}, { vars, state: { batteryV: 51.25, phases: [{ mainsV: 230, mainsA: 2.5, inverterV: 231, inverterA: -0.5 }] } });
  try {
    for (let i = 0; i < 2; i++) {
      s.records.length = 0;
      const res = await s.session.collect(signal());
      const t0 = s.records[0]!.timeMs;
      assert.ok(
        res.points.every((p) => p.time === BigInt(t0) * 1_000_000n),
        'points carry the first record time',
      );
      const ctx = { device: 'mp2', options: s.options, tags: { site: 'home' }, clock: systemClock };
      const again = victronVebusDriver.decodeCapture!(s.records, ctx);
      assert.deepEqual(again.errors, []);
      assert.deepEqual(again.points, res.points, `poll ${i + 1}`);
      assert.equal(fieldsOf(again.points, 'L1').mains_v, 230);
      assert.equal(fieldsOf(again.points).battery_v, 51.25);
      // The second poll starts with the connection's 11 re-recorded 0x36 exchanges.
      if (i === 1) assert.equal(s.records.slice(0, 22).filter((r) => r.direction === 'tx' && r.data[3] === 0x36).length, 11);
    }
    // A poll cut short decodes to no points and one line saying what is missing.
    const cut = victronVebusDriver.decodeCapture!(s.records.slice(0, s.records.length - 4), { device: 'mp2', options: s.options, tags: {}, clock: systemClock });
    assert.deepEqual(cut.points, []);
    assert.match(cut.errors[0]!, /^poll at .*: incomplete poll: no LED status/);
  } finally {
    await s.stop();
  }
});

test('faults: a bad checksum costs that poll (TimeoutError, counted), version frames and garbage between request and reply cost nothing', async () => {
  const s = await setup();
  try {
    await s.session.collect(signal());
    s.simulator.fault('bad-checksum');
    await assert.rejects(s.session.collect(signal()), TimeoutError);
    assert.equal(s.session.stats().checksum_errors, 1);
    const next = await s.session.collect(signal());
    assert.deepEqual(next.dropped, [{ reason: 'bad checksum', count: 1 }]);
    s.simulator.fault('version-between', 5);
    await s.session.collect(signal());
    assert.equal(s.session.stats().unsolicited_version, 5);
    s.simulator.fault('garbage-before', 3);
    const res = await s.session.collect(signal());
    assert.equal(fieldsOf(res.points).battery_v, 52.3);
    assert.ok(s.session.stats().garbage_bytes >= 15);
  } finally {
    await s.stop();
  }
});

test('offline: without a complete poll for offlineAfterMs the next poll connects afresh', async () => {
  const s = await setup({ offlineAfterMs: 5000 });
  try {
    await s.session.collect(signal());
    s.simulator.fault('silence');
    await assert.rejects(s.session.collect(signal()), TimeoutError);
    s.clock.skew += 6000;
    await s.session.collect(signal());
    assert.equal(s.simulator.requests.get('V'), 2);
    assert.equal(s.session.stats().offline, 1);
    assert.equal(s.session.stats().connects, 2);
  } finally {
    await s.stop();
  }
});

test('offline: a connect whose polls never complete also counts (from the connect)', async () => {
  const s = await setup({ offlineAfterMs: 5000 });
  try {
    // Connect works, the poll's snapshot read (X 38) stays unanswered.
    s.simulator.fault('silence', 1, (req) => req[3] === 0x38);
    await assert.rejects(s.session.collect(signal()), TimeoutError);
    assert.equal(s.session.stats().connects, 1);
    s.clock.skew += 6000;
    await s.session.collect(signal());
    assert.equal(s.session.stats().connects, 2);
  } finally {
    await s.stop();
  }
});

test('three phases: F 01, 02, 03 each poll, a point per phase', async () => {
  const ph = (a: number) => ({ mainsV: 230 + a, mainsA: a, inverterV: 230, inverterA: 0 });
  const s = await setup({}, { state: { phases: [ph(1), ph(2), ph(3)] } });
  try {
    const res = await s.session.collect(signal());
    assert.deepEqual(
      res.points.map((p) => p.tags.phase ?? '-'),
      ['-', 'L1', 'L2', 'L3'],
    );
    assert.equal(fieldsOf(res.points, 'L3').mains_a, 3);
    assert.equal(fieldsOf(res.points).phases, 3);
  } finally {
    await s.stop();
  }
});

test('ESS scan: an assistant with 15 RAM ids is stepped over (1 + 15), not stuck (the original computed (1 + value) & 0xF)', async () => {
  const s = await setup(
    {},
    {
      assistants: [
        { id: 0x00a, vars: 15 },
        { id: 0x005, vars: 4 },
      ],
    },
  );
  try {
    await s.session.collect(signal());
    assert.equal(s.simulator.essSetpointId, 145);
    assert.equal(s.session.essSetpointRamId, 145);
  } finally {
    await s.stop();
  }
});

test('ESS scan that times out costs no readings and is tried again on the next poll', async () => {
  const s = await setup();
  try {
    // The first scan read (X 30 80 00) gets no answer.
    s.simulator.fault('silence', 1, (req) => req[3] === 0x30 && req[4] === 128);
    const first = await s.session.collect(signal());
    assert.equal(s.session.essSetpointRamId, undefined);
    assert.equal(fieldsOf(first.points).ess_setpoint_w, undefined);
    assert.equal(fieldsOf(first.points).battery_v, 52.3);
    const second = await s.session.collect(signal());
    assert.equal(s.session.essSetpointRamId, 131);
    assert.equal(fieldsOf(second.points).ess_setpoint_w, 0);
    assert.equal(s.session.stats().connects, 1);
  } finally {
    await s.stop();
  }
});

test('control: ess-power within limits reaches the simulator (RAM only), sleep/wakeup send the raw frames', async () => {
  const s = await setup({ control: { essPower: { min: -2000, max: 2000 }, sleep: true, wakeup: true } });
  const ctl = victronVebusDriver.control!;
  try {
    const r500 = await s.session.control!(ctl.prepare('ess-power', ['500'], s.options, 'mp2'), signal());
    assert.match(r500.message, /500 W written to RAM id 131 \(RAM only\)/);
    assert.equal(s.simulator.setpointRaw, -500);
    assert.deepEqual(s.simulator.writes.at(-1), { id: 131, value: 0xfe0c, flags: 0x02 });
    await s.session.control!(ctl.prepare('ess-power', ['-200'], s.options, 'mp2'), signal());
    assert.equal(s.simulator.setpointRaw, 200);
    const res = await s.session.collect(signal());
    assert.equal(fieldsOf(res.points).ess_setpoint_w, -200);
    await s.session.control!(ctl.prepare('sleep', [], s.options, 'mp2'), signal());
    await s.session.control!(ctl.prepare('wakeup', [], s.options, 'mp2'), signal());
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(s.simulator.rawCommands, ['sleep', 'wakeup']);
    assert.ok(
      s.simulator.writes.every((w) => (w.flags & 0x02) === 0x02),
      'never an EEPROM write',
    );
  } finally {
    await s.stop();
  }
});

test('control: refused when not configured, outside the limits, or not a number (prepare, no I/O)', () => {
  const ctl = victronVebusDriver.control!;
  const none = victronVebusDriver.options.parse({});
  const limited = victronVebusDriver.options.parse({ control: { essPower: { min: -300, max: 800 } } });
  assert.throws(
    () => ctl.prepare('ess-power', ['100'], none, 'mp2'),
    (e: unknown) => e instanceof ConfigError && /mp2: ess-power is not allowed; set options.control.essPower/.test(e.message),
  );
  assert.throws(
    () => ctl.prepare('ess-power', ['900'], limited, 'mp2'),
    (e: unknown) => e instanceof InputError && /900 W is outside the allowed range -300…800 W/.test(e.message),
  );
  assert.throws(() => ctl.prepare('ess-power', ['-301'], limited, 'mp2'), InputError);
  assert.throws(() => ctl.prepare('ess-power', ['1.5'], limited, 'mp2'), /not a whole number of watts \(-300…800 W\)/);
  assert.throws(() => ctl.prepare('ess-power', [], limited, 'mp2'), /takes one argument/);
  assert.throws(
    () => ctl.prepare('sleep', [], limited, 'mp2'),
    (e: unknown) => e instanceof ConfigError && /options.control.sleep: true/.test(e.message),
  );
  assert.equal(ctl.prepare('ess-power', ['800'], limited, 'mp2').summary, 'ESS set-point 800 W (charge), RAM only');
  assert.equal(ctl.cliName, 'vebus');
  assert.throws(() => victronVebusDriver.options.parse({ control: { essPower: { min: 10, max: -10 } } }), /min must not be above max/);
});

test('control: ess-power without an ESS assistant is a DeviceError that says what to set', async () => {
  const s = await setup({ control: { essPower: { min: -100, max: 100 } } }, { assistants: [{ id: 9, vars: 0 }] });
  try {
    await assert.rejects(
      s.session.control!(victronVebusDriver.control!.prepare('ess-power', ['50'], s.options, 'mp2'), signal()),
      (e: unknown) => e instanceof DeviceError && /no ESS assistant found .*essSetpointRamId/.test(e.message),
    );
  } finally {
    await s.stop();
  }
});
