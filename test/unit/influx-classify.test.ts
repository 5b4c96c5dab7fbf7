import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyNetworkError, classifyResponse, MAX_RETRY_AFTER_MS, parseRetryAfter, responseMessage } from '../../src/influx/classify.js';

const NOW = Date.parse('2024-03-01T12:00:00Z');
const json = (error: string) => JSON.stringify({ error });

test('2xx is ok, 201 (InfluxDB 3 partial success) included', () => {
  for (const status of [200, 201, 204]) assert.deepEqual(classifyResponse(status, {}, ''), { kind: 'ok', status });
});

test('400 and 422 reject with the server error text (InfluxDB 1.6 body, captured)', () => {
  const body = '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type string, already exists as type float dropped=1"}\n';
  assert.deepEqual(classifyResponse(400, { 'content-type': 'application/json' }, body), {
    kind: 'reject',
    status: 400,
    message: 'partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=1',
  });
  // InfluxDB 2.x shape
  const v2 = JSON.stringify({ code: 'invalid', message: "unable to parse 'm v=': missing field value" });
  assert.deepEqual(classifyResponse(422, {}, v2), { kind: 'reject', status: 422, message: "unable to parse 'm v=': missing field value" });
});

test('413 splits', () => {
  assert.deepEqual(classifyResponse(413, {}, json('Request Entity Too Large')), { kind: 'split', status: 413, message: 'Request Entity Too Large' });
});

test('401, 403, 404 are fatal', () => {
  assert.deepEqual(classifyResponse(404, {}, json('database not found: "nope"')), { kind: 'fatal', status: 404, message: 'database not found: "nope"' });
  assert.deepEqual(classifyResponse(401, {}, ''), { kind: 'fatal', status: 401, message: 'HTTP 401 Unauthorized' });
  assert.equal(classifyResponse(403, {}, json('forbidden')).kind, 'fatal');
});

test('other 4xx are fatal (keep everything), 1xx/3xx too', () => {
  for (const status of [402, 405, 406, 409, 410, 411, 415, 418, 451, 100, 302, 308]) {
    assert.equal(classifyResponse(status, {}, '').kind, 'fatal', `status ${status}`);
  }
});

test('a redirect is fatal and says where to', () => {
  assert.deepEqual(classifyResponse(301, { location: 'https://influx.example:8086/write?db=x' }, ''), {
    kind: 'fatal',
    status: 301,
    message: 'redirected to https://influx.example:8086/write?db=x: use that address as the url',
  });
});

test('5xx, 429, 408, 425 retry; Retry-After in seconds or as an HTTP date', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504, 507]) {
    assert.deepEqual(classifyResponse(status, {}, 'busy', NOW), { kind: 'retry', status, message: 'busy' });
  }
  assert.deepEqual(classifyResponse(429, { 'retry-after': '7' }, '', NOW), { kind: 'retry', status: 429, message: 'HTTP 429 Too Many Requests', retryAfterMs: 7000 });
  const headers = new Headers({ 'Retry-After': 'Fri, 01 Mar 2024 12:00:30 GMT' });
  assert.deepEqual(classifyResponse(503, headers, '', NOW), { kind: 'retry', status: 503, message: 'HTTP 503 Service Unavailable', retryAfterMs: 30_000 });
  // node:http hands repeated headers as arrays and keys in lower case; accept any case anyway.
  assert.equal((classifyResponse(503, { 'Retry-After': ['2'] }, '', NOW) as { retryAfterMs?: number }).retryAfterMs, 2000);
});

test('5xx that mean configuration are fatal', () => {
  // InfluxDB 1.6 answers a missing retention policy with 500 (captured from influxd 1.6.7).
  assert.deepEqual(classifyResponse(500, {}, json('retention policy not found: zz')), { kind: 'fatal', status: 500, message: 'retention policy not found: zz' });
  assert.equal(classifyResponse(501, {}, '').kind, 'fatal');
  // Enterprise: accepted, reported as an error (influxdb-client-js treats it as success).
  assert.equal(classifyResponse(500, {}, json('write failed: hinted handoff queue not empty')).kind, 'ok');
});

test('parseRetryAfter', () => {
  assert.equal(parseRetryAfter(undefined, NOW), undefined);
  assert.equal(parseRetryAfter('', NOW), undefined);
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
  assert.equal(parseRetryAfter('1.5', NOW), undefined);
  assert.equal(parseRetryAfter('-3', NOW), undefined);
  assert.equal(parseRetryAfter('soon', NOW), undefined);
  assert.equal(parseRetryAfter('Fri, 01 Mar 2024 11:00:00 GMT', NOW), 0, 'a date in the past: no wait');
  assert.equal(parseRetryAfter('Friday, 01-Mar-24 12:01:00 GMT', NOW), 60_000, 'RFC 850 form');
  assert.equal(parseRetryAfter('999999', NOW), MAX_RETRY_AFTER_MS);
});

test('messages are one line, bounded, from JSON, header, text or status', () => {
  assert.equal(responseMessage(400, {}, json('line one\nline two')), 'line one line two');
  assert.equal(responseMessage(400, { 'x-influxdb-error': 'from header' }, ''), 'from header');
  assert.equal(responseMessage(502, {}, '<html><body>Bad gateway</body></html>'), 'HTTP 502 Bad Gateway');
  assert.equal(responseMessage(418, {}, ''), 'HTTP 418');
  assert.equal(responseMessage(400, {}, 'x'.repeat(2000)).length, 500);
  assert.equal(responseMessage(400, {}, '{not json'), '{not json');
});

test('network errors retry with the cause named', () => {
  // What undici's fetch throws for a refused connection.
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
  assert.deepEqual(classifyNetworkError(refused), { kind: 'retry', status: null, message: 'fetch failed: connect ECONNREFUSED 127.0.0.1:9' });
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  assert.deepEqual(classifyNetworkError(reset), { kind: 'retry', status: null, message: 'socket hang up: ECONNRESET' });
  assert.deepEqual(classifyNetworkError(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), {
    kind: 'retry',
    status: null,
    message: 'request timed out',
  });
  assert.equal(classifyNetworkError('weird').kind, 'retry');
});
