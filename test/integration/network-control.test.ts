/**
 * Serial devices reached over `tcp://` with real parts: Debian's ser2net (raw) in front of a socat
 * PTY pair, the project's simulators on the far end (no Multiplus or PowerWalker PDU can run
 * here; each builds its frames from its own tables) through SerialTransport.
 * - VE.Bus: ser2net killed and started again; the link is logged once going down and once
 *   back, however many reconnects it took (issue 20).
 * - PowerWalker PDU: a control verb typed as a user would (`wattline pdu`) travels through the
 *   running `wattline run`'s control endpoint and the network port to the PDU; its reply and
 *   the simulated outlet's new state are checked, and the worker's next polls read it back.
 * Everything started is stopped by PID; waits are bounded, never timing assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { systemClock } from '../../src/core/clock.js';
import { IntField, type Point } from '../../src/core/point.js';
import { victronVebusDriver, type VebusSession } from '../../src/devices/victron-vebus/index.js';
import { startPduSimulator, type PduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { startVebusSimulator, type VebusSimulator } from '../../src/simulators/victron-vebus.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { createTransport } from '../../src/assembly/transport.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import { runCli, startCli } from '../helpers/cli.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';
import { startSer2net } from '../helpers/ser2net.js';

const LINE_2400 = { baudRate: 2400, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };
const signal = () => new AbortController().signal;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-net-control-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Poll `fn` every 100 ms until it returns true; fail with `what` after `ms`. */
async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A simulator on end `a` of a fresh PTY pair (2400 8N1), ser2net (raw) on end `b`. */
async function simulatorBehindSer2net<S extends { stop(): void }>(name: string, start: (end: SerialTransport) => S) {
  const where = join(dir, name);
  mkdirSync(where);
  const pair: PtyPair = await startPtyPair(where);
  const end = new SerialTransport({ path: pair.a, presenceCheckMs: 0, ...LINE_2400 });
  await end.open();
  const sim = start(end);
  const ser2net = await startSer2net(pair.b, 'raw', '2400n81').catch(async (err: unknown) => {
    sim.stop();
    await end.close();
    await pair.stop();
    throw err;
  });
  return {
    sim,
    ser2net,
    async stop() {
      await ser2net.stop();
      sim.stop();
      await end.close();
      await pair.stop();
    },
  };
}

const field = (points: Point[], name: string) => {
  const v = points.find((p) => p.fields[name] !== undefined)?.fields[name];
  return v instanceof IntField ? Number(v.value) : v;
};

test('VE.Bus over tcp:// (ser2net raw), ser2net killed and started again: one warning down, one line back, polls read the Multiplus again', async () => {
  const far = await simulatorBehindSer2net<VebusSimulator>('vebus', (end) => startVebusSimulator(end, { idleVersionMs: 300, replyDelayMs: 2 }));
  const logged: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const options = victronVebusDriver.options.parse({ requestTimeoutMs: 500, offlineAfterMs: 3000 });
  const config = { name: 'mp2', driver: 'victron-vebus', port: { path: far.ser2net.url }, options } as unknown as DeviceConfig;
  const { transport } = createTransport(config, victronVebusDriver);
  const session = victronVebusDriver.createSession({ device: 'mp2', options, tags: {}, transport, clock: systemClock, log }) as VebusSession;
  try {
    await session.start();
    assert.equal(field((await session.collect(signal())).points, 'battery_v'), 52.3);

    await far.ser2net.stopHard();
    // Polls fail while the gateway is gone (each a reconnect attempt, refused or closed).
    for (let i = 0; i < 3; i++) await assert.rejects(session.collect(signal()));
    await far.ser2net.restart();
    await until('the Multiplus answers again over the new connection', async () => {
      try {
        return field((await session.collect(signal())).points, 'battery_v') === 52.3;
      } catch {
        return false;
      }
    });
    assert.ok(session.stats().reopens! >= 1, JSON.stringify(session.stats()));
    assert.ok(session.stats().open_failures! >= 1, JSON.stringify(session.stats()));

    const lines = (msg: string) => logged.filter((l) => l.msg === msg);
    assert.equal(lines('vebus link down; reconnecting').length, 1, JSON.stringify(logged.map((l) => l.msg)));
    assert.equal(lines('vebus link down; reconnecting')[0]!.level, 40);
    assert.ok(lines('vebus link still down').length >= 1, 'the attempts in between at debug');
    assert.equal(lines('vebus link back').length, 1);
    // Nothing else above info: no per-reconnect "port closed" warnings.
    assert.deepEqual(
      logged.filter((l) => l.level >= 40 && l.msg !== 'vebus link down; reconnecting').map((l) => l.msg),
      [],
    );
    assert.equal(lines('vebus connected').filter((l) => l.level >= 30).length, 1, 'the identity line once, on the first connect');
  } finally {
    await session.close();
    await far.stop();
  }
});

test('wattline pdu through a running worker to a PowerWalker PDU on tcp:// (ser2net raw): the verb is carried out, its reply and the outlet state checked', async () => {
  const far = await simulatorBehindSer2net<PduSimulator>('pdu', (end) => startPduSimulator(end));
  const config = join(dir, 'pdu.yaml');
  writeFileSync(
    config,
    stringify({
      outbox: { path: 'pdu-outbox.sqlite' },
      echo: true,
      devices: [{ name: 'rack-pdu', driver: 'powerwalker-pdu', schedule: '* * * * * *', port: { path: far.ser2net.url }, options: { requestTimeoutMs: 1500, control: { allow: ['off'], outlets: [2] } } }],
    }),
  );
  const worker = startCli(['--config', config, 'run', '--log-level', 'warn']);
  try {
    await until('the worker polls the PDU over tcp:// and opens its control endpoint', () => worker.output().stdout.includes('pdu_outlet,') && existsSync(join(dir, 'pdu-outbox.sqlite.sock')));
    assert.match(worker.output().stdout, /pdu_outlet,device=rack-pdu,outlet=2 [^\n]*status=1i/, 'outlet 2 on before the verb');

    const off = await runCli(['--config', config, 'pdu', 'rack-pdu', 'off', '2', '--format', 'json']);
    assert.equal(off.code, 0, off.stderr);
    const reply = JSON.parse(off.stdout) as { via: string; message: string };
    assert.equal(reply.via, 'worker', 'carried by the running worker, which owns the network port');
    assert.match(reply.message, /outlet 2 switches off in 6 s/);
    // The PDU got the request the protocol gives for it (docs: S,<outlet>.<minutes/10>) and acts on it.
    assert.ok(far.sim.requests.includes('S,2.1'), JSON.stringify(far.sim.requests.slice(-5)));
    assert.equal(far.sim.outletStatus(2), 3, 'shutdown imminent');
    // The worker's next polls over the same connection read the new state back.
    const mark = worker.output().stdout.length;
    await until('a poll shows outlet 2 switching off', () => /pdu_outlet,device=rack-pdu,outlet=2 [^\n]*status=[03]i/.test(worker.output().stdout.slice(mark)));

    const refused = await runCli(['--config', config, 'pdu', 'rack-pdu', 'off', '3']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /outlet 3/);
    assert.equal(far.sim.outletStatus(3), 1, 'a refused verb never reaches the PDU');
  } finally {
    worker.child.kill('SIGTERM');
    await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
    worker.child.kill('SIGKILL');
    await far.stop();
  }
});
