/**
 * InfluxV1Writer and the Flusher against a real influxd 1.6.7 (Debian `influxdb`), each
 * server on free loopback ports in a temp folder, with the real SQLite outbox. Everything
 * is checked by reading it back through /query.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { systemClock } from '../../src/core/clock.js';
import { encodePoint } from '../../src/core/line-protocol.js';
import { silentLogger } from '../../src/core/log.js';
import { int, NS_PER, type Point, type Precision } from '../../src/core/point.js';
import { Flusher, type FlusherOptions } from '../../src/influx/flusher.js';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import type { Outbox } from '../../src/outbox/types.js';
import { count, createDatabase, query, startInfluxd, timeNs, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';
import { tempOutboxes } from '../helpers/temp-outboxes.js';

const newOutbox = tempOutboxes('wattline-v1');

function writer(server: Influxd, database: string, gzip = true): InfluxV1Writer {
  return new InfluxV1Writer({ url: server.url, database, timeoutMs: 10_000, gzip });
}

function flusher(outbox: Outbox, w: InfluxV1Writer, overrides: Partial<FlusherOptions> = {}): Flusher {
  return new Flusher({
    outbox,
    writer: w,
    batchSize: 1000,
    batchBytes: 4 * 1024 * 1024,
    flushIntervalMs: 50,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 400,
    clock: systemClock,
    log: silentLogger(),
    ...overrides,
  });
}

describe('influxd 1.6.7 /write', () => {
  let influx: Influxd;
  before(async () => {
    influx = await startInfluxd();
  });
  after(async () => {
    await influx?.stop();
  });

  // 2023-11-14T22:13:20.123456789Z: every precision cuts it somewhere different.
  const T = 1_700_000_000_123_456_789n;
  for (const precision of ['s', 'ms', 'us', 'ns'] as Precision[]) {
    for (const gzip of [false, true]) {
      test(`precision ${precision}${gzip ? ', gzip' : ''}: times and values read back exactly`, async () => {
        const db = `prec_${precision}_${gzip ? 'gz' : 'plain'}`;
        await createDatabase(influx.url, db);
        const unit = NS_PER[precision];
        const lines = [0n, 1n, 2n].map((i) => `p,n=${i} f=${Number(i) + 0.25},i=${i}i,b=${i === 1n},s="v${i}" ${T / unit + i}`);
        const w = writer(influx, db, gzip);
        assert.deepEqual(await w.write(lines, precision), { kind: 'ok', status: 204 });
        const series = await query(influx.url, db, 'SELECT f, i, b, s FROM p GROUP BY n');
        assert.equal(series.length, 3);
        for (const s of series) {
          const i = BigInt(s.tags!.n!);
          assert.equal(s.values.length, 1);
          const [time, f, iv, b, str] = s.values[0]!;
          // A precision InfluxDB misread (1.6 takes `us` and `ns` as ns) would move these by orders of magnitude.
          assert.equal(timeNs(time as string), (T / unit + i) * unit, `n=${i}`);
          assert.deepEqual([f, iv, b, str], [Number(i) + 0.25, Number(i), i === 1n, `v${i}`]);
        }
        await w.close();
      });
    }
  }

  test('5000 points through the SQLite outbox and the flusher: counted and summed by query', async () => {
    await createDatabase(influx.url, 'bulk');
    const outbox = newOutbox();
    const n = 5000;
    const lines = Array.from({ length: n }, (_, i) => `bulk,device=d${i % 7} v=${i},k=${i}i ${1_700_000_000_000 + i}`);
    outbox.append(lines, 'ms');
    const f = flusher(outbox, writer(influx, 'bulk'), { batchSize: 1000 });
    const result = await f.drain();
    assert.deepEqual(result, { complete: true, delivered: n, deadLettered: 0, remaining: 0 });
    assert.equal(await count(influx.url, 'bulk', 'bulk', 'v'), n);
    const sum = await query(influx.url, 'bulk', 'SELECT sum(v), sum(k) FROM bulk');
    assert.deepEqual(sum[0]!.values[0]!.slice(1), [(n * (n - 1)) / 2, (n * (n - 1)) / 2]);
    assert.equal(f.status().requests, 5);
    await f.stop();
  });

  test('hostile names and values round-trip exactly (encodePoint → /write → /query)', async () => {
    await createDatabase(influx.url, 'hostile');
    const base = 1_700_000_000_000_000_000n;
    const points: Point[] = [
      {
        measurement: 'we ird,meas=ure "q" back\\slash ünï 🌡',
        tags: { 'tag key,with=all"of\\it': 'va lue,=x"y\\z 温度', plain: 'a\\ b\\,c\\=d' },
        fields: { 'field key,=f"g\\h': 1.5, 's tr': 'str "quoted" \\ back\\\\slash, comma=eq\nline two ✓', n: int(-42), ok: true },
        time: base,
      },
      {
        measurement: 'cpu',
        tags: { host: 'server 01', region: 'us-west,2' },
        fields: { 'usage idle': 99.5, note: 'a,b c=d\\"' },
        time: base + 1n,
      },
      { measurement: 'a=b', tags: { '🔑': '🔒' }, fields: { '"': '"', '\\x': '\\' }, time: base + 2n },
    ];
    const lines = points.map((p) => encodePoint(p, 'ns'));
    const w = writer(influx, 'hostile');
    assert.deepEqual(await w.write(lines, 'ns'), { kind: 'ok', status: 204 });

    const series = await query(influx.url, 'hostile', 'SELECT * FROM /.*/ GROUP BY *');
    const got = series.map((s) => ({
      measurement: s.name,
      // With a regex FROM, GROUP BY * lists every measurement's tag keys; InfluxDB has no empty tag values.
      tags: Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, v]) => v !== '')),
      rows: s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]]).filter(([, v]) => v !== null))),
    }));
    const want = points.map((p) => ({
      measurement: p.measurement,
      tags: p.tags,
      rows: [
        {
          time: nsToRfc3339(p.time),
          ...Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, typeof v === 'object' ? Number(v.value) : v])),
        },
      ],
    }));
    const byName = (a: { measurement: string }, b: { measurement: string }) => (a.measurement < b.measurement ? -1 : 1);
    assert.deepEqual(got.sort(byName), want.sort(byName));
    await w.close();
  });

  test('missing database: 404 is fatal, nothing leaves the outbox', async () => {
    const outbox = newOutbox();
    outbox.append(['m v=1 1', 'm v=2 2'], 's');
    const f = flusher(outbox, writer(influx, 'nope'));
    const report = await f.flushOnce();
    assert.equal(report.result, 'fatal');
    assert.deepEqual(report.outcome, { kind: 'fatal', status: 404, message: 'database not found: "nope"' });
    assert.equal(outbox.stats().rows, 2);
    assert.equal(outbox.stats().deadLetters, 0);
    const dbs = await query(influx.url, '', 'SHOW DATABASES');
    assert.ok(!dbs[0]!.values.some((v) => v[0] === 'nope'));
    assert.equal(f.status().lastError?.status, 404);
    await f.stop();
  });

  test('one field type conflict in 1000 lines: exactly that line is dead-lettered with the server message, 999 arrive', async () => {
    await createDatabase(influx.url, 'poison');
    const w = writer(influx, 'poison');
    // An earlier write fixes the field type to float.
    assert.equal((await w.write(['poison v=0.5 1600000000000'], 'ms')).kind, 'ok');
    const outbox = newOutbox();
    const lines = Array.from({ length: 1000 }, (_, i) => `poison,d=x v=${i} ${1_700_000_000_000 + i}`);
    lines[613] = `poison,d=x v="not a float" ${1_700_000_000_000 + 613}`;
    outbox.append(lines, 'ms');
    const f = flusher(outbox, w, { batchSize: 1000 });
    const result = await f.drain();
    assert.deepEqual(result, { complete: true, delivered: 999, deadLettered: 1, remaining: 0 });
    const dead = outbox.listDeadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.line, lines[613]);
    assert.equal(dead[0]!.status, 400);
    assert.match(dead[0]!.message, /field type conflict: input field "v" on measurement "poison" is type string, already exists as type float/);
    assert.equal(await count(influx.url, 'poison', 'poison', 'v'), 1 + 999);
    const missing = await query(influx.url, 'poison', `SELECT v FROM poison WHERE time = ${1_700_000_000_000 + 613}ms`);
    assert.equal(missing.length, 0);
    await f.stop();
  });

  test('one unparsable line in 1000: dead-lettered with the parser message, 999 arrive', async () => {
    await createDatabase(influx.url, 'unparsable');
    const outbox = newOutbox();
    const lines = Array.from({ length: 1000 }, (_, i) => `u v=${i} ${1_700_000_000 + i}`);
    lines[0] = 'u v= 1700000000';
    outbox.append(lines, 's');
    const f = flusher(outbox, writer(influx, 'unparsable'), { batchSize: 1000 });
    const result = await f.drain();
    assert.deepEqual(result, { complete: true, delivered: 999, deadLettered: 1, remaining: 0 });
    const [dead] = outbox.listDeadLetters();
    assert.equal(dead!.line, 'u v= 1700000000');
    assert.match(dead!.message, /unable to parse 'u v= 1700000000': missing field value/);
    assert.equal(await count(influx.url, 'unparsable', 'u', 'v'), 999);
    await f.stop();
  });
});

