/**
 * Start and stop a real server process for a test, by PID: output to a log file, readiness
 * by polling an HTTP endpoint (bounded), SIGTERM then SIGKILL, and a safety net that kills
 * every child still alive when the test process exits or is interrupted.
 */
import { connect } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

const live = new Set<ChildProcess>();
let netInstalled = false;

function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  const killAll = () => {
    for (const child of live) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or null after a signal) when the process has exited. */
  readonly exited: Promise<number | null>;
}

export function spawnServer(command: string, args: readonly string[], logFile: string, cwd?: string): ServerProcess {
  installSafetyNet();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], cwd });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      live.delete(child);
      resolve(null);
    });
  });
  return { child, pid: child.pid, exited };
}

/** Poll `url` until it answers `status` (with optional headers), the process dies, or `timeoutMs` passes. */
export async function waitReady(proc: ServerProcess, url: string, options: { status: number; timeoutMs?: number; headers?: Record<string, string>; logFile: string; name: string }): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let dead = false;
  void proc.exited.then(() => {
    dead = true;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${options.name} exited before it was ready; log:\n${tail(options.logFile)}`);
    try {
      const res = await fetch(url, { headers: options.headers, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === options.status) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await killAndWait(proc, 0);
  throw new Error(`${options.name} not ready at ${url} (${last}); log:\n${tail(options.logFile)}`);
}

/** Until 127.0.0.1:`port` accepts a TCP connection (servers that speak no HTTP), the process dies, or `timeoutMs` passes. */
export async function waitListening(proc: ServerProcess, port: number, options: { timeoutMs?: number; logFile: string; name: string }): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let dead = false;
  void proc.exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${options.name} exited before it was ready; log:\n${tail(options.logFile)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  await killAndWait(proc, 0);
  throw new Error(`${options.name} not listening on ${port}; log:\n${tail(options.logFile)}`);
}

/** SIGTERM (unless graceMs is 0), then SIGKILL after graceMs; resolves when the process has exited. */
export async function killAndWait(proc: ServerProcess, graceMs: number): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(proc.pid, signal);
    } catch {
      // exited meanwhile
    }
  };
  if (graceMs > 0) {
    send('SIGTERM');
    const timer = setTimeout(() => send('SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  } else {
    send('SIGKILL');
    await proc.exited;
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The start/stop/restart life of one test server in its own temp folder (influxd, mosquitto, …). */
export interface ManagedServer {
  readonly pid: number;
  /** SIGTERM (SIGKILL after the grace), wait for exit, remove the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; keeps the folder and port for `restart()`. */
  stopHard(): Promise<void>;
  /** Start again on the same port and folder. */
  restart(): Promise<void>;
}

/**
 * Runs `launch` (spawn and wait until it answers) now and again on restart(); removes `dir`
 * when the first launch fails or on stop().
 */
export async function manageServer<T extends object>(name: string, dir: string, graceMs: number, launch: () => Promise<ServerProcess>, extras: T): Promise<ManagedServer & T> {
  let proc: ServerProcess | null = null;
  let removed = false;
  try {
    proc = await launch();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...extras,
    get pid() {
      return proc?.pid ?? -1;
    },
    async stop() {
      if (proc) await killAndWait(proc, graceMs);
      proc = null;
      if (!removed) {
        removed = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
    async stopHard() {
      if (proc) await killAndWait(proc, 0);
      proc = null;
    },
    async restart() {
      if (removed) throw new Error(`${name}: restart after stop (the folder is gone)`);
      if (proc) await killAndWait(proc, graceMs);
      proc = await launch();
    },
  };
}
