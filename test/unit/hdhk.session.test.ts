/**
 * The hdhk session (its Modbus client over the sim link) against the project's own HDHK
 * simulator on the device end: several units, every fault, recovery on the next poll.
 * Request timeouts are real (the client's timer), kept short; nothing asserts on time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import { DeviceError, TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { hdhkDriver, HdhkUnitError, type HdhkSession } from '../../src/devices/hdhk/index.js';
import { HDHK_DEMO_OPTIONS, startHdhkDemoSimulator, startHdhkSimulator, vendorExampleRegisters, withModbusCrc, type HdhkSimulator } from '../../src/simulators/hdhk.js';
import { createSimLink, type SimEndpoint } from '../../src/transports/sim.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_700_000_000_000;
const signal = () => new AbortController().signal;

function clock(): { clock: Clock; sleeps: number[] } {
  const fake = new FakeClock(T0);
  return { clock: fake, sleeps: fake.sleeps };
}

function registers(unit: number): number[] {
  const r = vendorExampleRegisters();
  for (let i = 0; i < 16; i++) r[8 + i] = unit * 1000 + i; // unit 2, channel 3 -> 2002 counts
  return r;
}

interface Rig {
  session: HdhkSession;
  sim: HdhkSimulator;
  host: SimEndpoint;
  device: SimEndpoint;
  sleeps: number[];
}

async function rig(extra: Record<string, unknown> = {}): Promise<Rig> {
  const { host, device } = createSimLink('sim:hdhk');
  await device.open();
  const sim = startHdhkSimulator(device, { units: [1, 2, 3].map((id) => ({ id, registers: registers(id) })) });
  const c = clock();
  const options = hdhkDriver.options.parse({
    requestTimeoutMs: 80,
    pauseMs: 5,
    units: [1, 2, 3].map((id) => ({ id, channels: { '1': { circuit: `u${id}c1`, phase: 'L1', voltageV: 230 }, '3': { circuit: `u${id}c3`, phase: 'L2' } } })),
    ...extra,
  });
  const session = hdhkDriver.createSession({ device: 'bus', options, tags: {}, transport: host, clock: c.clock, log: silentLogger() }) as HdhkSession;
  await session.start();
  return { session, sim, host, device, sleeps: c.sleeps };
}

function currents(points: { measurement: string; tags: Record<string, string>; fields: Record<string, unknown> }[]): Record<string, unknown> {
  return Object.fromEntries(points.filter((p) => p.measurement === 'hdhk').map((p) => [p.tags.circuit, p.fields.current_a]));
}

function failure(s: HdhkSession, unit: number): HdhkUnitError {
  const o = s.lastOutcome.find((x) => x.unit === unit);
  assert.ok(o && !o.ok, `unit ${unit} should have failed`);
  assert.ok(o.error instanceof HdhkUnitError);
  return o.error;
}

test('three units on one bus, read one after another with a pause', async () => {
  const r = await rig();
  try {
    const res = await r.session.collect(signal());
    assert.deepEqual(currents(res.points), { u1c1: 10, u1c3: 10.02, u2c1: 20, u2c3: 20.02, u3c1: 30, u3c3: 30.02 });
    const l1 = res.points.find((p) => p.measurement === 'hdhk_phase' && p.tags.phase === 'L1')!;
    assert.equal(l1.fields.current_a, 60);
    assert.equal(l1.fields.apparent_power_va, 13800);
    // Info (0-2) once per unit + currents per unit = 6 requests, 5 pauses; info not re-read after.
    assert.deepEqual(r.sleeps, [5, 5, 5, 5, 5]);
    assert.equal(res.points.find((p) => p.tags.circuit === 'u1c1')!.fields.firmware, '6.2.8');
    await r.session.collect(signal());
    assert.equal(r.sleeps.length, 5 + 2);
    assert.equal(res.dropped, undefined);
  } finally {
    await r.session.close();
    r.sim.stop();
  }
});

test('frequency: currents and frequencies in one request', async () => {
  const r = await rig({ frequency: 'read' });
  try {
    const res = await r.session.collect(signal());
    assert.equal(res.points.find((p) => p.tags.circuit === 'u2c3')!.fields.frequency_hz, 50);
  } finally {
    await r.session.close();
    r.sim.stop();
  }
});

for (const [fault, reason] of [
  ['silence', 'timeout'],
  ['exception', 'exception'],
  ['bad-crc', 'crc'],
  ['truncated', 'truncated'],
] as const) {
  test(`unit 2 ${fault}: a typed error for unit 2 only, recovery on the next poll`, async () => {
    const r = await rig();
    try {
      await r.session.collect(signal()); // info read while all is well
      r.sim.setFault(2, fault);
      const bad = await r.session.collect(signal());
      assert.deepEqual(currents(bad.points), { u1c1: 10, u1c3: 10.02, u3c1: 30, u3c3: 30.02 });
      const err = failure(r.session, 2);
      assert.equal(err.reason, reason);
      assert.equal(err.unit, 2);
      if (fault === 'exception') assert.equal(err.exceptionCode, 4);
      assert.deepEqual(bad.dropped, [{ reason: `unit 2: ${reason}`, count: 1 }]);
      r.sim.setFault(2, 'none');
      const good = await r.session.collect(signal());
      assert.equal(currents(good.points).u2c1, 20);
      assert.ok(r.session.lastOutcome.every((o) => o.ok));
    } finally {
      await r.session.close();
      r.sim.stop();
    }
  });
}

test('an absent unit id from the start: only its own reading is lost', async () => {
  const r = await rig({
    units: [
      { id: 1, channels: { '1': { circuit: 'a' } } },
      { id: 9, channels: { '1': { circuit: 'b' } } },
    ],
  });
  try {
    const res = await r.session.collect(signal());
    assert.deepEqual(currents(res.points), { a: 10 });
    assert.equal(failure(r.session, 9).reason, 'timeout');
    assert.equal(r.session.stats().timeouts, 1);
  } finally {
    await r.session.close();
    r.sim.stop();
  }
});

test('every unit failing throws; one unit failing throws its own error', async () => {
  const r = await rig({ units: [{ id: 2, channels: { '1': { circuit: 'a' } } }] });
  try {
    r.sim.setFault(2, 'exception', 2);
    await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof HdhkUnitError && e.reason === 'exception' && e.exceptionCode === 2);
  } finally {
    await r.session.close();
    r.sim.stop();
  }
  const r3 = await rig();
  try {
    for (const id of [1, 2, 3]) r3.sim.setFault(id, 'silence');
    await assert.rejects(r3.session.collect(signal()), (e: unknown) => e instanceof DeviceError && /no unit answered/.test((e as Error).message));
  } finally {
    await r3.session.close();
    r3.sim.stop();
  }
});

test('the link drops: a retryable TransportError, then recovery with the info re-read', async () => {
  const r = await rig();
  try {
    await r.session.collect(signal());
    const before = r.sim.requests.get(1);
    r.host.unplug();
    // The sim link reopens on open(); to act out "still gone", make open fail once.
    const open = r.host.open.bind(r.host);
    r.host.open = async () => {
      throw new TransportError('sim:hdhk: no such port', true);
    };
    await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);
    r.host.open = open;
    await r.device.open();
    const res = await r.session.collect(signal());
    assert.equal(currents(res.points).u3c3, 30.02);
    assert.equal(r.session.stats().reopens, 1);
    assert.equal(r.sim.requests.get(1), before! + 2, 'info and currents read again after the reconnect');
  } finally {
    await r.session.close();
    r.sim.stop();
  }
});

test('the simulator ignores requests with a bad CRC and answers illegal addresses with exception 2', async () => {
  const { host, device } = createSimLink('sim:raw');
  await device.open();
  await host.open();
  const sim = startHdhkSimulator(device, { units: [{ id: 1 }] });
  const got: Buffer[] = [];
  host.on('data', (c: Buffer) => got.push(c));
  await host.write(Buffer.from('0103000800100000', 'hex'));
  await host.write(Buffer.from('010300080010C5C4', 'hex'));
  await host.write(withModbusCrc(Uint8Array.from([0x01, 0x03, 0x00, 0x30, 0x00, 0x10])));
  for (let i = 0; i < 20 && got.length < 2; i++) await new Promise((res) => setTimeout(res, 5));
  sim.stop();
  assert.equal(Buffer.concat(got).subarray(0, 3).toString('hex'), '010320');
  const exc = Buffer.concat(got).subarray(37);
  assert.equal(exc.subarray(0, 3).toString('hex'), '018302');
});

test('demo: two simulated units on one bus, with the demo options', async () => {
  const { host, device } = createSimLink('sim:demo-hdhk');
  const options = hdhkDriver.options.parse(HDHK_DEMO_OPTIONS);
  const sim = startHdhkDemoSimulator(device, options);
  const session = hdhkDriver.createSession({ device: 'demo-hdhk', options, tags: { demo: 'yes' }, transport: host, clock: clock().clock, log: silentLogger() });
  try {
    await session.start();
    const res = await session.collect(signal());
    assert.equal(res.points.filter((p) => p.measurement === 'hdhk').length, 6);
    assert.deepEqual(
      res.points.filter((p) => p.measurement === 'hdhk_phase').map((p) => p.tags.phase),
      ['L1', 'L2', 'L3'],
    );
    assert.ok(res.points.every((p) => p.tags.demo === 'yes'));
  } finally {
    await session.close();
    sim.stop();
  }
});