describe('influxd with a small max-body-size', () => {
  let influx: Influxd;
  before(async () => {
    influx = await startInfluxd({ maxBodySize: 20_000 });
  });
  after(async () => {
    await influx?.stop();
  });

  test('413: batches split until they fit; a line larger than the limit is dead-lettered', async () => {
    await createDatabase(influx.url, 'big');
    const outbox = newOutbox();
    const lines = Array.from({ length: 3000 }, (_, i) => `big,device=meter-${i % 10} value=${i}.5 ${1_700_000_000_000 + i}`);
    const huge = `big,device=huge text="${'x'.repeat(30_000)}" 1700000005000`;
    lines.splice(1500, 0, huge);
    outbox.append(lines, 'ms');
    const f = flusher(outbox, writer(influx, 'big', false), { batchSize: 5000, batchBytes: 10_000_000 });
    const result = await f.drain();
    assert.deepEqual(result, { complete: true, delivered: 3000, deadLettered: 1, remaining: 0 });
    const [dead] = outbox.listDeadLetters();
    assert.equal(dead!.line, huge);
    assert.equal(dead!.status, 413);
    assert.equal(dead!.message, 'Request Entity Too Large');
    assert.equal(await count(influx.url, 'big', 'big', 'value'), 3000);
    await f.stop();
  });
});

