/**
 * End to end over a real serial line: a socat PTY pair, the P1 simulator writing recorded
 * telegrams into one end, the driver's session reading the other through SerialTransport
 * (serialport). Then the port vanishes (socat killed) and comes back under the same name.
 * Waits are bounded polls, never timing assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import type { Point } from '../../src/core/point.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import type { DeviceSession } from '../../src/devices/types.js';
import { P1Simulator, pathSink } from '../../src/simulators/dsmr-p1.js';
import { DSMR5_NL, T211_7945 } from '../../src/simulators/dsmr-p1-recordings.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

let dir: string;
let pair: PtyPair;
let transport: SerialTransport;
let session: DeviceSession;
let sim: P1Simulator;
const signal = () => new AbortController().signal;

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting (${timeoutMs} ms): ${what}; stats ${JSON.stringify(session.stats())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Ticks the simulator until the session has counted `n` more good telegrams. */
async function receive(n: number): Promise<void> {
  const target = session.stats().telegrams_ok + n;
  await until(() => session.stats().telegrams_ok >= target, `${n} telegram(s)`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-p1-'));
  pair = await startPtyPair(dir);
  transport = new SerialTransport({ path: pair.b, ...dsmrP1Driver.defaultSerial!(dsmrP1Driver.options.parse({})) });
  session = dsmrP1Driver.createSession({
    device: 'meter',
    options: dsmrP1Driver.options.parse({ mode: 'every', timestamps: 'meter', meterClockWindowMs: 0, timezone: 'Europe/Stockholm', reopenMinMs: 100, reopenMaxMs: 400 }),
    tags: {},
    transport,
    clock: systemClock,
    log: silentLogger(),
  });
  await session.start();
  sim = new P1Simulator(pathSink(pair.a), { telegrams: [T211_7945, DSMR5_NL] });
});

after(async () => {
  await session?.close();
  await sim?.stop();
  await pair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('PTY: recorded telegrams arrive as points with the right values', async () => {
  assert.equal(transport.key, `serial:${pair.b}`);
  const ticking = setInterval(() => void sim.tick(), 50);
  try {
    await receive(2);
  } finally {
    clearInterval(ticking);
  }
  await sim.tick(); // flush the simulator's queue before reading
  const { points } = await session.collect(signal());
  const p1 = points.filter((p: Point) => p.measurement === 'p1');
  const t211 = p1.find((p) => p.fields.energy_import_kwh === 6678.394)!;
  assert.ok(t211, 'the T211 telegram');
  assert.equal(t211.fields.power_import_w, 1727);
  assert.equal(t211.fields.voltage_l3_v, 241.3);
  assert.equal(t211.time, 1613583619n * 1_000_000_000n);
  const gas = points.find((p) => p.measurement === 'p1_mbus')!;
  assert.equal(gas.fields.reading_m3, 0.107);
  assert.equal(gas.tags.mbus_type, 'gas');
});

test('PTY: injected broken telegrams are counted and good ones still arrive', async () => {
  const before = session.stats();
  sim.inject('bad-crc', 'garbage', 'truncated', 'oversize', 'split');
  for (let i = 0; i < 5; i++) await sim.tick();
  await sim.tick(); // and one plain telegram
  await until(() => session.stats().oversize > before.oversize && session.stats().telegrams_ok >= before.telegrams_ok + 4, 'faults counted');
  const s = session.stats();
  assert.equal(s.crc_errors - before.crc_errors, 1);
  assert.equal(s.garbage_bytes - before.garbage_bytes, 48);
  assert.equal(s.truncated - before.truncated, 1);
  assert.equal(s.oversize - before.oversize, 1);
  assert.ok(s.telegrams_ok - before.telegrams_ok >= 4);
  const { points, dropped } = await session.collect(signal());
  assert.ok(points.length >= 4);
  assert.ok(dropped?.some((d) => d.reason === 'bad CRC'));
});

test('PTY: the port vanishes and comes back; the session reopens it by itself', async () => {
  const reopensBefore = session.stats().reopens;
  await pair.stop();
  await until(() => !transport.isOpen, 'the port to close');
  await session.collect(signal()).catch(() => undefined); // hand over what arrived before the loss
  await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);
  await sim.tick(); // nobody listening: the simulator counts a failure, no crash
  assert.ok(sim.failures >= 1);

  pair = await startPtyPair(dir);
  await until(() => session.stats().reopens > reopensBefore, 'the session to reopen the port');
  const ticking = setInterval(() => void sim.tick(), 50);
  try {
    await receive(2);
  } finally {
    clearInterval(ticking);
  }
  const { points } = await session.collect(signal());
  assert.ok(points.some((p) => p.measurement === 'p1' && p.fields.energy_import_kwh === 6678.394));
});

test('SerialTransport: a missing port rejects with a retryable TransportError naming the path; close() twice is fine', async () => {
  const missing = join(dir, 'no-such-port');
  const t = new SerialTransport({ path: missing, baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 });
  assert.equal(t.key, `serial:${missing}`);
  await assert.rejects(t.open(), (e: unknown) => e instanceof TransportError && e.retryable && e.message.includes(missing));
  assert.equal(t.isOpen, false);
  await t.close();
  await t.close();
  await assert.rejects(t.write(Buffer.from('x')), TransportError);
});
