/**
 * Devices on the network, with real parts: Debian's ser2net (raw and telnet(rfc2217)) in front of
 * a socat PTY pair, the project's P1 simulator and a pymodbus RTU slave on the far side, and
 * pymodbus as an independent Modbus TCP server with several unit ids. The links are made by the
 * worker's own createTransport() from `port.path` URLs, as a config would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { TimeoutError, TransportError } from '../../src/core/errors.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/core/log.js';
import type { Point } from '../../src/core/point.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import { hdhkDriver, HdhkUnitError, type HdhkSession } from '../../src/devices/hdhk/index.js';
import { powerwalkerPduDriver } from '../../src/devices/powerwalker-pdu/index.js';
import type { DeviceSession, Driver } from '../../src/devices/types.js';
import { P1Simulator, pathSink } from '../../src/simulators/dsmr-p1.js';
import { T211_7945 } from '../../src/simulators/dsmr-p1-recordings.js';
import { linkKey } from '../../src/assembly/link.js';
import { createTransport } from '../../src/assembly/transport.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import { hdhkRegisters as unitRegisters, startHdhkSlave } from '../helpers/hdhk-slave.js';
import { freePort, freePorts } from '../helpers/ports.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';
import { startSer2net, type Ser2net } from '../helpers/ser2net.js';

const signal = () => new AbortController().signal;

const SPEC = {
  '1': unitRegisters(628, [...new Array(8).fill(1120), ...new Array(8).fill(1124)]),
  '2': unitRegisters(
    631,
    Array.from({ length: 16 }, (_, i) => 100 * (i + 1)),
  ),
  '5': [628, 40, 40, 5, 0, 0, 5, 30, 0, 0],
};
const HDHK_OPTIONS = {
  requestTimeoutMs: 400,
  pauseMs: 5,
  units: [
    { id: 1, channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 } } },
    { id: 2, ctRatio: 0.0245, channels: { '1': { circuit: 'heat pump', phase: 'L1' } } },
    { id: 5, channels: { '1': { circuit: 'refuses' } } },
    { id: 9, channels: { '1': { circuit: 'absent' } } },
  ],
};

const startSlave = (where: string) => startHdhkSlave(where, SPEC);
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

function device(driver: Driver, path: string, options: unknown, extra: Record<string, unknown> = {}): DeviceConfig {
  return { name: 'dev', driver: driver.id, port: { path, ...extra }, options: driver.options.parse(options) } as unknown as DeviceConfig;
}

function hdhkSession(path: string, options: typeof HDHK_OPTIONS = HDHK_OPTIONS, log: Logger = silentLogger()): HdhkSession {
  const config = device(hdhkDriver, path, options);
  const { transport } = createTransport(config, hdhkDriver);
  return hdhkDriver.createSession({ device: 'bus', options: config.options as never, tags: {}, transport, clock: systemClock, log }) as HdhkSession;
}

const byCircuit = (points: Point[]) => Object.fromEntries(points.filter((p) => p.measurement === 'hdhk').map((p) => [p.tags.circuit!, p]));

let dir: string;
let pair: PtyPair;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-net-'));
  pair = await startPtyPair(dir);
});
after(async () => {
  await pair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ser2net in front of the PTY for the length of `body`, stopped by its PID whatever happens. */
async function withSer2net(mode: 'raw' | 'rfc2217', body: (ser2net: Ser2net) => Promise<void>): Promise<void> {
  const ser2net = await startSer2net(pair.b, mode, '115200n81');
  try {
    await body(ser2net);
  } finally {
    await ser2net.stop();
  }
}

/** The simulated meter's telegrams, every 100 ms until paused. */
interface Meter {
  pause(): void;
  resume(): void;
}

async function p1Over(path: string, check: (session: DeviceSession, meter: Meter) => Promise<void>, options: Record<string, unknown> = {}, log: Logger = silentLogger()): Promise<void> {
  const config = device(dsmrP1Driver, path, { mode: 'every', timestamps: 'collection', reopenMinMs: 100, reopenMaxMs: 400, ...options });
  const { transport } = createTransport(config, dsmrP1Driver);
  const session = dsmrP1Driver.createSession({ device: 'meter', options: config.options as never, tags: {}, transport, clock: systemClock, log });
  const sim = new P1Simulator(pathSink(pair.a), { telegrams: [T211_7945] });
  let paused = false;
  const ticking = setInterval(() => void (paused || sim.tick()), 100);
  try {
    await session.start();
    await check(session, { pause: () => (paused = true), resume: () => (paused = false) });
  } finally {
    clearInterval(ticking);
    await session.close();
    await sim.stop();
  }
}

