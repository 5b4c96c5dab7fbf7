/**
 * Issue 20: a capture made over the network re-decodes like a local one. Debian's pymodbus
 * serves the same HDHK registers twice — as a Modbus TCP server (MBAP framing, `modbus+tcp://`)
 * and as an RTU slave on a socat PTY (the local serial port) — and `wattline once` with
 * `capture: on` polls each. `wattline backfill --dry-run` of each capture archive gives back
 * exactly the lines its live run wrote, and the two archives decode to the same lines apart
 * from their timestamps: the MBAP capture holds the RTU form of every frame.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { hdhkRegisters, startHdhkSlave } from '../helpers/hdhk-slave.js';
import { freePort } from '../helpers/ports.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

const SPEC = {
  // The vendor screenshot values (docs/protocols/hdhk.md §2.4) and a ramp.
  '1': hdhkRegisters(628, [...new Array(8).fill(1120), ...new Array(8).fill(1124)]),
  '2': hdhkRegisters(
    631,
    Array.from({ length: 16 }, (_, i) => 100 * (i + 1)),
  ),
};
const OPTIONS = {
  requestTimeoutMs: 500,
  frequency: 'read',
  units: [
    { id: 1, channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 }, '9': { circuit: 'washer', phase: 'L2' } } },
    { id: 2, ctRatio: 0.0245, channels: { '1': { circuit: 'heat pump', phase: 'L1' }, '16': { circuit: 'boiler', phase: 'L3' } } },
  ],
};

let dir: string;
let pair: PtyPair;
const slaves: ChildProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-hdhk-capture-'));
  pair = await startPtyPair(dir);
  slaves.push(await startHdhkSlave(pair.a, SPEC));
});
after(async () => {
  for (const child of slaves) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
  await pair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `wattline once` with capture on, then backfill --dry-run of its archive: [live lines, replayed lines]. */
async function captureAndReplay(name: string, path: string): Promise<[string[], string[]]> {
  const where = join(dir, name);
  mkdirSync(where);
  const config = join(where, 'wattline.yaml');
  writeFileSync(config, stringify({ echo: true, outbox: { path: 'outbox.sqlite' }, devices: [{ name: 'bus', driver: 'hdhk', capture: 'on', timeoutMs: 10_000, port: { path }, options: OPTIONS }] }));
  const once = await runCli(['--config', config, 'once'], { cwd: where });
  assert.equal(once.code, 0, once.stderr);
  const replay = await runCli(['--config', config, 'backfill', '--device', 'bus', '--dry-run'], { cwd: where });
  assert.equal(replay.code, 0, replay.stderr);
  const lines = (text: string) => text.split('\n').filter(Boolean);
  return [lines(once.stdout), lines(replay.stdout)];
}

const withoutTime = (line: string) => line.replace(/ \d+$/, '');

test('hdhk captured over modbus+tcp:// (pymodbus TCP) replays to its live lines, and to the lines a local RTU port (pymodbus on a PTY) gives', async () => {
  const port = await freePort();
  slaves.push(await startHdhkSlave(`tcp:${port}`, SPEC));

  const [netLive, netReplayed] = await captureAndReplay('network', `modbus+tcp://127.0.0.1:${port}`);
  const [localLive, localReplayed] = await captureAndReplay('local', pair.b);

  // Each archive gives back its live run, timestamps included.
  assert.deepEqual(netReplayed, netLive);
  assert.deepEqual(localReplayed, localLive);
  // Four channels and three phase sums, with the values the registers hold.
  assert.equal(netLive.length, 7, netLive.join('\n'));
  assert.ok(
    netLive.some((l) => l.startsWith('hdhk,') && l.includes('circuit=oven') && l.includes('current_a=11.2,')),
    netLive.join('\n'),
  );
  assert.ok(
    netLive.some((l) => l.includes('circuit=boiler') && l.includes('current_a=39.2,')),
    netLive.join('\n'),
  );
  // Network and local decode alike: the same lines but for the time of the poll.
  assert.deepEqual(netReplayed.map(withoutTime).sort(), localReplayed.map(withoutTime).sort());
});
