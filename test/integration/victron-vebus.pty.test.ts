/**
 * End to end over a real serial line: a socat PTY pair, the project's Multiplus simulator
 * (src/simulators/victron-vebus.ts: no Multiplus or MK3 can run here; it builds its frames
 * from its own tables) on one end through SerialTransport, the victron-vebus driver on the
 * other: polls, corrupt and interleaved frames on the tty, the ESS set-point reaching the
 * simulator, refusals outside the limits, the port vanishing and coming back, and `wattline
 * once` into a real influxd.
 * Everything started is stopped by PID in after(). Waits are bounded, never timing assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { systemClock } from '../../src/core/clock.js';
import { ConfigError, InputError, TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { IntField, type Point } from '../../src/core/point.js';
import { victronVebusDriver, type VebusSession } from '../../src/devices/victron-vebus/index.js';
import { startVebusSimulator, type VebusSimulator } from '../../src/simulators/victron-vebus.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { prepareControl } from '../../src/assembly/device.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import { runCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd } from '../helpers/influxd.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

let dir: string;
let pair: PtyPair;
let simPort: SerialTransport;
let sim: VebusSimulator;
let transport: SerialTransport;
let session: VebusSession;
const signal = () => new AbortController().signal;
const OPTIONS = { requestTimeoutMs: 400, control: { essPower: { min: -1500, max: 1500 }, sleep: true } };

const field = (points: Point[], name: string, phase?: string) => {
  const v = points.find((p) => p.tags.phase === phase)?.fields[name];
  return v instanceof IntField ? Number(v.value) : v;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-vebus-'));
  pair = await startPtyPair(dir);
  simPort = new SerialTransport({ path: pair.a, baudRate: 2400, dataBits: 8, parity: 'none', stopBits: 1 });
  await simPort.open();
  sim = startVebusSimulator(simPort, { idleVersionMs: 300, replyDelayMs: 2 });
  const options = victronVebusDriver.options.parse(OPTIONS);
  transport = new SerialTransport({ path: pair.b, presenceCheckMs: 100, ...victronVebusDriver.defaultSerial!(options) });
  session = victronVebusDriver.createSession({ device: 'mp2', options, tags: {}, transport, clock: systemClock, log: silentLogger() }) as VebusSession;
  await session.start();
});

after(async () => {
  await session?.close();
  sim?.stop();
  await simPort?.close();
  await pair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('over a PTY: the simulated Multiplus read at 2400 8N1 (defaultSerial), idle version frames never taken as replies', async () => {
  assert.deepEqual(victronVebusDriver.defaultSerial!(victronVebusDriver.options.parse({})), { baudRate: 2400, dataBits: 8, parity: 'none', stopBits: 1 });
  const res = await session.collect(signal());
  assert.equal(field(res.points, 'battery_v'), 52.3);
  assert.equal(field(res.points, 'soc_pct'), 90);
  assert.equal(field(res.points, 'inverter_power_w'), 370);
  assert.equal(field(res.points, 'mains_a', 'L1'), -1.61);
  assert.equal(session.essSetpointRamId, 131);
  // Idle for longer than the simulator's idle period: version frames arrive unasked, then a poll still works.
  await new Promise((r) => setTimeout(r, 800));
  const again = await session.collect(signal());
  assert.equal(field(again.points, 'state'), 9);
  assert.ok(session.stats().unsolicited_version >= 1, JSON.stringify(session.stats()));
});

test('over a PTY: corrupt and interleaved frames on the tty are counted, the poll after recovers', async () => {
  sim.fault('version-between', 4);
  await session.collect(signal());
  sim.fault('bad-checksum');
  await assert.rejects(session.collect(signal()));
  const res = await session.collect(signal());
  assert.deepEqual(res.dropped, [{ reason: 'bad checksum', count: 1 }]);
  assert.equal(field(res.points, 'battery_a'), -7.1);
});

test('over a PTY: ess-power reaches the simulator as a RAM-only write; outside the limits and unconfigured verbs are refused', async () => {
  const config = { name: 'mp2', driver: 'victron-vebus', options: victronVebusDriver.options.parse(OPTIONS) } as unknown as DeviceConfig;
  const result = await session.control!(prepareControl(victronVebusDriver, config, 'ess-power', ['-750']), signal());
  assert.match(result.message, /-750 W written to RAM id 131/);
  assert.equal(sim.setpointRaw, 750);
  assert.equal(sim.writes.at(-1)?.flags, 0x02);
  const res = await session.collect(signal());
  assert.equal(field(res.points, 'ess_setpoint_w'), -750);

  assert.throws(
    () => prepareControl(victronVebusDriver, config, 'ess-power', ['1501']),
    (e: unknown) => e instanceof InputError && /outside the allowed range -1500…1500 W/.test(e.message),
  );
  assert.throws(() => prepareControl(victronVebusDriver, config, 'wakeup', []), ConfigError);
  assert.equal(sim.writes.length, 1, 'nothing written for the refusals');
});

test('over a PTY: the port vanishes (a TransportError) and comes back (reopened, connected afresh)', async () => {
  sim.stop();
  await simPort.close();
  await pair.stop();
  for (let i = 0; i < 100 && transport.isOpen; i++) await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);

  pair = await startPtyPair(dir);
  simPort = new SerialTransport({ path: pair.a, baudRate: 2400, dataBits: 8, parity: 'none', stopBits: 1 });
  await simPort.open();
  sim = startVebusSimulator(simPort, { idleVersionMs: 300, replyDelayMs: 2, state: { batteryV: 53.1 } });
  const res = await session.collect(signal());
  assert.equal(field(res.points, 'battery_v'), 53.1);
  assert.equal(session.stats().connects, 2);
  // The new simulator holds no set-point yet: write it again for the influxd test below.
  await session.control!(victronVebusDriver.control!.prepare('ess-power', ['-750'], victronVebusDriver.options.parse(OPTIONS), 'mp2'), signal());
});

test('wattline once: the simulated Multiplus over the PTY ends up in a real influxd', async () => {
  // One owner per port: the session above lets go of the PTY before the CLI opens it.
  await session.close();
  const influxd = await startInfluxd();
  try {
    await createDatabase(influxd.url, 'vebus');
    const config = join(dir, 'wattline.yaml');
    writeFileSync(
      config,
      stringify({
        outbox: { path: 'outbox.sqlite' },
        influx: { version: 1, url: influxd.url, database: 'vebus' },
        devices: [{ name: 'mp2', driver: 'victron-vebus', port: { path: pair.b }, timeoutMs: 15_000, options: { requestTimeoutMs: 400 } }],
      }),
    );
    const r = await runCli(['--config', config, 'once']);
    assert.equal(r.code, 0, r.stderr);
    const dev = await query(influxd.url, 'vebus', 'SELECT last("battery_v"), last("soc_pct"), last("ess_setpoint_w"), last("state") FROM "vebus" WHERE "device" = \'mp2\'');
    assert.deepEqual(dev[0]?.values[0]?.slice(1), [53.1, 90, -750, 9]);
    const l1 = await query(influxd.url, 'vebus', 'SELECT last("mains_v"), last("mains_a") FROM "vebus" WHERE "phase" = \'L1\'');
    assert.deepEqual(l1[0]?.values[0]?.slice(1), [232.76, -1.61]);
  } finally {
    await influxd.stop();
  }
});