async function telegramsFrom(session: DeviceSession, n: number): Promise<Point[]> {
  const deadline = Date.now() + 15_000;
  const points: Point[] = [];
  while (points.filter((p) => p.measurement === 'p1').length < n) {
    if (Date.now() > deadline) assert.fail(`no ${n} telegrams: ${JSON.stringify(session.stats())}`);
    await new Promise((r) => setTimeout(r, 100));
    try {
      points.push(...(await session.collect(signal())).points);
    } catch {
      // nothing yet
    }
  }
  return points;
}

test('P1 over tcp:// (ser2net raw): the telegrams arrive whole, and decode to what a local capture of the same telegram gives', async () => {
  await withSer2net('raw', (ser2net) =>
    p1Over(ser2net.url, async (session) => {
      const points = await telegramsFrom(session, 2);
      const local = dsmrP1Driver.decode!(Buffer.from(T211_7945, 'latin1'), { device: 'meter', options: dsmrP1Driver.options.parse({ timestamps: 'collection' }), tags: {}, clock: systemClock }).points;
      const fields = (p: Point[]) => p.filter((x) => x.measurement === 'p1').map((x) => x.fields)[0];
      assert.deepEqual(fields(points), fields(local));
      assert.equal(session.stats().telegrams_bad ?? 0, 0);
    }),
  );
});

test("P1 over rfc2217:// (ser2net telnet): the config's serial settings reach the remote port (stty on the PTY), the telegrams arrive", async () => {
  await withSer2net('rfc2217', async (ser2net) => {
    // ser2net opened the port at 115200; the device entry asks for 9600 (as a DSMR 2.2 meter would).
    const config = device(dsmrP1Driver, ser2net.url, {}, { baudRate: 9600 });
    const { transport } = createTransport(config, dsmrP1Driver);
    await transport.open();
    try {
      const stty = execFileSync('stty', ['-F', pair.b], { encoding: 'utf8' });
      assert.match(stty, /^speed 9600 baud/, stty);
    } finally {
      await transport.close();
    }
    await p1Over(ser2net.url, async (session) => {
      assert.equal((await telegramsFrom(session, 2)).filter((p) => p.measurement === 'p1').length >= 2, true);
      assert.match(execFileSync('stty', ['-F', pair.b], { encoding: 'utf8' }), /^speed 115200 baud/, 'the P1 default, 115200');
    });
  });
});

test('one owner per remote port: tcp://, rfc2217:// and modbus+tcp:// to one host:port share a link key; other ports do not', () => {
  const key = (path: string, d: Driver = hdhkDriver) => linkKey(device(d, path, d === hdhkDriver ? HDHK_OPTIONS : {}), d);
  assert.equal(key('tcp://10.1.2.3:4001'), 'tcp:10.1.2.3:4001');
  assert.equal(key('rfc2217://10.1.2.3:4001'), 'tcp:10.1.2.3:4001');
  assert.equal(key('modbus+tcp://10.1.2.3:4001'), 'tcp:10.1.2.3:4001');
  assert.equal(key('modbus+tcp://10.1.2.3'), 'tcp:10.1.2.3:502');
  assert.notEqual(key('tcp://10.1.2.3:4002'), key('tcp://10.1.2.3:4001'));
});

test('hdhk over modbus+tcp:// (pymodbus TCP server): values per unit id, an exception reply, an absent unit, the server killed and back', async () => {
  const port = await freePort();
  let server = await startSlave(`tcp:${port}`);
  const session = hdhkSession(`modbus+tcp://127.0.0.1:${port}`);
  try {
    await session.start();
    const res = await session.collect(signal());
    const p = byCircuit(res.points);
    assert.equal(p.oven!.fields.current_a, 11.2);
    assert.equal(p.oven!.fields.firmware, '6.2.8');
    assert.equal(p['heat pump']!.fields.current_a, 2.45);
    const failed = (unit: number) => {
      const o = session.lastOutcome.find((x) => x.unit === unit)!;
      assert.ok(!o.ok, `unit ${unit} failed`);
      return o.error as HdhkUnitError;
    };
    assert.equal(failed(5).reason, 'exception');
    assert.equal(failed(5).exceptionCode, 2);
    assert.ok(failed(9), 'unit 9 does not exist on the server');

    await stop(server);
    await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError || e instanceof Error);
    server = await startSlave(`tcp:${port}`);
    // As the scheduler would: poll until it answers (after a failed connect the link backs off).
    await until('the restarted server answers', async () => {
      try {
        return byCircuit((await session.collect(signal())).points).oven?.fields.current_a === 11.2;
      } catch {
        return false;
      }
    });
  } finally {
    await session.close();
    await stop(server);
  }
});

