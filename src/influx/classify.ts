/**
 * Sorting a write response into the outcome classes of README "How a point travels" (Flusher). Pure: no I/O, no
 * clock (the caller passes `nowMs` for HTTP-date Retry-After values).
 *
 * | status                         | outcome | why                                                    |
 * |--------------------------------|---------|--------------------------------------------------------|
 * | 2xx                            | ok      | 201 is InfluxDB 3's partial success: still delivered   |
 * | 408, 425, 429, 5xx             | retry   | the server or the path is busy or down                 |
 * | 413                            | split   | the body is too large: send halves                     |
 * | 400, 422                       | reject  | a line the server will never take: bisect              |
 * | 401, 403, 404                  | fatal   | credentials, permissions, database/bucket missing      |
 * | other 4xx, 1xx, 3xx            | fatal   | see below; a redirect names its Location               |
 * | 500 "retention policy not found" / "database not found", 501, 505 | fatal | configuration, not load |
 *
 * Other 4xx (405, 410, 411, 415, ...) come from a wrong URL, a proxy in between, or an engine
 * that does not speak this API. They say nothing about individual lines, so rejecting (and
 * dead-lettering) would throw good data away, and fast retries would hammer a server that
 * will answer the same. Fatal keeps every row, reports loudly and backs off: a person has to
 * fix the configuration, and when they do, everything is delivered.
 */
import type { WriteOutcome } from './types.js';

/** Response headers as fetch (`Headers`) or node:http (`IncomingHttpHeaders`) hand them out. */
export type ResponseHeaders = Headers | Readonly<Record<string, string | string[] | number | undefined>>;

/** Longest message kept from a response body (dead letters and logs stay readable). */
export const MAX_MESSAGE_CHARS = 500;
/** A Retry-After longer than this is treated as this (a broken proxy must not stall delivery for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export function classifyResponse(status: number, headers: ResponseHeaders, body: string, nowMs: number = Date.now()): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  const message = responseMessage(status, headers, body);

  if (status === 413) return { kind: 'split', status, message };
  if (status === 400 || status === 422) return { kind: 'reject', status, message };
  if (status === 408 || status === 425 || status === 429 || (status >= 500 && status < 600)) {
    // InfluxDB 1.x answers 500 for a missing retention policy, and 501/505 mean this
    // endpoint is not served here: waiting will not help, a person must act.
    if (status === 501 || status === 505 || /retention policy not found|database not found/i.test(message)) {
      return { kind: 'fatal', status, message };
    }
    // InfluxDB Enterprise reports a busy hinted-handoff queue as an error although the
    // points were accepted (the official client treats it as success too).
    if (/hinted handoff queue not empty/i.test(message)) return { kind: 'ok', status };
    const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'), nowMs);
    return retryAfterMs === undefined ? { kind: 'retry', status, message } : { kind: 'retry', status, message, retryAfterMs };
  }
  // Writers do not follow redirects (a POST would turn into a GET): the URL needs fixing.
  const location = status >= 300 && status < 400 ? header(headers, 'location') : undefined;
  if (location) return { kind: 'fatal', status, message: oneLine(`redirected to ${location}: use that address as the url`) };
  // 401, 403, 404, any other 4xx, 1xx.
  return { kind: 'fatal', status, message };
}

/**
 * A request that got no HTTP answer: refused, reset, DNS, TLS, timeout. Always retry; the
 * message names the cause (`ECONNREFUSED 127.0.0.1:8086`, `timed out after 10000 ms`).
 */
export function classifyNetworkError(err: unknown): WriteOutcome {
  return { kind: 'retry', status: null, message: networkErrorMessage(err) };
}

export function networkErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return oneLine(String(err));
  if (err.name === 'TimeoutError') return 'request timed out';
  if (err.name === 'AbortError') return 'request aborted';
  // undici wraps the socket error: TypeError('fetch failed', { cause: Error{code:'ECONNREFUSED', ...} }).
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    const text = e instanceof AggregateError && e.errors.length > 0 ? e.errors.map((x) => errorText(x)).join('; ') : e.message;
    if (text && !parts.includes(text)) parts.push(text);
    if (typeof code === 'string' && !parts.some((p) => p.includes(code))) parts.push(code);
    e = e.cause;
  }
  return oneLine(parts.join(': ') || err.name);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Retry-After per RFC 9110 §10.2.3: delay-seconds or an HTTP-date. Returns milliseconds
 * (0 for a date in the past), or undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // Only accept something that looks like a date (Date.parse takes odd strings like "1.5").
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/**
 * The server's own words, one line: InfluxDB 1.x `{"error": ...}`, 2.x/3.x
 * `{"code": ..., "message": ...}`, the `X-Influxdb-Error` header, or a plain-text body.
 */
export function responseMessage(status: number, headers: ResponseHeaders, body: string): string {
  let text = '';
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as Record<string, unknown>;
      for (const key of ['error', 'message'] as const) {
        if (typeof json[key] === 'string' && json[key] !== '') {
          text = json[key] as string;
          break;
        }
      }
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  if (!text) text = header(headers, 'x-influxdb-error') ?? '';
  if (!text && trimmed && !/^<(!doctype|html)/i.test(trimmed)) text = trimmed;
  if (!text) text = `HTTP ${status}${STATUS_TEXT[status] ? ' ' + STATUS_TEXT[status] : ''}`;
  return oneLine(text);
}

export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? flat.slice(0, MAX_MESSAGE_CHARS - 1) + '…' : flat;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | string[] | number | undefined>>;
  let v = record[name];
  if (v === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    v = key === undefined ? undefined : record[key];
  }
  if (Array.isArray(v)) return v[0];
  return v === undefined ? undefined : String(v);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
