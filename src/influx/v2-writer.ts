/**
 * The v2 write API (`/api/v2/write`: InfluxDB 2.x, 3.x, Cloud, VictoriaMetrics) through
 * `@influxdata/influxdb-client`.
 *
 * We use the client's transport (`InfluxDB.transport.send`), not its `WriteApi`: the
 * WriteApi owns a write buffer, a flush timer and a retry buffer that re-sends failed
 * lines from memory on its own schedule. Here the outbox is the only buffer (README "How a point travels", Flusher),
 * and the flusher needs the outcome of exactly the request it made: status, body and
 * `Retry-After`. `transport.send` gives us that and nothing else, so there is no second
 * buffer to switch off: it never exists. The client still does what it is good at: the
 * `Authorization: Token` header, gzip above a threshold, error bodies parsed into
 * `HttpError`, and http(s)/proxy/TLS options.
 *
 * The client is imported on the first write: a worker with InfluxDB 1.x or no InfluxDB at all
 * never pays its ~1.4 MB resident (README, run-memory). So are node:http / node:https (and
 * with them node:tls): ~2 MB resident that a worker without InfluxDB does not need (issue 24).
 */
import type { Agent as HttpAgent, AgentOptions, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Transport } from '@influxdata/influxdb-client';
import type { InfluxV2Config } from '../config/influx.js';
import { ConfigError } from '../core/errors.js';
import type { Precision } from '../core/point.js';
import { MAX_BODY_BYTES } from './body.js';
import { classifyNetworkError, classifyResponse } from './classify.js';
import type { WriteOutcome, Writer } from './types.js';
import { certificateOutcome, tlsOptions } from './tls.js';
import { serverUrl } from './url.js';

/** Bodies larger than this are gzipped when gzip is on (the client's own default). */
export const GZIP_THRESHOLD_BYTES = 1000;

export type InfluxV2WriterOptions = Pick<InfluxV2Config, 'url' | 'org' | 'bucket' | 'token' | 'timeoutMs' | 'gzip'> &
  Partial<Pick<InfluxV2Config, 'tls'>> & {
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
  private agent?: HttpAgent;
  /** node:https's agent options (TLS files already read: a bad path fails at start), or null for http. */
  private readonly httpsOptions: AgentOptions | null;
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

    this.httpsOptions = url.protocol === 'https:' ? { keepAlive: true, ...tlsOptions(config.tls) } : null;
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
    const [{ InfluxDB, HttpError }, agent] = await Promise.all([(clientModule ??= import('@influxdata/influxdb-client')), this.makeAgent()]);
    const influx = new InfluxDB({
      url: this.base,
      token: this.config.token || undefined,
      // Socket inactivity timeout of node:http; the whole request is also bounded by an AbortSignal.
      timeout: this.config.timeoutMs,
      headers: this.headers,
      transportOptions: { agent },
    });
    capErrorBodies(influx.transport);
    this.client ??= { transport: influx.transport, HttpError };
    return this.client;
  }

  async write(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    const { transport, HttpError } = this.client ?? (await this.loadClient());
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    if (signal?.aborted) return { kind: 'retry', status: null, message: 'request aborted' };
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const timeoutMs = this.config.timeoutMs;
    const tls = this.config.tls;
    // The request's signal is its key to the start of an error body (capErrorBodies).
    const cap: BodyCap = { text: '', cut: false };
    errorBodies.set(combined, cap);

    return new Promise<WriteOutcome>((resolve) => {
      let status: number | undefined;
      let responseHeaders: Parameters<typeof classifyResponse>[1] = {};
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
            responseHeaders = headers;
          },
          // The transport calls next/complete only for status < 300; any body there is ignored.
          next() {},
          complete() {
            resolve(classifyResponse(status ?? 204, {}, ''));
          },
          error(err: Error) {
            if (cap.cut && status !== undefined) {
              resolve(classifyResponse(status, responseHeaders, cap.text));
            } else if (err instanceof HttpError) {
              resolve(classifyResponse(err.statusCode, err.headers ?? {}, err.body ?? ''));
            } else if (timeout.aborted && !signal?.aborted) {
              resolve({ kind: 'retry', status: null, message: `request timed out after ${timeoutMs} ms` });
            } else {
              resolve(certificateOutcome(err, tls) ?? classifyNetworkError(err));
            }
          },
        },
      );
    });
  }

  private async makeAgent(): Promise<HttpAgent> {
    this.agent ??= this.httpsOptions ? new (await import('node:https')).Agent(this.httpsOptions) : new (await import('node:http')).Agent({ keepAlive: true });
    return this.agent;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent?.destroy();
  }
}

/** The start of one request's error body, and whether the rest was cut off. */
interface BodyCap {
  text: string;
  cut: boolean;
}

/** Keyed by each request's AbortSignal, which the transport hands to node:http with the request. */
const errorBodies = new WeakMap<AbortSignal, BodyCap>();

type RequestApi = (options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest;

/**
 * The client keeps 1000 characters of a text error body but reads a JSON one in full, however
 * large (a 300 MB answer). Its transport makes requests through one function
 * (`requestApi`, node:http's request); wrapped here, every error response keeps its first
 * MAX_BODY_BYTES (counted as they arrive on the wire) and is cut off beyond them: the request
 * is destroyed, the client reports an error, and `write` classifies the status with the start
 * of the body. Should a client version lack that function, bodies are read as the client does.
 */
function capErrorBodies(transport: Transport): void {
  const t = transport as unknown as { requestApi?: RequestApi };
  const request = t.requestApi;
  if (typeof request !== 'function') return;
  t.requestApi = (options, callback) => {
    const req: ClientRequest = request(options, (res) => {
      const cap = options.signal ? errorBodies.get(options.signal) : undefined;
      if (cap && (res.statusCode ?? 0) >= 300) {
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (cap.cut) return;
          if (size < MAX_BODY_BYTES) cap.text += chunk.subarray(0, MAX_BODY_BYTES - size).toString('utf8');
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            cap.cut = true;
            req.destroy();
          }
        });
      }
      callback(res);
    });
    return req;
  };
}
