/**
 * The v2 write API (`/api/v2/write`: InfluxDB 2.x, 3.x, Cloud, VictoriaMetrics) through
 * `@influxdata/influxdb-client`.
 *
 * We use the client's transport (`InfluxDB.transport.send`), not its `WriteApi`: the
 * WriteApi owns a write buffer, a flush timer and a retry buffer that re-sends failed
 * lines from memory on its own schedule. Here the outbox is the only buffer (DESIGN.md §6),
 * and the flusher needs the outcome of exactly the request it made: status, body and
 * `Retry-After`. `transport.send` gives us that and nothing else, so there is no second
 * buffer to switch off: it never exists. The client still does what it is good at: the
 * `Authorization: Token` header, gzip above a threshold, error bodies parsed into
 * `HttpError`, and http(s)/proxy/TLS options.
 *
 * The client is imported on the first write: a worker with InfluxDB 1.x or no InfluxDB at all
 * never pays its ~1.4 MB resident (README, run-memory).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Transport } from '@influxdata/influxdb-client';
import type { InfluxV2Config } from '../config/influx.js';
import { ConfigError } from '../core/errors.js';
import type { Precision } from '../core/point.js';
import { bodyTooLarge } from './body.js';
import { classifyNetworkError, classifyResponse } from './classify.js';
import type { WriteOutcome, Writer } from './types.js';
import { serverUrl } from './url.js';

/** Bodies larger than this are gzipped when gzip is on (the client's own default). */
export const GZIP_THRESHOLD_BYTES = 1000;

export type InfluxV2WriterOptions = Pick<InfluxV2Config, 'url' | 'org' | 'bucket' | 'token' | 'timeoutMs' | 'gzip'> & {
  /**
   * HTTP basic auth instead of a token: VictoriaMetrics with `-httpAuth.*` (1.79 answers
   * `Authorization: Token` with 401) or a proxy in front. May also come as
   * `http://user:pass@host` in `url`.
   */
  username?: string;
  password?: string;
};

type InfluxClientModule = typeof import('@influxdata/influxdb-client');
let clientModule: Promise<InfluxClientModule> | undefined;

export class InfluxV2Writer implements Writer {
  readonly describe: string;
  private client?: { transport: Transport; HttpError: InfluxClientModule['HttpError'] };
  private readonly agent: HttpAgent;
  private readonly basePath: string;
  private readonly headers: Record<string, string> | undefined;
  private readonly base: string;
  private closed = false;

  constructor(private readonly config: InfluxV2WriterOptions) {
    // Credentials in the URL are taken as basic auth and never echoed.
    const { url, username, password } = serverUrl(config.url, config.username, config.password);
    const basic = username !== undefined && username !== '';
    if (basic && config.token) {
      throw new ConfigError('influx: give either a token or a username/password (basic auth), not both');
    }
    const base = url.toString().replace(/\/+$/, '');

    this.agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.base = base;
    this.headers = basic ? { Authorization: 'Basic ' + Buffer.from(`${username}:${password ?? ''}`).toString('base64') } : undefined;

    const query = new URLSearchParams();
    // An empty org is left out: InfluxDB 3, Cloud Serverless and VictoriaMetrics do not need it.
    if (config.org) query.set('org', config.org);
    query.set('bucket', config.bucket);
    this.basePath = `/api/v2/write?${query.toString()}`;
    const auth = basic ? ' basic-auth' : config.token ? ' token' : '';
    this.describe = `influx v2 ${base} bucket=${config.bucket}${config.org ? ` org=${config.org}` : ''}${auth}${config.gzip ? ' gzip' : ''}`;
  }

  private async loadClient(): Promise<NonNullable<InfluxV2Writer['client']>> {
    if (this.client) return this.client;
    const { InfluxDB, HttpError } = await (clientModule ??= import('@influxdata/influxdb-client'));
    const influx = new InfluxDB({
      url: this.base,
      token: this.config.token || undefined,
      // Socket inactivity timeout of node:http; the whole request is also bounded by an AbortSignal.
      timeout: this.config.timeoutMs,
      headers: this.headers,
      transportOptions: { agent: this.agent },
    });
    this.client ??= { transport: influx.transport, HttpError };
    return this.client;
  }

  async write(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    const { transport, HttpError } = this.client ?? (await this.loadClient());
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    if (signal?.aborted) return { kind: 'retry', status: null, message: 'request aborted' };
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    // Ours: cuts off an error body the client would read in full (below).
    const cutOff = new AbortController();
    const combined = AbortSignal.any(signal ? [signal, timeout, cutOff.signal] : [timeout, cutOff.signal]);
    const timeoutMs = this.config.timeoutMs;

    return new Promise<WriteOutcome>((resolve) => {
      let status: number | undefined;
      transport.send(
        `${this.basePath}&precision=${precision}`,
        lines.join('\n'),
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          gzipThreshold: this.config.gzip ? GZIP_THRESHOLD_BYTES : undefined,
          signal: combined,
        },
        {
          responseStarted(headers, statusCode) {
            status = statusCode;
            // The client keeps 1000 characters of a text error body but reads a JSON one in
            // full, however large: a JSON error body of unknown or large size is not read
            // (issue 23); the status and X-Influxdb-Error still say what went wrong.
            if (statusCode !== undefined && statusCode >= 300 && String(headers['content-type']).startsWith('application/json') && bodyTooLarge(headers)) {
              resolve(classifyResponse(statusCode, headers, ''));
              cutOff.abort();
            }
          },
          // The transport calls next/complete only for status < 300; any body there is ignored.
          next() {},
          complete() {
            resolve(classifyResponse(status ?? 204, {}, ''));
          },
          error(err: Error) {
            if (err instanceof HttpError) {
              resolve(classifyResponse(err.statusCode, err.headers ?? {}, err.body ?? ''));
            } else if (timeout.aborted && !signal?.aborted) {
              resolve({ kind: 'retry', status: null, message: `request timed out after ${timeoutMs} ms` });
            } else {
              resolve(classifyNetworkError(err));
            }
          },
        },
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }
}