test('hdhk over tcp:// to a pymodbus RTU slave behind ser2net: RTU frames with CRC end to end', async () => {
  const slave = await startSlave(pair.a);
  try {
    await withSer2net('raw', async (ser2net) => {
      const session = hdhkSession(ser2net.url);
      try {
        await session.start();
        const res = await session.collect(signal());
        assert.equal(byCircuit(res.points).oven!.fields.current_a, 11.2);
        assert.equal(byCircuit(res.points)['heat pump']!.fields.current_a, 2.45);
      } finally {
        await session.close();
      }
    });
  } finally {
    await stop(slave);
  }
});

/** A TCP server on loopback that acts out a broken gateway. */
async function gateway(onConnection: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('faults: refused, accepted but silent, closed mid-frame, a byte every 100 ms: each a typed error for that poll, no crash, then recovery', async () => {
  // Refused: nothing listens.
  const closedPort = await freePort();
  const refused = hdhkSession(`modbus+tcp://127.0.0.1:${closedPort}`);
  await refused.start();
  await assert.rejects(refused.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);
  await refused.close();

  // Accepts and never answers: every unit times out (a typed per-unit error), the poll ends.
  const silent = await gateway(() => {});
  const quiet = hdhkSession(`modbus+tcp://127.0.0.1:${silent.port}`);
  try {
    await quiet.start();
    await assert.rejects(quiet.collect(signal()));
    assert.ok(
      quiet.lastOutcome.every((o) => !o.ok && o.error.reason === 'timeout'),
      JSON.stringify(quiet.lastOutcome),
    );
  } finally {
    await quiet.close();
    await silent.close();
  }

  // Closes mid-frame: half an MBAP reply, then FIN.
  const half = await gateway((s) => s.once('data', () => s.end(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x23, 0x01, 0x03]))));
  const cut = hdhkSession(`modbus+tcp://127.0.0.1:${half.port}`);
  try {
    await cut.start();
    await assert.rejects(cut.collect(signal()));
    assert.ok(
      cut.lastOutcome.every((o) => !o.ok),
      JSON.stringify(cut.lastOutcome),
    );
  } finally {
    await cut.close();
    await half.close();
  }

  // Dribbles one byte every 100 ms: slower than the request timeout, a timeout or truncated reply.
  const slow = await gateway((s) =>
    s.on('data', (req: Buffer) => {
      const reply = Buffer.from([req[0]!, req[1]!, 0, 0, 0, 5, req[6]!, 0x03, 0x02, 0x00, 0x01]);
      let i = 0;
      const t = setInterval(() => (i < reply.length && !s.destroyed ? s.write(reply.subarray(i, ++i)) : clearInterval(t)), 100);
      s.once('close', () => clearInterval(t));
    }),
  );
  const dribble = hdhkSession(`modbus+tcp://127.0.0.1:${slow.port}`);
  try {
    await dribble.start();
    await assert.rejects(dribble.collect(signal()));
    assert.ok(
      dribble.lastOutcome.every((o) => !o.ok && ['timeout', 'truncated'].includes(o.error.reason)),
      JSON.stringify(dribble.lastOutcome),
    );
  } finally {
    await dribble.close();
    await slow.close();
  }
});

