/**
 * The P1 session over the in-memory sim link, with the P1 simulator on the device end and an
 * injected clock (sleep resolves at once and records the back-off it was asked for).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../src/core/clock.js';
import { DeviceError, TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import type { Point } from '../../src/core/point.js';
import { dsmrP1Driver, type P1Options } from '../../src/devices/dsmr-p1/index.js';
import type { DeviceSession } from '../../src/devices/types.js';
import { P1Simulator, transportSink } from '../../src/simulators/dsmr-p1.js';
import { DSMR5_NL, T211_57B6, T211_7945, T211_2B41 } from '../../src/simulators/dsmr-p1-recordings.js';
import { createSimLink, type SimEndpoint } from '../../src/transports/sim.js';
import type { Transport } from '../../src/transports/transport.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_700_000_000_000;
const settle = () => new Promise((r) => setTimeout(r, 5));
/** Waits (bounded) until the session's background work has got somewhere; not a timing test. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `gave up waiting: ${what}`);
}
const signal = () => new AbortController().signal;

function fakeClock() {
  const clock = new FakeClock(T0, { sleep: 'next-tick' });
  return { clock, sleeps: clock.sleeps, advance: (ms: number) => clock.advance(ms) };
}

interface Rig {
  session: DeviceSession;
  device: SimEndpoint;
  host: SimEndpoint;
  sim: P1Simulator;
  advance: (ms: number) => number;
  sleeps: number[];
  captured: { data: string; timeMs: number }[];
  send: (...telegrams: string[]) => Promise<void>;
}

async function rig(options: Partial<P1Options> = {}, telegrams = [T211_7945]): Promise<Rig> {
  const { host, device } = createSimLink('sim:p1');
  await device.open();
  const { clock, sleeps, advance } = fakeClock();
  const captured: Rig['captured'] = [];
  const session = dsmrP1Driver.createSession({
    device: 'meter',
    options: dsmrP1Driver.options.parse({ reopenMinMs: 1000, ...options }),
    tags: { site: 'home' },
    transport: host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => {
      assert.equal(direction, 'rx');
      captured.push({ data: String(data), timeMs });
    },
  });
  await session.start();
  const sim = new P1Simulator(transportSink(device), { telegrams });
  const send = async (...ts: string[]) => {
    for (const t of ts) await device.write(Buffer.from(t, 'latin1'));
    await settle();
  };
  return { session, device, host, sim, advance, sleeps, captured, send };
}

const p1 = (points: Point[]) => points.filter((p) => p.measurement === 'p1');

test('mode latest: the newest telegram since the last collection, once; tags and arrival time', async () => {
  const r = await rig();
  await r.send(T211_7945);
  r.advance(10_000);
  await r.send(T211_57B6);
  const { points } = await r.session.collect(signal());
  assert.equal(points.length, 1);
  assert.deepEqual(points[0].tags, { site: 'home', device: 'meter' });
  assert.equal(points[0].fields.energy_import_kwh, 4788.631);
  assert.equal(points[0].time, BigInt(T0 + 10_000) * 1_000_000n);
  assert.deepEqual((await r.session.collect(signal())).points, [], 'nothing new, not stale: no points, no error');
  assert.equal(r.captured.length, 2);
  assert.equal(r.captured[1].data, T211_57B6);
  assert.equal(r.captured[1].timeMs, T0 + 10_000);
  await r.session.close();
});

test('timestamps: meter: a 2021 meter clock arriving in 2023 is not believed; the arrival time is used, counted as a drop reason', async () => {
  const r = await rig({ timestamps: 'meter' });
  await r.send(T211_7945);
  const result = await r.session.collect(signal());
  assert.equal(p1(result.points)[0]!.time, BigInt(T0) * 1_000_000n);
  assert.deepEqual(result.dropped, [{ reason: 'implausible meter clock', count: 1 }]);
  await r.session.close();
});

test('mode every: all telegrams, in order; the queue is bounded and overflow is counted', async () => {
  // The captures are from 2021, the rig's clock says 2023: the plausibility window is off here.
  const r = await rig({ mode: 'every', queueLimit: 2, timestamps: 'meter', meterClockWindowMs: 0 });
  await r.send(T211_7945, T211_57B6, T211_2B41);
  const result = await r.session.collect(signal());
  assert.deepEqual(
    p1(result.points).map((p) => p.fields.energy_import_kwh),
    [4788.631, 119.841],
  );
  assert.equal(result.points[1].time, 1630160693n * 1_000_000_000n, "the meter's clock");
  assert.deepEqual(result.dropped, [{ reason: 'queue overflow', count: 1 }]);
  assert.equal(r.session.stats().queue_overflow, 1);
  await r.session.close();
});

test('M-Bus points come along (DSMR 5 with gas)', async () => {
  const r = await rig({ timestamps: 'meter' });
  await r.send(DSMR5_NL);
  const { points } = await r.session.collect(signal());
  const gas = points.find((p) => p.measurement === 'p1_mbus')!;
  assert.deepEqual(gas.tags, { site: 'home', device: 'meter', channel: '1', mbus_type: 'gas' });
  assert.equal(gas.fields.reading_m3, 0.107);
  await r.session.close();
});

test('broken telegrams from the simulator are dropped and counted; good ones still arrive', async () => {
  const r = await rig({ mode: 'every' });
  r.sim.inject('bad-crc', 'garbage', 'truncated', 'oversize', 'split');
  for (let i = 0; i < 6; i++) await r.sim.tick();
  await settle();
  const s = r.session.stats();
  assert.deepEqual({ ok: s.telegrams_ok, crc: s.crc_errors, garbage: s.garbage_bytes, truncated: s.truncated, oversize: s.oversize }, { ok: 4, crc: 1, garbage: 48, truncated: 1, oversize: 1 });
  const result = await r.session.collect(signal());
  assert.equal(p1(result.points).length, 4);
  assert.deepEqual(
    [...(result.dropped ?? [])].sort((a, b) => a.reason.localeCompare(b.reason)),
    [
      { reason: 'bad CRC', count: 1 },
      { reason: 'oversize telegram', count: 1 },
      { reason: 'truncated telegram', count: 1 },
    ],
  );
  await r.session.close();
});

test('stale: no good telegram for staleAfterMs -> DeviceError that says what was seen', async () => {
  const r = await rig({ staleAfterMs: 25_000 });
  r.advance(24_000);
  assert.deepEqual((await r.session.collect(signal())).points, []);
  r.advance(1_000);
  await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof DeviceError && /no good telegram for 25 s \(nothing received/.test(e.message));
  await r.device.write(Buffer.from('\x7f\x03garbage at the wrong baud rate', 'latin1'));
  await settle();
  await assert.rejects(r.session.collect(signal()), /check the serial settings/);
  await r.send(T211_7945);
  assert.equal((await r.session.collect(signal())).points.length, 1, 'a telegram ends it');
  await r.session.close();
});

test('the link drops: the session reopens it by itself and telegrams flow again', async () => {
  const r = await rig();
  r.host.unplug();
  await until(() => r.session.stats().reopens === 1, 'reopen');
  assert.deepEqual(r.sleeps, [1000]);
  assert.equal(r.host.isOpen, true);
  await r.device.open();
  await r.send(T211_2B41);
  assert.equal((await r.session.collect(signal())).points.length, 1);
  await r.session.close();
  assert.equal(r.host.isOpen, false);
});

/** A port that is missing for the first `failures` opens. */
class FlakyPort extends EventEmitter implements Transport {
  readonly key = 'serial:/dev/ttyFLAKY';
  isOpen = false;
  opens = 0;
  constructor(
    private failures: number,
    private readonly retryable = true,
  ) {
    super();
  }
  async open(): Promise<void> {
    this.opens++;
    if (this.failures-- > 0) throw new TransportError('/dev/ttyFLAKY: no such serial port', this.retryable);
    this.isOpen = true;
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }
  async write(): Promise<void> {}
}

