/**
 * A real Prometheus (Debian `prometheus`, 2.42) for one test file: its own temp folder (TSDB,
 * config, log), the web API on a free loopback port, scraping the given targets every second.
 * Stopped by PID.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { manageServer, spawnServer, waitReady } from './server-process.js';

export interface Prometheus {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: readonly string[]): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'wattline-prometheus-'));
  const port = await freePort();
  const configFile = join(dir, 'prometheus.yml');
  const logFile = join(dir, 'prometheus.log');
  // JSON is YAML: no hand-written indentation.
  await writeFile(
    configFile,
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'wattline', static_configs: [{ targets }] }],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const launch = async () => {
    const proc = spawnServer('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], logFile, dir);
    await waitReady(proc, `${url}/-/ready`, { status: 200, logFile, name: 'prometheus' });
    return proc;
  };
  return manageServer('prometheus', dir, 5000, launch, { url });
}

/** An instant PromQL query: each series' labels and value. */
export async function promQuery(url: string, q: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: q })}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`prometheus query ${q}: ${body.error}`);
  return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}
