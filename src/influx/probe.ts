/**
 * "Does the server answer at all?": GET /ping (InfluxDB 1.x and 2.x, VictoriaMetrics all have
 * it; 2.x also answers /health, but /ping needs no token and costs the server nothing). Any
 * HTTP answer below 500 counts: whether our writes are accepted is the write's business.
 */
import type { InfluxConfig } from '../config/influx.js';
import { influxFetch, tlsOptions, type InfluxFetch } from './tls.js';
import { serverUrl } from './url.js';

export function pingProbe(config: Pick<InfluxConfig, 'url' | 'tls'>): (signal: AbortSignal) => Promise<boolean> {
  const { url } = serverUrl(config.url);
  url.pathname = url.pathname.replace(/\/+$/, '') + '/ping';
  const target = url.toString();
  // The writer's TLS settings: a server behind a private CA answers the probe as it answers writes.
  let http: Promise<InfluxFetch> | undefined;
  return async (signal) => {
    try {
      const { fetch } = await (http ??= influxFetch(tlsOptions(config.tls)));
      const res = await fetch(target, { method: 'GET', signal, redirect: 'manual' });
      await res.arrayBuffer();
      return res.status < 500;
    } catch {
      return false;
    }
  };
}