test('a missing port: start() does not fail, collect() says TransportError, back-off doubles, then it opens', async () => {
  const port = new FlakyPort(3);
  const { clock, sleeps } = fakeClock();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  // Hold the back-off at its first sleep so collect() sees the port closed.
  const gated: Clock = { ...clock, sleep: async (ms, s) => (sleeps.length === 0 ? (sleeps.push(ms), gate) : clock.sleep(ms, s)) };
  const session = dsmrP1Driver.createSession({ device: 'meter', options: dsmrP1Driver.options.parse({}), tags: {}, transport: port, clock: gated, log: silentLogger() });
  await session.start();
  await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable && /ttyFLAKY: port not open \(.*no such serial port\); reopening/.test(e.message));
  release();
  await until(() => port.isOpen, 'port open');
  assert.deepEqual(sleeps, [1000, 2000, 4000]);
  assert.deepEqual({ reopens: session.stats().reopens, failures: session.stats().reopen_failures }, { reopens: 1, failures: 2 });
  await session.close();
});

test('a port that can never work is thrown by start()', async () => {
  const { clock } = fakeClock();
  const session = dsmrP1Driver.createSession({ device: 'meter', options: dsmrP1Driver.options.parse({}), tags: {}, transport: new FlakyPort(1, false), clock, log: silentLogger() });
  await assert.rejects(session.start(), TransportError);
});

test('the event handlers never throw: a late error, data after close', async () => {
  const r = await rig();
  assert.doesNotThrow(() => r.host.emit('error', new Error('EIO')));
  await r.session.close();
  assert.doesNotThrow(() => r.host.emit('error', new Error('late')));
  assert.doesNotThrow(() => r.host.emit('data', Buffer.from(T211_7945, 'latin1')));
  assert.equal(r.session.stats().telegrams_ok, 0);
});
