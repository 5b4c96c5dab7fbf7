/**
 * InfluxDB 1.x `/write` through Node's built-in fetch (undici: connections are kept alive
 * and reused by its global dispatcher). One call = one HTTP request = one outcome; the
 * outbox is the only buffer.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb, constants as zlibConstants } from 'node:zlib';
import type { InfluxV1Config } from '../config/influx.js';
import type { Precision } from '../core/point.js';
import { readBodyCapped } from './body.js';
import { classifyNetworkError, classifyResponse } from './classify.js';
import type { WriteOutcome, Writer } from './types.js';
import { serverUrl } from './url.js';

const gzip = promisify(gzipCb);

/**
 * v1 `precision` values. 1.6 reads `ns` and `us` as nanoseconds without complaint, so only
 * the one-letter forms are ever sent (DESIGN.md, Real parts in tests).
 */
export const V1_PRECISION: Record<Precision, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

export type InfluxV1WriterOptions = Pick<InfluxV1Config, 'url' | 'database' | 'retentionPolicy' | 'username' | 'password' | 'timeoutMs' | 'gzip'>;

export class InfluxV1Writer implements Writer {
  readonly describe: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private closed = false;

  constructor(private readonly config: InfluxV1WriterOptions) {
    // Credentials in the URL are taken as basic auth and never echoed.
    const { url, username, password } = serverUrl(config.url, config.username, config.password);
    url.pathname = url.pathname.replace(/\/+$/, '') + '/write';
    url.searchParams.set('db', config.database);
    if (config.retentionPolicy) url.searchParams.set('rp', config.retentionPolicy);
    this.base = url;

    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (config.gzip) this.headers['content-encoding'] = 'gzip';
    // Basic auth rather than u/p in the query string: query strings end up in access logs.
    if (username !== undefined && username !== '') {
      this.headers.authorization = 'Basic ' + Buffer.from(`${username}:${password ?? ''}`).toString('base64');
    }
    this.describe = `influx v1 ${url.origin}${url.pathname.replace(/\/write$/, '')} db=${config.database}${config.retentionPolicy ? ` rp=${config.retentionPolicy}` : ''}${config.gzip ? ' gzip' : ''}`;
  }

  async write(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    if (signal?.aborted) return { kind: 'retry', status: null, message: 'request aborted' };
    const url = new URL(this.base);
    url.searchParams.set('precision', V1_PRECISION[precision]);
    const text = lines.join('\n');
    // Level 1: line protocol compresses well already; a Pi's CPU is better spent elsewhere.
    const body = this.config.gzip ? await gzip(text, { level: zlibConstants.Z_BEST_SPEED }) : text;

    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { method: 'POST', headers: this.headers, body, signal: combined, redirect: 'manual' });
      // Read the (short) body even on success, so the connection goes back to the pool; a
      // long one is cut at MAX_BODY_BYTES and its connection closed (memory stays flat).
      const answer = await readBodyCapped(res);
      return classifyResponse(res.status, res.headers, answer);
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) {
        return { kind: 'retry', status: null, message: `request timed out after ${this.config.timeoutMs} ms` };
      }
      return classifyNetworkError(err);
    }
  }

  async close(): Promise<void> {
    // Connections belong to undici's global pool; idle ones close on their own keep-alive timeout.
    this.closed = true;
  }
}
