/**
 * "Does the server answer at all?": GET /ping (InfluxDB 1.x and 2.x, VictoriaMetrics all have
 * it; 2.x also answers /health, but /ping needs no token and costs the server nothing). Any
 * HTTP answer below 500 counts: whether our writes are accepted is the write's business.
 */
import type { InfluxConfig } from '../config/influx.js';
import { serverUrl } from './url.js';

export function pingProbe(config: Pick<InfluxConfig, 'url'>): (signal: AbortSignal) => Promise<boolean> {
  const { url } = serverUrl(config.url);
  url.pathname = url.pathname.replace(/\/+$/, '') + '/ping';
  const target = url.toString();
  return async (signal) => {
    try {
      const res = await fetch(target, { method: 'GET', signal, redirect: 'manual' });
      await res.arrayBuffer();
      return res.status < 500;
    } catch {
      return false;
    }
  };
}
