/**
 * A poll the worker itself cuts short leaves no half exchange in the capture archive.
 *
 * SIGTERM aborts the jobs still running; a poll stopped between its request and the reply
 * used to leave the request (or half a reply) in the archive, and `backfill` of that device then
 * failed on it ("LIST VAR reply has no END", seen in backfill.test.ts when the stop landed
 * mid-poll). A timeout is the device's doing: its records stay. The gateway is a real TCP
 * listener that takes the Modbus TCP request and never answers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, startCli } from '../helpers/cli.js';

let dir: string;
let server: Server;
let port: number;
const sockets = new Set<Socket>();
/** Resolved at the next request the silent gateway receives. */
let requestArrived: () => void = () => undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-capture-stop-'));
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', () => requestArrived());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, requestTimeoutMs: number): { where: string; path: string } {
  const where = join(dir, name);
  mkdirSync(where);
  const path = join(where, 'wattline.yaml');
  const device = {
    name: 'bus',
    driver: 'hdhk',
    capture: 'on',
    schedule: '* * * * * *',
    timeoutMs: 60_000,
    port: { path: `modbus+tcp://127.0.0.1:${port}` },
    options: { requestTimeoutMs, units: [{ id: 1, channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 } } }] },
  };
  writeFileSync(path, stringify({ log: { level: 'warn' }, internal: { enabled: false }, outbox: { path: 'outbox.sqlite' }, capture: { path: 'captures.sqlite' }, devices: [device] }));
  return { where, path };
}

async function capturedRecords(where: string, path: string): Promise<number> {
  const stats = await runCli(['--config', path, 'captures', 'stats', '--json'], { cwd: where });
  assert.equal(stats.code, 0, stats.stderr);
  const devices = (JSON.parse(stats.stdout) as { devices: { device: string; records: number }[] }).devices;
  return devices.find((d) => d.device === 'bus')?.records ?? 0;
}

test('SIGTERM while a poll waits for its reply: the worker stops cleanly and the archive keeps none of that half exchange (real TCP gateway that never answers)', async () => {
  const { where, path } = config('stopped', 30_000);
  const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
  const run = startCli(['--config', path, 'run'], { cwd: where });
  await arrived;
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output().stderr);
  assert.equal(await capturedRecords(where, path), 0, 'no record of the poll the stop cut short');
});

test('a poll that times out keeps its request in the archive: the silence was the device’s', async () => {
  const { where, path } = config('timed-out', 200);
  const once = await runCli(['--config', path, 'once'], { cwd: where });
  assert.notEqual(once.code, 0, 'the poll failed');
  assert.match(once.stderr, /bus/);
  assert.ok((await capturedRecords(where, path)) >= 1, 'the request that was never answered is archived');
});