describe('influxd outage while points keep coming', () => {
  let influx: Influxd;
  before(async () => {
    influx = await startInfluxd();
    await createDatabase(influx.url, 'outage');
  });
  after(async () => {
    await influx?.stop();
  });

  test('SIGKILL mid-run: lines pile up in the outbox, all arrive after restart on the same port and data', async () => {
    const outbox = newOutbox();
    const f = flusher(outbox, new InfluxV1Writer({ url: influx.url, database: 'outage', timeoutMs: 2000, gzip: true }), { batchSize: 200 });
    let appended = 0;
    const append = (n: number) => {
      outbox.append(
        Array.from({ length: n }, (_, i) => `outage,src=poll v=${appended + i} ${1_700_000_000_000 + appended + i}`),
        'ms',
      );
      appended += n;
    };
    f.start();
    try {
      // Up: a few polls arrive.
      for (let i = 0; i < 5; i++) {
        append(100);
        await waitFor(() => outbox.stats().rows === 0, 'delivery before the outage');
      }
      const before = await count(influx.url, 'outage', 'outage', 'v');
      assert.equal(before, 500);

      await influx.stopHard();
      // Down: polls keep coming and stay in the outbox.
      for (let i = 0; i < 10; i++) {
        append(100);
        await sleep(30);
      }
      await waitFor(() => f.status().consecutiveFailures >= 2, 'the flusher noticing the outage');
      assert.ok(outbox.stats().rows >= 1000, `pending: ${outbox.stats().rows}`);
      assert.equal(f.status().lastError?.kind, 'retry');
      assert.equal(f.status().lastError?.status, null);

      await influx.restart();
      append(100);
      await waitFor(() => outbox.stats().rows === 0, 'delivery after the restart');
    } finally {
      await f.stop();
    }
    assert.equal(appended, 1600);
    assert.equal(await count(influx.url, 'outage', 'outage', 'v'), 1600);
    const sum = await query(influx.url, 'outage', 'SELECT sum(v) FROM outage');
    assert.equal(sum[0]!.values[0]![1], (1600 * 1599) / 2);
    assert.equal(f.status().consecutiveFailures, 0);
    assert.equal(outbox.stats().deadLetters, 0);
  });
});

