/**
 * MQTT commands against a real Mosquitto, through a TEST-ONLY switchable device: the driver
 * `test-switch` and its simulator (a TCP server speaking a three-word text protocol) are
 * defined in this file, because the real PowerWalker PDU driver lives elsewhere. The device
 * reports `pdu_outlet` points like the PDU, so the same outlet-switch entry and the
 * PowerWalker compatibility topics apply to it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DeviceError, InputError, TimeoutError } from '../../src/core/errors.js';
import { int, msToNs } from '../../src/core/point.js';
import { drivers as registry } from '../../src/devices/index.js';
import type { ControlRequest, DeviceSession, Driver, DriverContext } from '../../src/devices/types.js';
import { outletSwitch } from '../../src/devices/powerwalker-pdu/fields.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

// --- test-only device: simulator ---------------------------------------------------------

/** Test-only switchable device: `STATUS` → `S 1 0 0 0`; `ON n` / `OFF n` → `ACK` (or `NAK`). */
class TestSwitchSimulator {
  readonly outlets = [0, 0, 0, 0];
  readonly commands: string[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      let buf = '';
      socket.on('data', (chunk) => {
        buf += chunk.toString('latin1');
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          socket.write(this.answer(line) + '\n');
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private answer(line: string): string {
    if (line === 'STATUS') return `S ${this.outlets.join(' ')}`;
    const m = /^(ON|OFF) (\d+)$/.exec(line);
    if (!m) return 'NAK';
    const n = Number(m[2]);
    if (n < 1 || n > this.outlets.length) return 'NAK';
    this.commands.push(line);
    this.outlets[n - 1] = m[1] === 'ON' ? 1 : 0;
    return 'ACK';
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// --- test-only device: driver ------------------------------------------------------------

const testSwitchOptions = z.strictObject({ port: z.int(), outlets: z.int().default(4), allow: z.array(z.int()).default([]) });
type TestSwitchOptions = z.infer<typeof testSwitchOptions>;

class TestSwitchSession implements DeviceSession {
  private buf = '';
  private waiting: ((line: string) => void) | null = null;
  constructor(private readonly ctx: DriverContext<TestSwitchOptions>) {
    ctx.transport.on('data', (chunk: Buffer) => {
      this.buf += chunk.toString('latin1');
      const nl = this.buf.indexOf('\n');
      if (nl >= 0 && this.waiting) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting(line);
      }
    });
  }
  async start(): Promise<void> {
    await this.ctx.transport.open();
  }
  private async request(line: string, signal: AbortSignal): Promise<string> {
    if (!this.ctx.transport.isOpen) await this.ctx.transport.open();
    this.buf = '';
    const reply = new Promise<string>((resolve, reject) => {
      this.waiting = resolve;
      signal.addEventListener('abort', () => reject(new TimeoutError(`${this.ctx.device}: no answer to ${line}`)), { once: true });
    });
    await this.ctx.transport.write(Buffer.from(line + '\n'));
    return reply.finally(() => (this.waiting = null));
  }
  async collect(signal: AbortSignal) {
    const reply = await this.request('STATUS', signal);
    const states = reply.split(' ').slice(1).map(Number);
    const time = msToNs(this.ctx.clock.now());
    const points = states.map((s, i) => ({
      measurement: 'pdu_outlet',
      tags: { ...this.ctx.tags, device: this.ctx.device, outlet: String(i + 1) },
      fields: { status: int(s), current_a: s ? 0.5 : 0 },
      time,
    }));
    return { points };
  }
  async control(request: ControlRequest, signal: AbortSignal) {
    const { outlet } = request.params as { outlet: number };
    const reply = await this.request(`${request.verb.toUpperCase()} ${outlet}`, signal);
    if (reply !== 'ACK') throw new DeviceError(`${this.ctx.device}: ${request.summary}: device answered ${reply}`, this.ctx.device);
    return { message: `${request.summary}: done`, data: { outlet, on: request.verb === 'on' } };
  }
  async close(): Promise<void> {
    await this.ctx.transport.close();
  }
  stats() {
    return {};
  }
}

const testSwitchDriver: Driver<TestSwitchOptions> = {
  id: 'test-switch',
  // Its outlets as switches, like the PDU's; no field declared (the naming convention describes them).
  fields: { measurements: {}, entities: [outletSwitch('pdu_outlet')] },
  description: 'TEST ONLY: a switchable outlet device over TCP',
  kind: 'poll',
  options: testSwitchOptions,
  link: 'network',
  networkAddress: (o) => ({ host: '127.0.0.1', port: o.port }),
  createSession: (ctx) => new TestSwitchSession(ctx),
  control: {
    verbs: [
      { name: 'on', usage: '<outlet>', description: 'switch an outlet on' },
      { name: 'off', usage: '<outlet>', description: 'switch an outlet off' },
    ],
    prepare(verb, args, options, device) {
      const outlet = Number(args[0]);
      if (!Number.isInteger(outlet) || outlet < 1 || outlet > options.outlets) throw new InputError(`${device}: outlet must be 1–${options.outlets}, got ${JSON.stringify(args[0])}`);
      if (!options.allow.includes(outlet)) throw new ConfigError(`${device}: switching outlet ${outlet} is not allowed by the config (options.allow)`);
      return { verb, params: { outlet }, summary: `${verb} outlet ${outlet}` };
    },
  },
};

// --- the tests ---------------------------------------------------------------------------

const drivers = [...registry, testSwitchDriver];
let broker: Mosquitto;
let sim: TestSwitchSimulator;
let dir: string;
let run: RunningWorker;
let sub: Subscriber;

before(async () => {
  broker = await startMosquitto();
  sim = new TestSwitchSimulator();
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-cmd-'));
  sub = await subscribe(broker.url, ['homeassistant/#', 'wattline/#', 'powerwalker/#', '$CONNECTED/#']);
  // A retained command left on the broker must not switch anything when the worker subscribes.
  await sub.publish('wattline/sw/outlet/1/set', 'ON', { retain: true });
  run = await startWorker(
    {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      mqtt: { url: broker.url, clientId: 'wattline-cmd-test', compatibility: { mode: 'powerwalker', pdu: 'sw' } },
      devices: [{ name: 'sw', driver: 'test-switch', schedule: '* * * * * *', options: { port: sim.port, allow: [1, 2] } }],
    },
    drivers,
    dir,
  );
  await sub.waitFor((m) => m.topic === 'wattline/sw/pdu_outlet/outlet/4', 'the first collection');
});
after(async () => {
  await run?.stop();
  await sub?.publish('wattline/sw/outlet/1/set', '', { retain: true }).catch(() => undefined);
  await sub?.close();
  await sim?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The result message of the command just sent: its verb, received no earlier than `since`. */
const result = (n: number, since: number, verb = 'on') =>
  sub.waitFor((m) => m.topic === `wattline/sw/outlet/${n}/result` && m.atMs >= since && JSON.parse(m.payload).verb === verb, `${verb} result for outlet ${n}`).then((m) => JSON.parse(m.payload));

test('test-only switch device: allowed outlets become Home Assistant switches, the others do not', async () => {
  for (const n of [1, 2]) {
    const c = JSON.parse((await sub.waitFor((m) => m.topic === `homeassistant/switch/wattline/wattline_sw_outlet_${n}_switch/config`, `switch ${n}`)).payload);
    assert.equal(c.command_topic, `wattline/sw/outlet/${n}/set`);
    assert.equal(c.state_topic, `wattline/sw/outlet/${n}/state`);
  }
  assert.equal(sub.messages.filter((m) => /outlet_[34]_switch/.test(m.topic)).length, 0);
  assert.equal(sub.last('wattline/sw/outlet/3/state')?.payload, 'OFF', 'every outlet reports its state');
});

test('test-only switch device: ON/OFF over MQTT switch the outlet; a disallowed outlet is refused and unchanged', async () => {
  let t = Date.now();
  await sub.publish('wattline/sw/outlet/2/set', 'ON');
  const on = await result(2, t);
  assert.equal(on.ok, true, JSON.stringify(on));
  assert.equal(sim.outlets[1], 1);
  await sub.waitFor((m) => m.topic === 'wattline/sw/outlet/2/state' && m.payload === 'ON' && m.atMs >= t, 'the command result as state');

  t = Date.now();
  await sub.publish('wattline/sw/outlet/2/set', '0');
  assert.equal((await result(2, t, 'off')).ok, true);
  assert.equal(sim.outlets[1], 0);

  t = Date.now();
  const before = sim.commands.length;
  await sub.publish('wattline/sw/outlet/3/set', 'ON');
  const refused = await result(3, t);
  assert.deepEqual([refused.ok, refused.refused], [false, true]);
  assert.match(refused.error, /not allowed/);
  assert.equal(sim.outlets[2], 0);
  assert.equal(sim.commands.length, before, 'nothing was sent to the device');
  assert.ok(run.logged(/mqtt command refused/).length >= 1);
});

test('bad input over MQTT (test-only switch device): malformed payloads, unknown topics and devices, retained commands: logged, ignored, nothing changes', async () => {
  const before = { outlets: [...sim.outlets], commands: sim.commands.length, ignored: run.worker.mqtt!.stats().ignored };
  await sub.publish('wattline/sw/outlet/1/set', 'MAYBE');
  await sub.publish('wattline/sw/outlet/1/set', '{"state": "ON"}');
  await sub.publish('wattline/nobody/outlet/1/set', 'ON');
  await sub.publish('wattline/sw/relay/1/set', 'ON');
  await sub.publish('wattline/sw/outlet/set', 'ON');
  await sub.publish('wattline/sw/outlet/1/set', 'x'.repeat(1000));
  await sub.publish('powerwalker/pdu/outlet/out9/set', '1');
  const t = Date.now();
  await sub.publish('wattline/sw/outlet/9/set', 'ON'); // out of range: the driver's InputError
  assert.equal((await result(9, t)).refused, true);
  const deadline = Date.now() + 5000;
  while (run.worker.mqtt!.stats().ignored < before.ignored + 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(run.worker.mqtt!.stats().ignored, before.ignored + 7);
  const reasons = run.logged(/message ignored/).map((l) => String(l.reason));
  for (const re of [/not ON, OFF, 1 or 0/, /unknown device "nobody"/, /takes no command/, /expected wattline\/sw\/outlet\/<outlet>\/set/, /payload of 1000 bytes/, /not 1–8/, /retained command/]) {
    assert.ok(
      reasons.some((r) => re.test(r)),
      `a log line saying ${re}`,
    );
  }
  assert.deepEqual(sim.outlets, before.outlets);
  assert.equal(sim.commands.length, before.commands);
  assert.equal(sim.outlets[0], 0, 'the retained ON for outlet 1 was not carried out');
});

test('PowerWalker compatibility (test-only switch device as the PDU): the original topics are published and its outlet command works', async () => {
  assert.equal((await sub.waitFor((m) => m.topic === '$CONNECTED/wattline-cmd-test', 'compat availability')).payload, '1');
  const outlet = await sub.waitFor((m) => m.topic === 'powerwalker/pdu/outlet/out4', 'compat outlet topic');
  assert.match(outlet.payload, /^\{"status": 0, "state": "Off", /);
  assert.match((await sub.waitFor((m) => m.topic === 'powerwalker/pdu/power/out1', 'compat power topic')).payload, /^\{"w": null, "va": null, "a": 0\.[05]\}$/);

  let t = Date.now();
  await sub.publish('powerwalker/pdu/outlet/out1/set', '1');
  assert.equal((await result(1, t)).ok, true);
  assert.equal(sim.outlets[0], 1);
  await sub.waitFor((m) => m.topic === 'powerwalker/pdu/outlet/out1' && m.payload.startsWith('{"status": 1, "state": "On"') && m.atMs >= t, 'compat state after the command');

  t = Date.now();
  await sub.publish('powerwalker/pdu/outlet/out3/set', '1');
  assert.equal((await result(3, t)).refused, true);
  assert.equal(sim.outlets[2], 0);
});
