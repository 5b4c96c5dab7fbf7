/**
 * Debian's pymodbus as an RTU slave standing in for HDHK meters (hdhk_slave.py beside this
 * file) on one end of a PTY pair: for the pymodbus integration test and the soak / poll-cpu
 * benches. The caller stops the child by its PID (stopChild / process.kill).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const PYTHON = '/usr/bin/python3';
const SLAVE = join(ROOT, 'test', 'helpers', 'hdhk_slave.py');

/** Registers from address 0 (docs/protocols/hdhk.md §2.3): firmware, ranges, then currents/frequencies. */
export function hdhkRegisters(firmware: number, currents: number[]): number[] {
  const r = new Array<number>(56).fill(0);
  r[0] = firmware;
  r[1] = 40;
  r[2] = 20;
  r[3] = 1;
  currents.forEach((c, i) => (r[8 + i] = c));
  for (let i = 0; i < 16; i++) r[24 + i] = 499;
  return r;
}

/** Start the slave on `path` with unit id -> registers; resolves once it prints "ready". */
export async function startHdhkSlave(path: string, spec: Record<string, number[]>): Promise<ChildProcess> {
  const child = spawn(PYTHON, [SLAVE, path, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('ready')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pymodbus slave exited: ${err.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pymodbus slave not ready: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}
