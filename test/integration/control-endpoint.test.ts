/**
 * The running worker's control endpoint (unix socket + token) with a real TCP device on
 * loopback. The device here is a test-only line-protocol switch (no wattline driver has
 * control verbs on main yet); it records whether two requests were ever on the wire at once.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import { sendToRunningWorker } from '../../src/control/client.js';
import { controlPaths, startControlServer, type ControlServer } from '../../src/control/server.js';
import { ConfigError, DeviceError, InputError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { int, msToNs } from '../../src/core/point.js';
import type { DeviceSession, Driver, DriverContext } from '../../src/devices/types.js';
import { Worker } from '../../src/runtime/worker.js';

interface SwitchOptions {
  host: string;
  port: number;
  allow: number[];
}

/** Test-only driver: `GET` → `STATE 0101`, `SET <n> <0|1>` → `OK` or `NAK`. */
const switchDriver: Driver<SwitchOptions> = {
  id: 'test-switch',
  description: 'test-only switch on a TCP line protocol',
  kind: 'poll',
  link: 'network',
  options: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.int(), allow: z.array(z.int()).default([]) }) as z.ZodType<SwitchOptions>,
  networkAddress: (o) => ({ host: o.host, port: o.port }),
  createSession: (ctx) => new SwitchSession(ctx),
  control: {
    verbs: [
      { name: 'on', usage: '<n>', description: 'switch on' },
      { name: 'off', usage: '<n>', description: 'switch off' },
    ],
    prepare(verb, args, options, device) {
      const n = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(n) || n < 1 || n > 4) throw new InputError(`${device} ${verb}: expected an outlet 1-4, got ${args.join(' ') || 'nothing'}`);
      if (!options.allow.includes(n)) throw new ConfigError(`${device}: outlet ${n} is not allowed by options.allow`);
      return { verb, params: { n, on: verb === 'on' }, summary: `${verb} outlet ${n}` };
    },
  },
};

class SwitchSession implements DeviceSession {
  private buffered = '';
  private waiter: ((line: string) => void) | null = null;
  constructor(private readonly ctx: DriverContext<SwitchOptions>) {
    ctx.transport.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString();
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0 && this.waiter) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const w = this.waiter;
        this.waiter = null;
        w(line);
      }
    });
  }
  async start() {
    if (!this.ctx.transport.isOpen) await this.ctx.transport.open();
  }
  private async ask(line: string): Promise<string> {
    await this.start();
    const reply = new Promise<string>((resolve) => (this.waiter = resolve));
    await this.ctx.transport.write(Buffer.from(line + '\n'));
    return reply;
  }
  async collect() {
    const state = (await this.ask('GET')).split(' ')[1]!;
    return { points: [{ measurement: 'switch', tags: { device: this.ctx.device }, fields: { state: int(parseInt(state, 2)) }, time: msToNs(this.ctx.clock.now()) }] };
  }
  async control(request: { params: unknown }) {
    const { n, on } = request.params as { n: number; on: boolean };
    const reply = await this.ask(`SET ${n} ${on ? 1 : 0}`);
    if (reply !== 'OK') throw new DeviceError(`${this.ctx.device}: device answered ${reply}`, this.ctx.device);
    return { message: `outlet ${n} ${on ? 'on' : 'off'}`, data: { outlet: n, on } };
  }
  async close() {
    await this.ctx.transport.close();
  }
  stats() {
    return {};
  }
}

/** The device: answers after a delay and records overlapping requests. */
function startSwitchDevice(): { server: Server; state: boolean[]; overlaps: () => number; requests: () => number; nakNext: () => void } {
  const state = [false, false, false, false];
  let nak = false;
  let outstanding = 0;
  let overlaps = 0;
  let requests = 0;
  const server = createServer((socket) => {
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        requests++;
        if (++outstanding > 1) overlaps++;
        setTimeout(() => {
          outstanding--;
          const [cmd, n, v] = line.split(' ');
          if (cmd === 'GET') socket.write(`STATE ${state.map((s) => (s ? '1' : '0')).join('')}\n`);
          else if (cmd === 'SET' && nak) {
            nak = false;
            socket.write('NAK\n');
          } else if (cmd === 'SET' && Number(n) >= 1 && Number(n) <= 4) {
            state[Number(n) - 1] = v === '1';
            socket.write('OK\n');
          } else socket.write('NAK\n');
        }, 15);
      }
    });
  });
  return { server, state, overlaps: () => overlaps, requests: () => requests, nakNext: () => (nak = true) };
}

