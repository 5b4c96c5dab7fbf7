/**
 * test/helpers/hdhk_slave.py (Debian's pymodbus standing in for HDHK meters) as a child process:
 * on a serial path (RTU) or `tcp:PORT` (a Modbus TCP server on 127.0.0.1). Resolves once the
 * slave prints "ready"; stopHdhkSlave() kills it by its PID and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const PYTHON = '/usr/bin/python3';
const SLAVE = join(ROOT, 'test', 'helpers', 'hdhk_slave.py');

/** Registers from address 0 (protocols.md §2.3): firmware, ranges, then currents/frequencies. */
export function unitRegisters(firmware: number, currents: number[]): number[] {
  const r = new Array<number>(56).fill(0);
  r[0] = firmware;
  r[1] = 40;
  r[2] = 20;
  r[3] = 1;
  currents.forEach((c, i) => (r[8 + i] = c));
  for (let i = 0; i < 16; i++) r[24 + i] = 499;
  return r;
}

/** `spec`: unit id → registers from address 0 (see hdhk_slave.py). */
export async function startHdhkSlave(where: string, spec: Record<string, number[]>): Promise<ChildProcess> {
  const child = spawn(PYTHON, [SLAVE, where, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('ready')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pymodbus exited: ${err.trim()}`);
    if (Date.now() > deadline) {
      await stopHdhkSlave(child);
      throw new Error(`pymodbus not ready: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

export async function stopHdhkSlave(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}
