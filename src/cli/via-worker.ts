/**
 * `wattline test` and `wattline once` beside a running worker: the worker that owns the ports
 * collects (under its port locks, at the device's next free moment) and answers through its
 * control endpoint. Without one the verbs open the ports themselves; when a port is held by
 * some other process, the error names it (instead of a bare `Cannot lock port`).
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { askRunningWorker } from '../control/client.js';
import type { ControlReply } from '../control/protocol.js';
import type { Worker, JobReport } from '../worker.js';
import { linesToJson } from './json-output.js';

/** What a report looks like on the wire: its lines, and its points as `--format json` prints them. */
export interface RemoteReport {
  device: string;
  ok: boolean;
  error?: string;
  lines: string[];
  points: unknown[];
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
  return reports.map((r, i) => ({ ...json[i]!, lines: r.lines }));
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
    if (r.ok || !r.error || !/cannot lock port/i.test(r.error)) continue;
    const path = (loaded.config.devices as DeviceConfig[]).find((d) => d.name === r.device)?.port?.path;
    if (!path) continue;
    const holder = portHolder(path);
    r.error = holder
      ? `${path} is held by process ${holder.pid} (${holder.command}); ${holder.command.includes('wattline') ? "that worker uses another outbox than this config's, so it cannot collect for us" : 'stop it, or give this device another port'}`
      : `${path} is held by another process (not one this user can see: try as root, or fuser ${path}); ${r.error}`;
  }
}

/** The process that has `path` open (Linux /proc), if this user may look. */
export function portHolder(path: string): { pid: number; command: string } | null {
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return null;
  }
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
