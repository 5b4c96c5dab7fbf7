/**
 * InfluxDB 1.x `/write` through Node's built-in fetch (undici: connections are kept alive
 * and reused by its global dispatcher; with `influx.tls`, undici's own, see tls.ts). One call
 * = one HTTP request = one outcome; the outbox is the only buffer.
 *
 * `createDatabase` (default on, as Telegraf's `skip_database_creation = false`): the first
 * 404 "database not found" sends `CREATE DATABASE` through /query with the same credentials,
 * logs one line, and sends the batch again. At most once: whatever the answer, no second
 * CREATE until a write has succeeded after a successful one (so a database dropped while the
 * worker runs is made again, once) or the writer is made anew (restart, reload). A refused
 * CREATE (403 for a user without admin rights) becomes part of every later 404's message, so
 * the flusher reports one problem, not two alternating ones.
 */
import type { InfluxV1Config } from '../config/influx.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import { readBodyCapped } from './body.js';
import { classifyNetworkError, classifyResponse, networkErrorMessage, oneLine, responseMessage } from './classify.js';
import { certificateOutcome, influxFetch, tlsOptions, type InfluxFetch, type TlsOptions } from './tls.js';
import type { WriteOutcome, Writer } from './types.js';
import { serverUrl } from './url.js';

/** node:zlib is loaded on the first gzipped write: a worker without InfluxDB never needs it (issue 24). */
let zlib: Promise<typeof import('node:zlib')> | undefined;

async function gzip(text: string): Promise<Buffer> {
  const { gzip: deflate, constants } = await (zlib ??= import('node:zlib'));
  return new Promise((resolve, reject) => deflate(text, { level: constants.Z_BEST_SPEED }, (err, out) => (err ? reject(err) : resolve(out))));
}

/**
 * v1 `precision` values. 1.6 reads `ns` and `us` as nanoseconds without complaint, so only
 * the one-letter forms are ever sent (tested against a real influxd).
 */
export const V1_PRECISION: Record<Precision, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

export type InfluxV1WriterOptions = Pick<InfluxV1Config, 'url' | 'database' | 'retentionPolicy' | 'username' | 'password' | 'timeoutMs' | 'gzip'> & Partial<Pick<InfluxV1Config, 'createDatabase' | 'tls'>>;

/** Where the database-creation rule stands (see the top of this file). */
type Creation = { state: 'untried' } | { state: 'created' } | { state: 'refused'; why: string };

export class InfluxV1Writer implements Writer {
  readonly describe: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly tls: TlsOptions | undefined;
  private http?: Promise<InfluxFetch>;
  private creation: Creation = { state: 'untried' };
  private closed = false;

  constructor(
    private readonly config: InfluxV1WriterOptions,
    private readonly log?: Logger,
  ) {
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
    this.tls = tlsOptions(config.tls);
  }

  async write(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    const outcome = await this.post(lines, precision, signal);
    if (outcome.kind === 'ok') {
      if (this.creation.state === 'created') this.creation = { state: 'untried' };
      return outcome;
    }
    if (outcome.kind !== 'fatal' || outcome.status !== 404 || !/database not found/i.test(outcome.message)) return outcome;
    // Absent (a writer made by hand, not from a config): today's behaviour, without the hint.
    if (this.config.createDatabase === false) return { ...outcome, message: `${outcome.message} (influx.createDatabase is false: create it, or set it to true)` };
    if (this.config.createDatabase !== true) return outcome;
    if (this.creation.state === 'refused') return { ...outcome, message: `${outcome.message}; ${this.creation.why}` };
    if (this.creation.state === 'created' || signal?.aborted) return outcome;

    const refused = await this.createDatabase(signal);
    if (refused === null) {
      this.creation = { state: 'created' };
      this.log?.info({ target: this.describe, database: this.config.database }, `database "${this.config.database}" did not exist: created it (influx.createDatabase)`);
      return this.post(lines, precision, signal);
    }
    this.creation = { state: 'refused', why: `creating it failed (${refused}): create it as an admin, or set influx.createDatabase: false and create it yourself` };
    return { ...outcome, message: `${outcome.message}; ${this.creation.why}` };
  }

  /** `CREATE DATABASE` through /query (idempotent on 1.x); null when it worked, else why not, one line. */
  private async createDatabase(signal?: AbortSignal): Promise<string | null> {
    const url = new URL(this.base);
    url.pathname = url.pathname.replace(/\/write$/, '/query');
    url.search = '';
    const body = new URLSearchParams({ q: `CREATE DATABASE "${this.config.database.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` });
    const headers: Record<string, string> = { ...this.headers, 'content-type': 'application/x-www-form-urlencoded' };
    delete headers['content-encoding'];
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const { fetch } = await (this.http ??= influxFetch(this.tls));
      const res = await fetch(url, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
      const answer = await readBodyCapped(res);
      const refused = statementError(answer);
      if (res.status >= 200 && res.status < 300 && refused === undefined) return null;
      return `${res.status} ${refused ?? responseMessage(res.status, res.headers, answer)}`;
    } catch (err) {
      return certificateOutcome(err, this.config.tls)?.message ?? networkErrorMessage(err);
    }
  }

  private async post(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.closed) return { kind: 'retry', status: null, message: 'writer closed' };
    if (signal?.aborted) return { kind: 'retry', status: null, message: 'request aborted' };
    const url = new URL(this.base);
    url.searchParams.set('precision', V1_PRECISION[precision]);
    const text = lines.join('\n');
    // Level 1: line protocol compresses well already; a Pi's CPU is better spent elsewhere.
    const body = this.config.gzip ? await gzip(text) : text;

    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const { fetch } = await (this.http ??= influxFetch(this.tls));
      const res = await fetch(url, { method: 'POST', headers: this.headers, body, signal: combined, redirect: 'manual' });
      // Read the (short) body even on success, so the connection goes back to the pool; a
      // long one is cut at MAX_BODY_BYTES and its connection closed (memory stays flat).
      const answer = await readBodyCapped(res);
      return classifyResponse(res.status, res.headers, answer);
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) {
        return { kind: 'retry', status: null, message: `request timed out after ${this.config.timeoutMs} ms` };
      }
      return certificateOutcome(err, this.config.tls) ?? classifyNetworkError(err);
    }
  }

  async close(): Promise<void> {
    // Without tls, connections belong to undici's global pool; idle ones close on their own keep-alive timeout.
    this.closed = true;
    await (await this.http?.catch(() => undefined))?.close().catch(() => undefined);
  }
}

/** 1.x answers a statement it refused with 200 and the error inside `results`. */
function statementError(body: string): string | undefined {
  try {
    const error = (JSON.parse(body) as { results?: { error?: unknown }[] }).results?.[0]?.error;
    return typeof error === 'string' ? oneLine(error) : undefined;
  } catch {
    return undefined;
  }
}