describe('control endpoint of a running worker (unix socket, token)', () => {
  let dir = '';
  let device: ReturnType<typeof startSwitchDevice>;
  let worker: Worker;
  let control: ControlServer;
  let outboxPath = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wl-control-'));
    outboxPath = join(dir, 'outbox.sqlite');
    device = startSwitchDevice();
    device.server.listen(0, '127.0.0.1');
    await once(device.server, 'listening');
    const port = (device.server.address() as { port: number }).port;
    const raw = {
      outbox: { path: outboxPath },
      devices: [{ driver: 'test-switch', name: 'sw', schedule: '* * * * * *', options: { port, allow: [1, 2] } }],
    };
    const loaded: LoadedConfig = { config: validate(raw, [switchDriver], 'test'), path: join(dir, 'wattline.yaml'), dir, demo: false };
    worker = new Worker({ loaded, drivers: [switchDriver], log: silentLogger() });
    await worker.start();
    control = await startControlServer({ worker, outboxPath, log: silentLogger() });
  });

  after(async () => {
    await control?.close();
    await worker?.stop();
    device?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries an allowed verb to the device and returns its result', async () => {
    const r = await sendToRunningWorker(outboxPath, { device: 'sw', verb: 'on', args: ['2'], timeoutMs: 5000 });
    assert.ok(r);
    assert.equal(r.message, 'outlet 2 on');
    assert.deepEqual(r.data, { outlet: 2, on: true });
    assert.equal(r.summary, 'on outlet 2');
    assert.equal(device.state[1], true);
  });

  it('refuses what the config does not allow, and bad arguments, with the typed error', async () => {
    await assert.rejects(sendToRunningWorker(outboxPath, { device: 'sw', verb: 'on', args: ['3'], timeoutMs: 5000 }), (e: unknown) => e instanceof ConfigError && /outlet 3 is not allowed/.test(e.message));
    await assert.rejects(sendToRunningWorker(outboxPath, { device: 'sw', verb: 'on', args: ['9'], timeoutMs: 5000 }), (e: unknown) => e instanceof InputError && /expected an outlet 1-4/.test(e.message));
    await assert.rejects(sendToRunningWorker(outboxPath, { device: 'sw', verb: 'explode', args: [], timeoutMs: 5000 }), (e: unknown) => e instanceof ConfigError && /unknown verb "explode".*on, off/.test(e.message));
    await assert.rejects(sendToRunningWorker(outboxPath, { device: 'nope', verb: 'on', args: ['1'], timeoutMs: 5000 }), (e: unknown) => e instanceof ConfigError && /no enabled device named "nope"/.test(e.message));
    assert.equal(device.state[2], false);
  });

  it('refuses a wrong token', async () => {
    const { token } = controlPaths(outboxPath);
    await writeFile(token, 'not-the-token\n');
    try {
      await assert.rejects(sendToRunningWorker(outboxPath, { device: 'sw', verb: 'on', args: ['1'], timeoutMs: 5000 }), (e: unknown) => e instanceof ConfigError && /wrong token/.test(e.message));
      assert.equal(device.state[0], false);
    } finally {
      await rm(token);
    }
  });

  it('never puts a command on the wire while a poll (or another command) is on it', async () => {
    // Re-create the token file the previous test replaced: restart the endpoint.
    await control.close();
    control = await startControlServer({ worker, outboxPath, log: silentLogger() });
    const before = device.requests();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => sendToRunningWorker(outboxPath, { device: 'sw', verb: i % 2 ? 'on' : 'off', args: [String((i % 2) + 1)], timeoutMs: 10_000 })));
    await worker.runOnce(['sw']);
    assert.equal(results.length, 30);
    assert.ok(device.requests() - before >= 31);
    assert.equal(device.overlaps(), 0);
  });

  it('a device NAK is a DeviceError for that request only; the next one goes through', async () => {
    device.state[0] = true;
    device.nakNext();
    await assert.rejects(sendToRunningWorker(outboxPath, { device: 'sw', verb: 'off', args: ['1'], timeoutMs: 5000 }), (e: unknown) => e instanceof DeviceError && /device answered NAK/.test(e.message));
    assert.equal(device.state[0], true);
    const r = await sendToRunningWorker(outboxPath, { device: 'sw', verb: 'off', args: ['1'], timeoutMs: 5000 });
    assert.equal(r?.message, 'outlet 1 off');
    assert.equal(device.state[0], false);
  });
});

describe('control endpoint start-up', () => {
  it('refuses a second worker on the same outbox and replaces a stale socket file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-control-two-'));
    const outboxPath = join(dir, 'outbox.sqlite');
    const worker = { control: async () => ({ request: { verb: 'x', params: null, summary: 'x' }, result: { message: 'done' } }) };
    try {
      const first = await startControlServer({ worker, outboxPath, log: silentLogger() });
      await assert.rejects(startControlServer({ worker, outboxPath, log: silentLogger() }), /another wattline worker already listens/);
      await first.close();
      // A socket file nobody answers on (a worker that was killed) is taken over.
      const stale = createServer();
      stale.listen(controlPaths(outboxPath).socket);
      await once(stale, 'listening');
      await new Promise<void>((resolve) => {
        // Closing normally removes the file; recreate it as a leftover without a listener.
        stale.close(() => resolve());
      });
      await writeFile(controlPaths(outboxPath).socket, '');
      const second = await startControlServer({ worker, outboxPath, log: silentLogger() });
      const r = await sendToRunningWorker(outboxPath, { device: 'd', verb: 'x', args: [], timeoutMs: 2000 });
      assert.equal(r?.message, 'done');
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('control client without a running worker', () => {
  it('answers null when no socket exists, so the CLI opens the port itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-control-none-'));
    try {
      assert.equal(await sendToRunningWorker(join(dir, 'outbox.sqlite'), { device: 'x', verb: 'on', args: [], timeoutMs: 1000 }), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
