/**
 * `wattline test` and `wattline once` beside a running worker: the worker that owns the ports
 * collects (under its port locks, at the device's next free moment) and answers through its
 * control endpoint. Without one the verbs open the ports themselves; when a port is held by
 * some other process, the error names it (instead of a bare `Cannot lock port`).
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { askRunningWorker } from '../control/client.js';
import type { ControlReply } from '../control/protocol.js';
import type { Worker, JobReport } from '../runtime/worker.js';
import { linesToJson } from './json-output.js';

/** What a report looks like on the wire: its lines, and its points as `--format json` prints them. */
export interface RemoteReport {
  device: string;
  ok: boolean;
  error?: string;
  lines: string[];
  points: unknown[];
  /** Points the worker's outbox refused for lack of disk space. */
  refused?: number;
}

const MAX_WAIT_MS = 10 * 60_000;

/** The worker's side: collect now and answer with every report. */
export function collectHandler(worker: Pick<Worker, 'collectNow'>): (devices: string[], commit: boolean, signal: AbortSignal) => Promise<ControlReply> {
  return async (devices, commit, signal) => {
    const reports = await worker.collectNow(devices, commit, signal);
    const wire = toWire(reports);
    const ok = reports.filter((r) => r.ok).length;
    return { summary: commit ? 'once' : 'test', message: `${ok} of ${reports.length} devices collected`, data: { reports: wire } };
  };
}

/** Reports as the wire (and `test --format json`) carries them. */
export function toWire(reports: readonly JobReport[]): RemoteReport[] {
  const json = linesToJson(reports).devices as Omit<RemoteReport, 'lines'>[];
  return reports.map((r, i) => ({ ...json[i]!, lines: r.lines, ...(r.refused ? { refused: r.refused } : {}) }));
}

/**
 * The client's side: the running worker's reports, or null when no worker listens on this
 * config's outbox. `commit`: `once` (into the worker's outbox), otherwise `test` (nothing kept).
 */
export async function collectThroughWorker(loaded: LoadedConfig, names: readonly string[], commit: boolean): Promise<RemoteReport[] | null> {
  const wanted = (loaded.config.devices as DeviceConfig[]).filter((d) => d.enabled && (names.length === 0 || names.includes(d.name)));
  // Devices on one port take turns: allow for every one of them, and for the port's current holder.
  const timeoutMs = Math.min(MAX_WAIT_MS, 2 * wanted.reduce((sum, d) => sum + d.timeoutMs, 0) + 5000);
  const reply = await askRunningWorker(resolveConfigPath(loaded, loaded.config.outbox.path), { op: 'collect', devices: [...names], commit, timeoutMs }, commit ? 'once' : 'test');
  return reply ? ((reply.data?.reports as RemoteReport[] | undefined) ?? []) : null;
}

/** Reports whose serial port another process holds get an error that says which process. */
export function explainHeldPorts(loaded: LoadedConfig, reports: JobReport[]): void {
  for (const r of reports) {
    const path = (loaded.config.devices as DeviceConfig[]).find((d) => d.name === r.device)?.port?.path;
    if (!r.ok && r.error && path) r.error = heldPortMessage(path, r.error) ?? r.error;
  }
}

/** For serialport's "Cannot lock port": who holds `path` and what to do; null for any other error. */
export function heldPortMessage(path: string, error: string): string | null {
  if (!/cannot lock port/i.test(error)) return null;
  const holder = portHolder(path);
  if (!holder) return `${path} is held by another process (not one this user can see: try as root, or fuser ${path}); ${error}`;
  const advice = holder.command.includes('wattline') ? "that worker uses another outbox than this config's, so it cannot do this for us" : 'stop it, or give this device another port';
  return `${path} is held by process ${holder.pid} (${holder.command}); ${advice}`;
}

/**
 * Who holds `path`: the process with a flock on it (serialport locks its tty that way; Linux
 * /proc/locks), else the first process with it open (/proc/<pid>/fd), if this user may look.
 */
export function portHolder(path: string): { pid: number; command: string } | null {
  let target: string;
  let id: string;
  try {
    target = realpathSync(path);
    const st = statSync(target, { bigint: true });
    const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
    const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & 0xfff00n);
    id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  } catch {
    return null;
  }
  const locker = lockHolder(id);
  if (locker !== null) return { pid: locker, command: commandLine(locker) };
  for (const entry of safeList('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    for (const fd of safeList(`/proc/${pid}/fd`)) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target) return { pid, command: commandLine(pid) };
    }
  }
  return null;
}

/** The pid of a FLOCK on the file `maj:min:inode` (as /proc/locks writes it). */
function lockHolder(id: string): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // "1: FLOCK  ADVISORY  WRITE 30555 00:1a:10 0 EOF" (blocked waiters carry a "->" first)
    const at = f[1] === '->' ? 2 : 1;
    if (f[at] === 'FLOCK' && f[at + 4] === id) return Number(f[at + 3]);
  }
  return null;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || `pid ${pid}`;
  } catch {
    return `pid ${pid}`;
  }
}
