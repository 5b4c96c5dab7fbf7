/**
 * The control endpoint as a hostile or clumsy local client meets it: a flood of idle
 * connections, one that never speaks, a request without end, one that half-closes after its
 * request, and a token path prepared by someone else (a 0644 file, a symlink). The last test
 * runs a real `wattline run` under a 128-file limit against 150 idle connections (simulated
 * PDU: none on this machine).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { sendToRunningWorker } from '../../src/control/client.js';
import { controlPaths, startControlServer, type ControlServerOptions } from '../../src/control/server.js';
import { CLI, runCli } from '../helpers/cli.js';
import { sleep, until } from '../helpers/until.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-ctl-hard-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A worker stand-in that records the verbs it carried out. */
function fakeWorker(): { ran: string[]; worker: ControlServerOptions['worker'] } {
  const ran: string[] = [];
  return {
    ran,
    worker: {
      control: async (device, verb, args) => {
        ran.push(`${device} ${verb} ${args.join(' ')}`);
        return { request: { verb, params: {}, summary: `${verb} ${args.join(' ')}` }, result: { message: `${device} did ${verb}` } };
      },
    },
  };
}

function logSink(): { log: ControlServerOptions['log']; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes. */
function readAll(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.once('close', () => resolve(text));
  });
}

const closed = (s: Socket) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));

describe('control endpoint hardening (in-process server, a stand-in worker)', () => {
  it('answers a client that half-closes after its request (with or without the newline): its verb ran', async () => {
    const outboxPath = join(dir, 'half.sqlite');
    const { ran, worker } = fakeWorker();
    const server = await startControlServer({ worker, outboxPath, log: logSink().log });
    try {
      const token = readFileSync(controlPaths(outboxPath).token, 'utf8').trim();
      for (const end of ['\n', '']) {
        const s = await connect(server.socketPath);
        const reply = readAll(s);
        s.end(JSON.stringify({ token, device: 'pdu', verb: 'off', args: ['2'], timeoutMs: 5000 }) + end);
        assert.deepEqual(JSON.parse(await reply), { ok: true, summary: 'off 2', message: 'pdu did off' });
      }
      assert.deepEqual(ran, ['pdu off 2', 'pdu off 2']);
    } finally {
      await server.close();
    }
  });

  it('bounds a request: past the cap it answers with an error, discards the rest and closes', async () => {
    const outboxPath = join(dir, 'big.sqlite');
    const { ran, worker } = fakeWorker();
    const server = await startControlServer({ worker, outboxPath, log: logSink().log });
    try {
      const s = await connect(server.socketPath);
      const reply = readAll(s);
      // 1 MiB of a request that never ends, in pieces.
      for (let i = 0; i < 16 && !s.destroyed; i++) s.write('x'.repeat(64 * 1024));
      const text = await reply;
      assert.deepEqual(JSON.parse(text.split('\n')[0]!), { ok: false, kind: 'input', error: 'control request longer than 16384 bytes' });
      assert.deepEqual(ran, []);
    } finally {
      await server.close();
    }
  });

  it('closes a connection that sends nothing within the idle timeout', async () => {
    const outboxPath = join(dir, 'idle.sqlite');
    const server = await startControlServer({ ...fakeWorker(), outboxPath, log: logSink().log, idleTimeoutMs: 300 });
    try {
      const s = await connect(server.socketPath);
      s.on('error', () => undefined);
      await closed(s);
      assert.equal(s.closed, true);
    } finally {
      await server.close();
    }
  });

  it('at the connection cap, the longest-idle connection makes room for a real request; the cap is logged once', async () => {
    const outboxPath = join(dir, 'cap.sqlite');
    const { ran, worker } = fakeWorker();
    const { log, lines } = logSink();
    const server = await startControlServer({ worker, outboxPath, log, maxConnections: 4 });
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const s = await connect(server.socketPath);
        s.on('error', () => undefined);
        idle.push(s);
      }
      await sleep(1100); // they have been idle long enough to be evicted
      const r = await sendToRunningWorker(outboxPath, { device: 'pdu', verb: 'on', args: ['1'], timeoutMs: 5000 });
      assert.equal(r?.message, 'pdu did on');
      assert.deepEqual(ran, ['pdu on 1']);
      const capped = lines.filter((l) => /connection cap reached/.test(String(l.msg)));
      assert.equal(capped.length, 1);
      assert.equal(capped[0]!.max, 4);
      assert.ok(idle.filter((s) => s.closed || s.destroyed).length >= 6);
    } finally {
      for (const s of idle) s.destroy();
      await server.close();
    }
  });

  it('replaces a pre-existing 0644 token file with a fresh 0600 one', async () => {
    const outboxPath = join(dir, 'mode.sqlite');
    const { token } = controlPaths(outboxPath);
    writeFileSync(token, 'old\n', { mode: 0o644 });
    const before = statSync(token).ino;
    const server = await startControlServer({ ...fakeWorker(), outboxPath, log: logSink().log });
    try {
      const st = statSync(token);
      assert.equal(st.mode & 0o777, 0o600);
      assert.notEqual(st.ino, before, 'a new file, not the old one rewritten');
      assert.match(readFileSync(token, 'utf8'), /^[0-9a-f]{48}\n$/);
    } finally {
      await server.close();
    }
  });

  it('replaces a symlink at the token path itself and never writes its target', async () => {
    const outboxPath = join(dir, 'link.sqlite');
    const { token } = controlPaths(outboxPath);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    symlinkSync(victim, token);
    const server = await startControlServer({ ...fakeWorker(), outboxPath, log: logSink().log });
    try {
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.equal(statSync(victim).mode & 0o777, 0o644);
      const st = lstatSync(token);
      assert.equal(st.isSymbolicLink(), false);
      assert.equal(st.mode & 0o777, 0o600);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(victim), true);
  });
});

describe('control endpoint under a 128-file limit (wattline run, simulated PDU)', () => {
  it('150 idle connections do not lock out a control request', async () => {
    const config = join(dir, 'wattline.yaml');
    writeFileSync(
      config,
      `outbox:
  path: fd.sqlite
devices:
  - driver: powerwalker-pdu
    name: pdu
    simulate: true
    schedule: "*/5 * * * * *"
    options:
      control: { allow: [on, off], outlets: [2] }
`,
    );
    const child = spawn('prlimit', ['--nofile=128', process.execPath, CLI, '--config', config, 'run', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const sockets: Socket[] = [];
    try {
      const socketPath = join(dir, 'fd.sqlite.sock');
      await until('the worker', () => existsSync(socketPath) && stderr.includes('worker started'), 20_000);
      for (let i = 0; i < 150; i++) {
        const s = createConnection(socketPath);
        s.on('error', () => undefined);
        sockets.push(s);
      }
      await sleep(1500);
      const r = await runCli(['--config', config, 'pdu', 'pdu', 'off', '2', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).via, 'worker');
      assert.match(stderr, /connection cap reached/);
      assert.doesNotMatch(stderr, /EMFILE/);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      child.kill('SIGKILL');
    }
  });
});
