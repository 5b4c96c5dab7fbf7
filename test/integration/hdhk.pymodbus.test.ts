/**
 * End to end over a real serial line against an independent Modbus implementation: a socat
 * PTY pair, Debian's pymodbus 3.0 as the RTU slave (test/helpers/hdhk_slave.py, several unit
 * ids with known registers) on one end, the hdhk session with SerialTransport on the other.
 * Then the port vanishes (socat and the slave killed) and comes back under the same name.
 * Every child is killed by its PID in after(). Waits are bounded polls, never timing assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import type { Point } from '../../src/core/point.js';
import { hdhkDriver, HdhkUnitError, type HdhkSession } from '../../src/devices/hdhk/index.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd } from '../helpers/influxd.js';
import { hdhkRegisters, startHdhkSlave } from '../helpers/hdhk-slave.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

const SPEC = {
  // Unit 1: the vendor screenshot values (§2.4): 11.20 A on a-h, 11.24 A on i-p.
  '1': hdhkRegisters(628, [...new Array(8).fill(1120), ...new Array(8).fill(1124)]),
  '2': hdhkRegisters(
    631,
    Array.from({ length: 16 }, (_, i) => 100 * (i + 1)),
  ),
  '17': hdhkRegisters(
    628,
    Array.from({ length: 16 }, (_, i) => 65535 - i),
  ),
  // Unit 5 holds registers 0-9 only: the current read is answered with exception 2.
  '5': [628, 40, 40, 5, 0, 0, 5, 30, 0, 0],
};

let dir: string;
let pair: PtyPair;
let slave: ChildProcess | undefined;
let transport: SerialTransport;
let session: HdhkSession;
const signal = () => new AbortController().signal;

async function stopSlave(): Promise<void> {
  const child = slave;
  slave = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

function byCircuit(points: Point[]): Record<string, Point> {
  return Object.fromEntries(points.filter((p) => p.measurement === 'hdhk').map((p) => [p.tags.circuit!, p]));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-hdhk-'));
  pair = await startPtyPair(dir);
  slave = await startHdhkSlave(pair.a, SPEC);
  const options = hdhkDriver.options.parse({
    requestTimeoutMs: 300,
    pauseMs: 5,
    frequency: 'read',
    units: [
      { id: 1, name: 'board-a', channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 }, '9': { circuit: 'washer', phase: 'L2' } } },
      { id: 2, ctRatio: 0.0245, channels: { '1': { circuit: 'heat pump', phase: 'L1' }, '16': { circuit: 'ev', phase: 'L3', ctRatio: 0.01 } } },
      { id: 17, channels: { '2': { circuit: 'max' } } },
      { id: 5, channels: { '1': { circuit: 'refuses' } } },
      { id: 9, channels: { '1': { circuit: 'absent' } } },
    ],
  });
  transport = new SerialTransport({ path: pair.b, presenceCheckMs: 100, ...hdhkDriver.defaultSerial!(options) });
  session = hdhkDriver.createSession({ device: 'bus1', options, tags: {}, transport, clock: systemClock, log: silentLogger() }) as HdhkSession;
  await session.start();
});

after(async () => {
  await session?.close();
  await stopSlave();
  await pair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('pymodbus slave: several unit ids read back as the expected currents', async () => {
  const res = await session.collect(signal());
  const p = byCircuit(res.points);
  assert.equal(p.oven!.fields.current_a, 11.2);
  assert.equal(p.oven!.fields.apparent_power_va, 2576);
  assert.equal(p.oven!.fields.frequency_hz, 49.9);
  assert.equal(p.oven!.fields.firmware, '6.2.8');
  assert.equal(p.washer!.fields.current_a, 11.24);
  assert.equal(p['heat pump']!.fields.current_a, 2.45); // 100 counts × 0.0245 A
  assert.equal(p.ev!.fields.current_a, 16); // 1600 counts × 0.01 A (channel override)
  assert.equal(p['heat pump']!.fields.firmware, '6.3.1');
  assert.equal(p.max!.fields.current_a, 655.34);
  assert.deepEqual(Object.keys(p).sort(), ['ev', 'heat pump', 'max', 'oven', 'washer']);
  const l1 = res.points.find((x) => x.measurement === 'hdhk_phase' && x.tags.phase === 'L1')!;
  assert.equal(l1.fields.current_a, 13.65);

  const fail = (unit: number) => {
    const o = session.lastOutcome.find((x) => x.unit === unit)!;
    assert.ok(!o.ok);
    return o.error;
  };
  assert.ok(fail(5) instanceof HdhkUnitError);
  assert.equal(fail(5).reason, 'exception');
  assert.equal(fail(5).exceptionCode, 2);
  assert.equal(fail(9).reason, 'timeout');
  assert.deepEqual(res.dropped, [
    { reason: 'unit 5: exception', count: 1 },
    { reason: 'unit 9: timeout', count: 1 },
  ]);
});

test('the port vanishes and comes back: a typed error, then recovery', async () => {
  await stopSlave();
  await pair.stop();
  // The presence check notices the node is gone and closes the port.
  for (let i = 0; i < 100 && transport.isOpen; i++) await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);

  pair = await startPtyPair(dir);
  slave = await startHdhkSlave(pair.a, SPEC);
  const res = await session.collect(signal());
  assert.equal(byCircuit(res.points).oven!.fields.current_a, 11.2);
  assert.equal(session.stats().reopens, 1);
});

test('wattline once: pymodbus registers end up as the expected currents in a real influxd', async () => {
  // One owner per port: the session above lets go of the PTY before the CLI opens it.
  await session.close();
  const influxd = await startInfluxd();
  try {
    await createDatabase(influxd.url, 'hdhk');
    const config = join(dir, 'wattline.yaml');
    writeFileSync(
      config,
      stringify({
        outbox: { path: 'outbox.sqlite' },
        influx: { version: 1, url: influxd.url, database: 'hdhk' },
        devices: [
          {
            name: 'bus1',
            driver: 'hdhk',
            port: { path: pair.b },
            timeoutMs: 10_000,
            options: {
              requestTimeoutMs: 300,
              units: [
                { id: 1, channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 }, '9': { circuit: 'washer', phase: 'L2' } } },
                { id: 2, ctRatio: 0.0245, channels: { '1': { circuit: 'heat pump', phase: 'L1' } } },
              ],
            },
          },
        ],
      }),
    );
    const r = await runCli(['--config', config, 'once']);
    assert.equal(r.code, 0, r.stderr);
    const series = await query(influxd.url, 'hdhk', 'SELECT last("current_a") FROM "hdhk" GROUP BY "circuit"');
    const byTag = Object.fromEntries(series.map((s) => [s.tags!.circuit, s.values[0]![1]]));
    // Unit 1 holds the vendor values (1120, 1124 counts at 0.01 A); unit 2 channel 1 holds 100 counts at 0.0245 A.
    assert.deepEqual(byTag, { oven: 11.2, washer: 11.24, 'heat pump': 2.45 });
    const phase = await query(influxd.url, 'hdhk', 'SELECT last("current_a") FROM "hdhk_phase" WHERE "phase" = \'L1\'');
    assert.equal(phase[0]?.values[0]?.[1], 13.65);
  } finally {
    await influxd.stop();
  }
});