/** Poll `fn` every 100 ms until it returns true; fail with `what` after 15 s. */
async function until(what: string, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`not within 15 s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('P1 over tcp:// (ser2net raw): ser2net killed and started again, and a stream gone quiet: each time the link is reconnected (counted) and telegrams flow again', async () => {
  const logged: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  await withSer2net('raw', (ser2net) =>
    p1Over(
      ser2net.url,
      async (session, meter) => {
        await telegramsFrom(session, 2);
        await ser2net.stopHard();
        await until('the link is seen closed', () => session.stats().link_open === 0);
        await ser2net.restart();
        await telegramsFrom(session, 2);
        assert.ok(session.stats().reopens! >= 1, JSON.stringify(session.stats()));

        // ser2net stays up but nothing comes: after reconnectQuietMs the link is closed and opened again.
        meter.pause();
        await until('a quiet reconnect', () => session.stats().quiet_reconnects! >= 1);
        const reopens = session.stats().reopens!;
        await until('reopened after going quiet', () => session.stats().reopens! > reopens);
        meter.resume();
        await telegramsFrom(session, 2);
      },
      { reconnectQuietMs: 1000 },
      log,
    ),
  );
  // Two outages (ser2net gone, then quiet; a loaded machine may add a quiet spell): one warning
  // and one 'back' line each, however many attempts, and no other warning.
  const lines = (msg: string) => logged.filter((l) => l.msg === msg);
  const downs = lines('P1 link down; reconnecting').length;
  assert.ok(downs >= 2, JSON.stringify(logged.map((l) => l.msg)));
  assert.equal(lines('P1 link back').length, downs);
  assert.deepEqual(
    logged.filter((l) => l.level >= 40 && l.msg !== 'P1 link down; reconnecting'),
    [],
  );
});

test('hdhk over modbus+tcp:// through a relay frozen without FIN (socat, SIGSTOP): typed timeouts and a link reset, another gateway polled meanwhile, recovery after SIGCONT', async () => {
  const [serverPort, relayPort] = await freePorts(2);
  const server = await startSlave(`tcp:${serverPort}`);
  // Its own process group: SIGSTOP reaches the listener and the child it forked per connection.
  const relay = spawn('socat', [`TCP-LISTEN:${relayPort},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${serverPort}`], { stdio: 'ignore', detached: true });
  const logged: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const frozen = hdhkSession(`modbus+tcp://127.0.0.1:${relayPort}`, HDHK_OPTIONS, log);
  // Units that answer: its polls take a few ms, the frozen one's four request timeouts.
  const other = hdhkSession(`modbus+tcp://127.0.0.1:${serverPort}`, { ...HDHK_OPTIONS, units: HDHK_OPTIONS.units.slice(0, 2) });
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-relay.pid!, sig);
    } catch {
      // already gone
    }
  };
  try {
    await until('socat listens', () => canConnect(relayPort!));
    await frozen.start();
    await other.start();
    assert.equal(byCircuit((await frozen.collect(signal())).points).oven!.fields.current_a, 11.2);

    group('SIGSTOP');
    let settled = false;
    const stuck = frozen.collect(signal()).finally(() => (settled = true));
    // The other gateway is polled, to the end, while the frozen one waits for its replies.
    for (let i = 0; i < 2; i++) assert.equal(byCircuit((await other.collect(signal())).points).oven!.fields.current_a, 11.2);
    assert.equal(settled, false, 'the other gateway finished its polls before the frozen poll gave up');
    await assert.rejects(stuck);
    assert.ok(
      frozen.lastOutcome.every((o) => !o.ok && o.error instanceof HdhkUnitError && o.error.reason === 'timeout'),
      JSON.stringify(frozen.lastOutcome),
    );
    assert.equal(frozen.stats().link_resets, 1, 'the connection that looked open was dropped');
    // Still frozen: a fresh connection (the kernel accepts for the stopped socat) times out too.
    await assert.rejects(frozen.collect(signal()));
    assert.equal(frozen.stats().link_resets, 2);

    group('SIGCONT');
    await until('the frozen relay answers again', async () => {
      try {
        return byCircuit((await frozen.collect(signal())).points).oven?.fields.current_a === 11.2;
      } catch {
        return false;
      }
    });
    assert.ok(frozen.stats().reopens! >= 2, JSON.stringify(frozen.stats()));
    // Logged once per change of state: one warning going down, one line back; the rest at debug.
    const lines = (msg: string) => logged.filter((l) => l.msg === msg);
    assert.equal(lines('hdhk link down; reconnecting').length, 1, JSON.stringify(logged));
    assert.equal(lines('hdhk link down; reconnecting')[0]!.level, 40);
    assert.ok(lines('hdhk link still down').length >= 1);
    assert.equal(lines('hdhk link back').length, 1);
  } finally {
    group('SIGCONT');
    group('SIGKILL');
    await frozen.close();
    await other.close();
    await stop(server);
  }
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('powerwalker-pdu over tcp:// to a gateway that accepts and never answers: a typed timeout, the connection dropped (counted), the next poll on a fresh one', async () => {
  let connections = 0;
  const silent = await gateway(() => connections++);
  const config = device(powerwalkerPduDriver, `tcp://127.0.0.1:${silent.port}`, { requestTimeoutMs: 300 });
  const { transport } = createTransport(config, powerwalkerPduDriver);
  const session = powerwalkerPduDriver.createSession({ device: 'pdu', options: config.options as never, tags: {}, transport, clock: systemClock, log: silentLogger() });
  try {
    await session.start();
    for (let poll = 1; poll <= 2; poll++) {
      await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TimeoutError);
      assert.equal(session.stats().link_resets, poll);
      assert.equal(transport.isOpen, false, 'a connection that never answered is not kept');
    }
    assert.equal(connections, 2);
  } finally {
    await session.close();
    await silent.close();
  }
});
