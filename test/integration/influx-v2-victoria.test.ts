/**
 * InfluxV2Writer (through @influxdata/influxdb-client's transport) against a real
 * VictoriaMetrics 1.79 (Debian `victoria-metrics`) on a free loopback port: writes read back
 * with force_flush + /api/v1/export, real 401s from `-httpAuth.*`.
 *
 * VictoriaMetrics takes every line it can parse and answers 204 even for bad ones, so the
 * 400/413/429 paths of the v2 writer are checked against a small scripted HTTP server
 * instead (there is no InfluxDB 2.x on these machines); the test names say so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import type { Precision } from '../../src/core/point.js';
import { Flusher } from '../../src/influx/flusher.js';
import { InfluxV2Writer, type InfluxV2WriterOptions } from '../../src/influx/v2-writer.js';
import type { Outbox } from '../../src/outbox/types.js';
import { freePort } from '../helpers/ports.js';
import { tempOutboxes } from '../helpers/temp-outboxes.js';
import { exportSeries, startVictoria, type Victoria } from '../helpers/victoria.js';

const newOutbox = tempOutboxes('wattline-v2');

function v2(url: string, extra: Partial<InfluxV2WriterOptions> = {}): InfluxV2Writer {
  return new InfluxV2Writer({ url, org: '', bucket: 'energy', token: '', timeoutMs: 10_000, gzip: true, ...extra });
}

function newFlusher(outbox: Outbox, writer: InfluxV2Writer, batchSize = 500): Flusher {
  return new Flusher({
    outbox,
    writer,
    batchSize,
    batchBytes: 4 * 1024 * 1024,
    flushIntervalMs: 50,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 400,
    clock: systemClock,
    log: silentLogger(),
  });
}

describe('VictoriaMetrics /api/v2/write', () => {
  let vm: Victoria;
  before(async () => {
    vm = await startVictoria();
  });
  after(async () => {
    await vm?.stop();
  });

  // VictoriaMetrics keeps milliseconds: pick times that are whole milliseconds in every unit.
  const T_MS = 1_700_000_000_123;
  const scale: Record<Precision, bigint> = { s: 1n, ms: 1n, us: 1000n, ns: 1_000_000n };
  for (const precision of ['s', 'ms', 'us', 'ns'] as Precision[]) {
    test(`precision ${precision}: values and times read back through export`, async () => {
      const w = v2(vm.url);
      const ms = precision === 's' ? [1_700_000_000_000, 1_700_000_001_000] : [T_MS, T_MS + 1];
      const ts = ms.map((m) => (precision === 's' ? BigInt(m / 1000) : BigInt(m) * scale[precision]));
      const lines = ts.map((t, i) => `prec_${precision},device=meter\\ 1 power_w=${i + 0.5},count=${i}i ${t}`);
      assert.deepEqual(await w.write(lines, precision), { kind: 'ok', status: 204 });
      const series = await exportSeries(vm, `{__name__=~"prec_${precision}_.*"}`);
      const byName = Object.fromEntries(series.map((s) => [s.metric.__name__, s]));
      assert.deepEqual(Object.keys(byName).sort(), [`prec_${precision}_count`, `prec_${precision}_power_w`]);
      assert.equal(byName[`prec_${precision}_power_w`]!.metric.device, 'meter 1');
      assert.deepEqual(byName[`prec_${precision}_power_w`]!.timestamps, ms);
      assert.deepEqual(byName[`prec_${precision}_power_w`]!.values, [0.5, 1.5]);
      assert.deepEqual(byName[`prec_${precision}_count`]!.values, [0, 1]);
      await w.close();
    });
  }

  test('3000 points through the SQLite outbox and the flusher (gzip) all arrive', async () => {
    const outbox = newOutbox('bulk');
    const n = 3000;
    outbox.append(
      Array.from({ length: n }, (_, i) => `bulk,site=home v=${i} ${1_700_000_000_000 + i * 1000}`),
      'ms',
    );
    const f = newFlusher(outbox, v2(vm.url));
    assert.deepEqual(await f.drain(), { complete: true, delivered: n, deadLettered: 0, remaining: 0 });
    const [series] = await exportSeries(vm, '{__name__="bulk_v"}');
    assert.equal(series!.values.length, n);
    assert.equal(
      series!.values.reduce((a, b) => a + b, 0),
      (n * (n - 1)) / 2,
    );
    assert.equal(series!.metric.site, 'home');
    await f.stop();
  });

  test('connection refused is a retry with no status; nothing acked', async () => {
    const port = await freePort();
    const outbox = newOutbox('refused');
    outbox.append(['m v=1 1'], 's');
    const f = newFlusher(outbox, v2(`http://127.0.0.1:${port}`));
    const report = await f.flushOnce();
    assert.equal(report.result, 'retry');
    assert.equal(report.outcome?.status, null);
    assert.match(report.outcome!.message, /ECONNREFUSED/);
    assert.equal(outbox.stats().rows, 1);
    await f.stop();
  });
});

describe('VictoriaMetrics with -httpAuth.* (real 401s)', () => {
  let vm: Victoria;
  const auth = { user: 'wattline', pass: 's3cret:with colon' };
  before(async () => {
    vm = await startVictoria({ auth });
  });
  after(async () => {
    await vm?.stop();
  });

  test('no or wrong credentials: 401 fatal, nothing acked; basic auth then delivers everything', async () => {
    const outbox = newOutbox('auth');
    outbox.append(
      Array.from({ length: 100 }, (_, i) => `authm v=${i} ${1_700_000_000 + i}`),
      's',
    );
    const attempts: [string, InfluxV2Writer][] = [
      ['no credentials', v2(vm.url)],
      ['wrong password', v2(vm.url, { username: auth.user, password: 'nope' })],
      // The client's `Authorization: Token user:pass` (InfluxDB 1.8's v2 compatibility form): VictoriaMetrics 1.79 wants Basic.
      ['token user:pass', v2(vm.url, { token: `${auth.user}:${auth.pass}` })],
    ];
    for (const [what, w] of attempts) {
      const f = newFlusher(outbox, w);
      const report = await f.flushOnce();
      assert.equal(report.result, 'fatal', what);
      assert.deepEqual(report.outcome, { kind: 'fatal', status: 401, message: 'HTTP 401 Unauthorized' }, what);
      assert.equal(report.delivered, 0, what);
      assert.equal(outbox.stats().rows, 100, what);
      await f.stop();
    }
    assert.deepEqual(await exportSeries(vm, '{__name__="authm_v"}'), [], 'nothing written');

    const good = v2(vm.url, { username: auth.user, password: auth.pass });
    assert.doesNotMatch(good.describe, /s3cret|wattline/, 'describe carries no credentials');
    const f = newFlusher(outbox, good);
    assert.deepEqual(await f.drain(), { complete: true, delivered: 100, deadLettered: 0, remaining: 0 });
    const [series] = await exportSeries(vm, '{__name__="authm_v"}');
    assert.equal(series!.values.length, 100);
    assert.equal(series!.timestamps[99], (1_700_000_000 + 99) * 1000);
    await f.stop();
  });

  test('credentials in the URL are used as basic auth and kept out of describe', async () => {
    const u = new URL(vm.url);
    u.username = encodeURIComponent(auth.user);
    u.password = encodeURIComponent(auth.pass);
    const w = v2(u.toString());
    assert.equal(w.describe, `influx v2 ${vm.url} bucket=energy basic-auth gzip`);
    assert.deepEqual(await w.write(['urlauth v=7 1700000000'], 's'), { kind: 'ok', status: 204 });
    const [series] = await exportSeries(vm, '{__name__="urlauth_v"}');
    assert.deepEqual(series!.values, [7]);
    await w.close();
  });
});

describe('v2 writer status handling (scripted HTTP server: no InfluxDB 2.x on these machines)', () => {
  interface Seen {
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let reply: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(204).end();

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
        seen.push({ url: req.url!, headers: req.headers, body });
        reply(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('request shape: path, org/bucket/precision, token header, gzip above the threshold', async () => {
    seen.length = 0;
    const w = v2(url, { org: 'home', bucket: 'energy', token: 'tok-123' });
    const lines = Array.from({ length: 100 }, (_, i) => `meter,device=kitchen power_w=${i} ${i}`);
    assert.equal((await w.write(lines, 'us')).kind, 'ok');
    assert.equal((await w.write(['small v=1 1'], 's')).kind, 'ok');
    assert.equal(seen[0]!.url, '/api/v2/write?org=home&bucket=energy&precision=us');
    assert.equal(seen[0]!.headers.authorization, 'Token tok-123');
    assert.equal(seen[0]!.headers['content-encoding'], 'gzip');
    assert.equal(seen[0]!.body, lines.join('\n'));
    assert.equal(seen[1]!.headers['content-encoding'], undefined, 'below the gzip threshold');
    assert.equal(seen[1]!.body, 'small v=1 1');
    assert.equal(w.describe, `influx v2 ${url} bucket=energy org=home token gzip`);
    await w.close();
  });

  test('400 reject, 413 split, 429 retry with Retry-After, 404 fatal: status, body and headers reach classify', async () => {
    const w = v2(url, { token: 't' });
    const cases: [number, Record<string, string>, string, unknown][] = [
      [
        400,
        { 'content-type': 'application/json' },
        '{"code":"invalid","message":"unable to parse \'m v=\': missing field value"}',
        { kind: 'reject', status: 400, message: "unable to parse 'm v=': missing field value" },
      ],
      [
        413,
        { 'content-type': 'application/json' },
        '{"code":"request too large","message":"unable to read data: points batch is too large"}',
        { kind: 'split', status: 413, message: 'unable to read data: points batch is too large' },
      ],
      [429, { 'retry-after': '12' }, '', { kind: 'retry', status: 429, message: 'HTTP 429 Too Many Requests', retryAfterMs: 12_000 }],
      [503, { 'content-type': 'text/plain' }, 'overloaded\n', { kind: 'retry', status: 503, message: 'overloaded' }],
      [404, { 'content-type': 'application/json' }, '{"code":"not found","message":"bucket \\"energy\\" not found"}', { kind: 'fatal', status: 404, message: 'bucket "energy" not found' }],
      [201, {}, '', { kind: 'ok', status: 201 }],
    ];
    for (const [status, headers, body, want] of cases) {
      reply = (res) => res.writeHead(status, headers).end(body);
      assert.deepEqual(await w.write(['m v=1 1'], 's'), want, `HTTP ${status}`);
    }
    reply = (res) => res.writeHead(204).end();
    await w.close();
  });

  test('a server that never answers: retry after the per-request timeout; the caller can abort too', async () => {
    reply = () => undefined; // hold the request open
    const w = v2(url, { timeoutMs: 300 });
    assert.deepEqual(await w.write(['m v=1 1'], 's'), { kind: 'retry', status: null, message: 'request timed out after 300 ms' });
    const w2 = v2(url, { timeoutMs: 60_000 });
    const ac = new AbortController();
    const pending = w2.write(['m v=1 1'], 's', ac.signal);
    setTimeout(() => ac.abort(), 50);
    assert.deepEqual(await pending, { kind: 'retry', status: null, message: 'request aborted' });
    reply = (res) => res.writeHead(204).end();
    server.closeAllConnections();
    await w.close();
    await w2.close();
  });

  test('token and basic auth together is a configuration error', () => {
    assert.throws(() => v2(url, { token: 't', username: 'u', password: 'p' }), { name: 'ConfigError' });
  });
});
