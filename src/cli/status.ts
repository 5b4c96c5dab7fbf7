/**
 * `wattline status [--json]`: the running worker's own account through its control endpoint
 * (devices, outputs, outbox, MQTT, uptime, version, config); without a running worker, says
 * so and shows what the outbox file knows. Exit 0 when a worker answered, 1 when none runs.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolveConfigPath } from '../config/load.js';
import { sendToRunningWorker } from '../control/client.js';
import { controlPaths } from '../control/server.js';
import type { FailedCheck } from '../observe/health.js';
import type { Snapshot } from '../observe/snapshot.js';
import { openSqliteOutbox } from '../outbox/sqlite-outbox.js';
import { action, EXIT, load } from './common.js';

type Status = Snapshot & {
  pid: number;
  health: { healthy: boolean; failed: FailedCheck[] };
  rates: Record<string, number>;
  configFile: string | null;
  configLoadedMs: number;
  http: string | null;
};

export function registerStatusVerb(program: Command): void {
  program
    .command('status')
    .description('How the running worker is doing: devices, outputs, outbox, MQTT, uptime (exit 1 when no worker runs)')
    .option('--json', 'as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const loaded = load(cmd, true);
        const outboxPath = resolveConfigPath(loaded, loaded.config.outbox.path);
        const status = await askWorker(outboxPath);
        if (status) {
          process.stdout.write(opts.json ? JSON.stringify({ running: true, ...status }, null, 2) + '\n' : describe(status));
          return EXIT.ok;
        }
        // No worker: what the file knows (opened only if it exists: status never creates it).
        const outbox = existsSync(outboxPath) ? readOutbox(outboxPath, loaded.config.outbox) : null;
        const socket = controlPaths(outboxPath).socket;
        if (opts.json) process.stdout.write(JSON.stringify({ running: false, socket, outboxPath, outbox }, null, 2) + '\n');
        else {
          process.stdout.write(`worker:   not running (nobody answers on ${socket})\n`);
          process.stdout.write(outbox ? `outbox:   ${outboxLine(outbox, Date.now())}  ${outboxPath}\n` : `outbox:   ${outboxPath} does not exist yet\n`);
        }
        return EXIT.failed;
      }),
    );
}

/** The running worker's status, or null when none answers on the outbox's control socket. */
async function askWorker(outboxPath: string): Promise<Status | null> {
  const answer = await sendToRunningWorker(outboxPath, { device: '', verb: 'status', args: [], timeoutMs: 5000 });
  return (answer?.data as unknown as Status | undefined) ?? null;
}

/** For `wattline buffer`: each output's line of `status` when a worker runs (nothing otherwise). */
export async function outputLines(outboxPath: string): Promise<string[]> {
  const status = await askWorker(outboxPath).catch(() => null);
  return status ? status.outputs.map((o) => outputLine(o, status)) : [];
}

function readOutbox(path: string, limits: { maxRows: number; maxBytes: number }) {
  const o = openSqliteOutbox(path, limits);
  try {
    const s = o.stats();
    return { pendingRows: s.rows, pendingBytes: s.bytes, oldestPendingMs: s.oldestCommittedMs, dropped: s.dropped, deadLetters: s.deadLetters };
  } finally {
    o.close();
  }
}

/** 75 → "1m15s", 7300 → "2h01m", 200000 → "2d07h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

function outboxLine(o: { pendingRows: number; pendingBytes: number; oldestPendingMs: number | null; dropped: number; deadLetters: number; backfillPending?: number }, now: number): string {
  const oldest = o.oldestPendingMs === null ? '' : `, oldest ${duration((now - o.oldestPendingMs) / 1000)} old`;
  const backfill = o.backfillPending ? `, ${o.backfillPending} of them backfill` : '';
  return `${o.pendingRows} points pending (${o.pendingBytes} bytes${oldest}${backfill}), ${o.dropped} dropped, ${o.deadLetters} dead letters`;
}

function outputLine(o: Status['outputs'][number], s: Status): string {
  const now = s.timeMs;
  const rate = `${s.rates[o.output] ?? 0}/s over the last minute`;
  const next = o.nextTryMs !== null && o.nextTryMs > now ? `, next try in ${duration((o.nextTryMs - now) / 1000)}` : '';
  const error = o.lastError ? `, last error ${o.lastErrorMs ? duration((now - o.lastErrorMs) / 1000) + ' ago' : ''}: ${o.lastError}` : '';
  return `${(o.output + ':').padEnd(9)} ${o.state}, ${rate}${next}${error}  (${o.target})`;
}

function describe(s: Status): string {
  const now = s.timeMs;
  const lines = [
    `worker:   running (pid ${s.pid}), up ${duration(s.process.uptimeS)}, version ${s.version}, host ${s.host}${s.site ? `, site ${s.site}` : ''}`,
    `config:   ${s.configFile ?? 'built-in demo'}, loaded ${new Date(s.configLoadedMs).toISOString()}`,
    `health:   ${s.health.healthy ? 'ok' : 'FAILING: ' + s.health.failed.map((f) => f.message).join('; ')}`,
  ];
  if (s.outbox) lines.push(`outbox:   ${outboxLine(s.outbox, now)}`);
  for (const o of s.outputs) lines.push(outputLine(o, s));
  if (s.mqtt) lines.push(`mqtt:     ${s.mqtt.connected ? 'connected' : 'NOT connected'}`);
  if (s.http) lines.push(`http:     ${s.http} (GET /metrics, /health)`);
  lines.push('devices:');
  for (const d of s.devices) {
    const last =
      d.failingSinceMs !== null
        ? `FAILING for ${duration((now - d.failingSinceMs) / 1000)} (${d.consecutiveFailures} in a row): ${d.lastError}`
        : d.lastOkMs !== null
          ? `ok ${duration((now - d.lastOkMs) / 1000)} ago`
          : 'not collected yet';
    const next = d.nextRunMs !== null ? `, next in ${duration((d.nextRunMs - now) / 1000)}` : '';
    lines.push(`  ${d.name} (${d.driver}): ${last}${next}; ${d.ok} ok, ${d.failed} failed, ${d.skipped} skipped`);
  }
  return lines.join('\n') + '\n';
}
