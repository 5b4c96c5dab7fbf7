/**
 * A socat PTY pair for serial end-to-end tests: two linked pseudo-terminals whose slave ends
 * appear as symlinks `<dir>/a` and `<dir>/b` (what one writes to a, the other reads from b).
 * The kernel forces 8N on PTYs and ignores the baud rate. Kill the pair (stop()) and start it
 * again with the same dir to act out a serial adapter unplugged and plugged back in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  /** Link to one end (e.g. for a simulator to write into). */
  a: string;
  /** Link to the other end (for the driver's serial port). */
  b: string;
  pid: number;
  /** Ends socat (by its PID) and waits until it has exited and removed its links. */
  stop(): Promise<void>;
}

export async function startPtyPair(dir: string, timeoutMs = 10_000): Promise<PtyPair> {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  child.once('error', () => (gone = true)); // e.g. socat not installed: reported below

  const deadline = Date.now() + timeoutMs;
  // socat logs "starting data transfer loop" once both PTYs exist.
  while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
    if (gone) throw new Error(`socat exited before the PTY pair was ready: ${stderr.trim() || 'is socat installed?'}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat PTY pair not ready after ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const pid = child.pid!;
  return {
    a,
    b,
    pid,
    stop: async () => {
      if (!gone) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
      // socat removes its links on exit; wait for that so a restart can recreate them.
      for (let i = 0; i < 100 && (existsSync(a) || existsSync(b)); i++) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
