/**
 * A real VictoriaMetrics (Debian `victoria-metrics`, 1.79) for one test file: its own temp
 * data folder, a free loopback port, optional HTTP basic auth (`-httpAuth.*`, which gives
 * real 401s). Stopped by PID.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { killAndWait, spawnServer, waitListening, waitReady } from './server-process.js';

export interface VictoriaOptions {
  auth?: { user: string; pass: string };
  /** `-tls` with this certificate and key (PEM paths): the server speaks only HTTPS; `via` reads back trusting its CA. */
  tls?: { cert: string; key: string; via: typeof fetch };
}

export interface Victoria {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** `Basic ...` when auth is on, for our own read-back requests. */
  readonly authHeader: string | undefined;
  /** The fetch our read-back requests go through (one that trusts the test CA with `tls`). */
  readonly fetch: typeof fetch;
  stop(): Promise<void>;
}

export async function startVictoria(options: VictoriaOptions = {}): Promise<Victoria> {
  const dir = await mkdtemp(join(tmpdir(), 'wattline-victoria-'));
  const port = await freePort();
  const logFile = join(dir, 'victoria.log');
  const args = [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${join(dir, 'data')}`,
    // Fixed test timestamps lie in the past; the default retention (1 month) would drop them.
    '-retentionPeriod=100y',
  ];
  if (options.auth) args.push(`-httpAuth.username=${options.auth.user}`, `-httpAuth.password=${options.auth.pass}`);
  if (options.tls) args.push('-tls', `-tlsCertFile=${options.tls.cert}`, `-tlsKeyFile=${options.tls.key}`);
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const proc = spawnServer('victoria-metrics', args, logFile, dir);
  try {
    // /health answers without credentials even with -httpAuth.* set; over HTTPS a listening port is enough.
    if (options.tls) await waitListening(proc, port, { logFile, name: 'victoria-metrics' });
    else await waitReady(proc, `${url}/health`, { status: 200, logFile, name: 'victoria-metrics' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    url,
    port,
    pid: proc.pid,
    dir,
    logFile,
    authHeader: options.auth ? 'Basic ' + Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64') : undefined,
    fetch: options.tls?.via ?? fetch,
    async stop() {
      await killAndWait(proc, 5000);
      if (!stopped) {
        stopped = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  /** Milliseconds since the epoch. */
  timestamps: number[];
}

/** Make recent writes searchable, then `/api/v1/export` every series matching `match`. */
export async function exportSeries(vm: Victoria, match = '{__name__!=""}'): Promise<ExportedSeries[]> {
  const headers: Record<string, string> = vm.authHeader ? { authorization: vm.authHeader } : {};
  const flush = await vm.fetch(`${vm.url}/internal/force_flush`, { headers, signal: AbortSignal.timeout(30_000) });
  await flush.arrayBuffer();
  if (flush.status !== 200) throw new Error(`victoria-metrics force_flush: HTTP ${flush.status}`);
  const res = await vm.fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`, { headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`victoria-metrics export: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportedSeries);
}
