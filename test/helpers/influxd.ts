/**
 * A real InfluxDB 1.x (Debian `influxdb`, influxd 1.6.7) for one test file: its own temp
 * folder (meta, data, wal, config, log), HTTP and RPC on free loopback ports, every
 * optional service off. Stopped by PID.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartablePorts } from './ports.js';
import { manageServer, spawnServer, waitListening, waitReady } from './server-process.js';

export interface InfluxdOptions {
  /** `[http] max-body-size` in bytes (a small value gives real 413s). Default 25 MB, as shipped. */
  maxBodySize?: number;
  /** `[http] auth-enabled`: create the first (admin) user with `query(..., 'CREATE USER ...')` before anything else. */
  authEnabled?: boolean;
  /** `[http] https-enabled` with this certificate and key (PEM paths): the server speaks only HTTPS. */
  https?: { cert: string; key: string };
}

export interface Influxd {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The current process (changes on restart). */
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** SIGTERM (SIGKILL after a bound), wait for exit, remove the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; keeps the folder and port for `restart()`. */
  stopHard(): Promise<void>;
  /** Start again on the same port and data (after stopHard). */
  restart(): Promise<void>;
}

const STOP_GRACE_MS = 5000;

export async function startInfluxd(options: InfluxdOptions = {}): Promise<Influxd> {
  const dir = await mkdtemp(join(tmpdir(), 'wattline-influxd-'));
  // restart() comes back on the same ports: out of reach of other processes' ephemeral ports.
  const [port, rpcPort] = await restartablePorts(2);
  const configFile = join(dir, 'influxd.conf');
  const logFile = join(dir, 'influxd.log');
  await writeFile(configFile, configText(dir, port!, rpcPort!, options));
  const url = `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`;

  const launch = async () => {
    const proc = spawnServer('influxd', ['-config', configFile], logFile, dir);
    // Over HTTPS the test's fetch would not trust the certificate: a listening port is enough.
    if (options.https) await waitListening(proc, port!, { logFile, name: 'influxd' });
    else await waitReady(proc, `${url}/ping`, { status: 204, logFile, name: 'influxd' });
    return proc;
  };
  return manageServer('influxd', dir, STOP_GRACE_MS, launch, { url, port: port!, dir, logFile });
}

function configText(dir: string, port: number, rpcPort: number, options: InfluxdOptions): string {
  const s = (v: string) => JSON.stringify(v); // a TOML basic string for these plain paths
  // 1.6 has no admin service any more (removed in 1.3); [admin] is accepted and ignored,
  // kept so the file also says "off" to an older influxd.
  return `reporting-enabled = false
bind-address = ${s(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${s(join(dir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${s(join(dir, 'data'))}
  wal-dir = ${s(join(dir, 'wal'))}
  query-log-enabled = false

[monitor]
  store-enabled = false

[admin]
  enabled = false

[http]
  enabled = true
  bind-address = ${s(`127.0.0.1:${port}`)}
  auth-enabled = ${options.authEnabled ? 'true' : 'false'}
  log-enabled = false
  pprof-enabled = false
  max-body-size = ${options.maxBodySize ?? 25_000_000}
  https-enabled = ${options.https ? 'true' : 'false'}
${options.https ? `  https-certificate = ${s(options.https.cert)}\n  https-private-key = ${s(options.https.key)}\n` : ''}
[continuous_queries]
  enabled = false

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false

[logging]
  level = "info"
`;
}

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  /** Times are RFC 3339 strings with nanoseconds (exact; use `timeNs`). */
  values: unknown[][];
}

export interface Credentials {
  user: string;
  pass: string;
}

/**
 * Run InfluxQL through `/query` (POST, so statements that write work too); every series of every
 * statement. `via`: a fetch that trusts the test CA, for an influxd serving HTTPS.
 */
export async function query(url: string, db: string, q: string, auth?: Credentials, via: typeof fetch = fetch): Promise<Series[]> {
  const body = new URLSearchParams({ q });
  if (db) body.set('db', db);
  const headers: Record<string, string> = auth ? { authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.pass}`).toString('base64') } : {};
  const res = await via(`${url}/query`, { method: 'POST', body, headers, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let json: { error?: string; results?: { error?: string; series?: Series[] }[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new Error(`influxd /query: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (json.error) throw new Error(`influxd /query: ${json.error}`);
  const series: Series[] = [];
  for (const r of json.results ?? []) {
    if (r.error) throw new Error(`influxd /query: ${r.error}`);
    series.push(...(r.series ?? []));
  }
  return series;
}

export async function createDatabase(url: string, db: string, auth?: Credentials): Promise<void> {
  await query(url, '', `CREATE DATABASE ${quoteIdent(db)}`, auth);
}

/** `SELECT count(field) FROM measurement` as a number (0 when there is nothing). */
export async function count(url: string, db: string, measurement: string, field: string, auth?: Credentials): Promise<number> {
  const series = await query(url, db, `SELECT count(${quoteIdent(field)}) FROM ${quoteIdent(measurement)}`, auth);
  const v = series[0]?.values[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

/** An InfluxQL identifier in double quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** RFC 3339 (as /query returns it) to nanoseconds since the epoch, exactly. */
export function timeNs(rfc3339: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(rfc3339);
  if (!m) throw new Error(`not an RFC 3339 UTC time: ${rfc3339}`);
  const seconds = BigInt(Date.parse(m[1] + 'Z')) / 1000n;
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