describe('influxd with auth-enabled (real 401 and 403)', () => {
  let influx: Influxd;
  const admin = { user: 'admin', pass: 'adm1n pass' };
  before(async () => {
    influx = await startInfluxd({ authEnabled: true });
    // With no users yet, 1.x lets the first admin be created without credentials.
    await query(influx.url, '', `CREATE USER "admin" WITH PASSWORD 'adm1n pass' WITH ALL PRIVILEGES`);
    await createDatabase(influx.url, 'secured', admin);
    await query(influx.url, '', `CREATE USER "reader" WITH PASSWORD 'r'`, admin);
    await query(influx.url, '', `GRANT READ ON "secured" TO "reader"`, admin);
  });
  after(async () => {
    await influx?.stop();
  });

  test('no credentials, a wrong password, a user without write rights: fatal, nothing acked; the right user delivers', async () => {
    const outbox = newOutbox();
    outbox.append(
      Array.from({ length: 50 }, (_, i) => `sec v=${i} ${1_700_000_000 + i}`),
      's',
    );
    const base = { url: influx.url, database: 'secured', timeoutMs: 10_000, gzip: true };
    // The server's own words, as influxd 1.6.7 sends them.
    const cases: [string, InfluxV1Writer, number, string][] = [
      ['no credentials', new InfluxV1Writer(base), 401, 'unable to parse authentication credentials'],
      ['wrong password', new InfluxV1Writer({ ...base, username: 'admin', password: 'wrong' }), 401, 'authorization failed'],
      ['read-only user', new InfluxV1Writer({ ...base, username: 'reader', password: 'r' }), 403, '"reader" user is not authorized to write to database "secured"'],
    ];
    for (const [what, w, status, message] of cases) {
      const f = flusher(outbox, w);
      const report = await f.flushOnce();
      assert.equal(report.result, 'fatal', what);
      assert.deepEqual(report.outcome, { kind: 'fatal', status, message }, what);
      assert.equal(report.delivered, 0, what);
      assert.equal(outbox.stats().rows, 50, what);
      await f.stop();
    }
    assert.equal(await count(influx.url, 'secured', 'sec', 'v', admin), 0);

    const w = new InfluxV1Writer({ ...base, username: admin.user, password: admin.pass });
    assert.doesNotMatch(w.describe, /adm1n|admin/, 'no credentials in describe');
    const f = flusher(outbox, w);
    assert.deepEqual(await f.drain(), { complete: true, delivered: 50, deadLettered: 0, remaining: 0 });
    assert.equal(await count(influx.url, 'secured', 'sec', 'v', admin), 50);
    await f.stop();
  });
});

describe('v1 writer against local sockets (request shape, no answer)', () => {
  test('request shape: path under a proxy prefix, db/rp, one-letter precisions, basic auth, gzip', async () => {
    const seen: { url: string; auth: string | undefined; encoding: string | undefined; body: string }[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = req.headers['content-encoding'];
        seen.push({ url: req.url!, auth: req.headers.authorization, encoding, body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const w = new InfluxV1Writer({ url: `http://u%40x:p%3Ass@127.0.0.1:${port}/influx/`, database: 'energy db', retentionPolicy: 'one year', timeoutMs: 5000, gzip: true });
      assert.equal(w.describe, `influx v1 http://127.0.0.1:${port}/influx db=energy db rp=one year gzip`);
      for (const p of ['ns', 'us', 'ms', 's'] as Precision[]) assert.deepEqual(await w.write(['m v=1 1', 'm v=2 2'], p), { kind: 'ok', status: 204 });
      assert.deepEqual(
        seen.map((x) => new URL(x.url, 'http://h').searchParams.get('precision')),
        ['n', 'u', 'ms', 's'],
        'InfluxDB 1.6 reads ns and us as nanoseconds: only one-letter forms go out',
      );
      assert.equal(seen[0]!.url, '/influx/write?db=energy+db&rp=one+year&precision=n');
      assert.equal(seen[0]!.auth, 'Basic ' + Buffer.from('u@x:p:ss').toString('base64'));
      assert.equal(seen[0]!.encoding, 'gzip');
      assert.equal(seen[0]!.body, 'm v=1 1\nm v=2 2');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('connection refused: retry, no status, the cause named', async () => {
    const port = await freePort();
    const w = new InfluxV1Writer({ url: `http://127.0.0.1:${port}`, database: 'x', timeoutMs: 5000, gzip: false });
    const outcome = await w.write(['m v=1 1'], 's');
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.kind === 'retry' && outcome.status, null);
    assert.match(outcome.kind === 'retry' ? outcome.message : '', /ECONNREFUSED/);
  });

  test('a server that accepts and never answers: retry after the timeout; the caller may abort', async () => {
    const sockets = new Set<Socket>();
    const server = createNetServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const w = new InfluxV1Writer({ url, database: 'x', timeoutMs: 300, gzip: true });
      assert.deepEqual(await w.write(['m v=1 1'], 's'), { kind: 'retry', status: null, message: 'request timed out after 300 ms' });
      const w2 = new InfluxV1Writer({ url, database: 'x', timeoutMs: 60_000, gzip: true });
      const ac = new AbortController();
      const pending = w2.write(['m v=1 1'], 's', ac.signal);
      setTimeout(() => ac.abort(), 50);
      assert.deepEqual(await pending, { kind: 'retry', status: null, message: 'request aborted' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

function nsToRfc3339(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, frac ? `.${frac}Z` : 'Z');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll a condition; the bound only keeps a broken run from hanging (not a timing assertion). */
async function waitFor(condition: () => boolean, what: string, boundMs = 60_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}
