/**
 * Capture archive pieces (docs/capture.md): the JSON-lines format, the SQLite archive (order, cycle
 * ids, retention by age and size), the live-before-backfill outbox in front of the flusher,
 * and the backfill engine's checkpoints.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackfill, type BackfillUnit } from '../../src/backfill/engine.js';
import { int } from '../../src/core/point.js';
import { silentLogger } from '../../src/core/log.js';
import { systemClock } from '../../src/core/clock.js';
import { Flusher } from '../../src/influx/flusher.js';
import type { WriteOutcome, Writer } from '../../src/influx/types.js';
import { captureLines, formatCaptureLine, parseCaptureLine } from '../../src/outbox/capture-format.js';
import { CaptureStore } from '../../src/outbox/capture-store.js';
import { BACKFILL_ID_OFFSET, backfillOutboxPath, PriorityOutbox } from '../../src/outbox/priority-outbox.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const dir = mkdtempSync(join(tmpdir(), 'wattline-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (name: string) => join(dir, `${++n}-${name}`);

describe('capture file format', () => {
  test('bytes as hex and telegram text round-trip with time, device, driver, cycle', () => {
    const bytes = { timeMs: Date.UTC(2026, 10, 25, 17, 50, 0, 123), device: 'bus', driver: 'hdhk', cycle: 17, direction: 'tx' as const, text: false, data: Buffer.from('010300080010c5c4', 'hex') };
    const line = formatCaptureLine(bytes);
    assert.equal(line, '{"time":"2026-11-25T17:50:00.123Z","device":"bus","driver":"hdhk","cycle":17,"direction":"tx","hex":"010300080010c5c4"}');
    assert.deepEqual(parseCaptureLine(line, 'f:1'), bytes);
    const telegram = { timeMs: 1000, device: 'm', driver: 'dsmr-p1', cycle: null, direction: 'rx' as const, text: true, data: Buffer.from('/X\r\n\r\n1-0:1.7.0(00.301*kW)\r\n!ABCD\r\n\u00e9', 'latin1') };
    const t = formatCaptureLine(telegram);
    assert.match(t, /"text":"\/X\\r\\n/);
    assert.doesNotMatch(t, /"cycle"/);
    assert.deepEqual(parseCaptureLine(t, 'f:1'), telegram);
  });

  test('a bad line is one error naming the line and the reason', () => {
    const bad = [
      ['not json', /f:3: not a JSON capture record/],
      ['{"time":"soon","direction":"rx","hex":""}', /f:3: "time" must be an ISO 8601 time or Unix ms, got "soon"/],
      ['{"time":1,"direction":"up","hex":""}', /f:3: "direction" must be "rx" or "tx"/],
      ['{"time":1,"direction":"rx","hex":"0","text":"x"}', /f:3: give exactly one of "hex"/],
      ['{"time":1,"direction":"rx","hex":"0g"}', /f:3: "hex" must be pairs of hex digits/],
      ['{"time":1,"direction":"rx","hex":"","port":1}', /f:3: unknown key "port"/],
      ['{"time":1,"direction":"rx","hex":"","cycle":1.5}', /f:3: "cycle" must be an integer/],
    ] as const;
    for (const [line, message] of bad) assert.throws(() => parseCaptureLine(line, 'f:3'), message);
    const lines = [...captureLines(Buffer.from('\n{"time":1,"direction":"rx","hex":"00"}\n\n{"time":2,"direction":"tx","hex":"01"}\n'), 'f')];
    assert.deepEqual(
      lines.map((l) => l.line),
      [2, 4],
    );
    assert.throws(() => [...captureLines(Buffer.from('{"time":1,"direction":"rx","hex":"00"}\n{oops}\n'), 'cap.jsonl')], /cap\.jsonl:2: not a JSON/);
  });
});

describe('capture archive (SQLite)', () => {
  const rec = (timeMs: number, device = 'd', bytes = 10) => ({ timeMs, device, driver: 'hdhk', cycle: null, direction: 'rx' as const, text: false, data: Buffer.alloc(bytes, 1) });

  test('records come back in capture order, filtered by device and time; stats per device', () => {
    const store = new CaptureStore(file('a.sqlite'), { maxAgeMs: Infinity, maxBytes: 1e9 });
    for (let i = 0; i < 12_000; i++) store.add(rec(1000 + i, i % 3 === 0 ? 'x' : 'y'));
    store.flush();
    const xs = [...store.read({ device: 'x' })];
    assert.equal(xs.length, 4000);
    assert.ok(xs.every((r, i) => i === 0 || r.id > xs[i - 1]!.id));
    assert.equal(store.count({ device: 'y', fromMs: 1000, toMs: 1009 }), 6);
    assert.deepEqual(
      [...store.read({ device: 'y', fromMs: 1000, toMs: 1004 })].map((r) => r.timeMs),
      [1001, 1002, 1004],
    );
    const stats = store.stats();
    assert.deepEqual(
      stats.map((s) => [s.device, s.records, s.bytes, s.firstMs, s.lastMs]),
      [
        ['x', 4000, 40_000, 1000, 12_997],
        ['y', 8000, 80_000, 1001, 12_999],
      ],
    );
    store.close();
  });

  test('cycle ids are unique across two processes sharing the file (reserved in blocks)', () => {
    const path = file('cycles.sqlite');
    const a = new CaptureStore(path, { maxAgeMs: 1e12, maxBytes: 1e9 });
    const b = new CaptureStore(path, { maxAgeMs: 1e12, maxBytes: 1e9 });
    const ids = new Set<number>();
    for (let i = 0; i < 2500; i++) {
      ids.add(a.nextCycle());
      ids.add(b.nextCycle());
    }
    assert.equal(ids.size, 5000);
    a.close();
    b.close();
    const c = new CaptureStore(path, { maxAgeMs: 1e12, maxBytes: 1e9 });
    assert.ok(!ids.has(c.nextCycle()), 'a reopened archive does not hand out an id again');
    c.close();
  });

  test('retention: older than maxAge goes, then the oldest until the data fits maxBytes', () => {
    let now = 100_000;
    const store = new CaptureStore(file('ret.sqlite'), { maxAgeMs: 50_000, maxBytes: 1000, now: () => now, pruneEveryMs: 0 });
    for (let i = 0; i < 100; i++) store.add(rec(40_000 + i * 1000, 'd', 10)); // 40 s … 139 s, 1000 bytes
    store.flush(); // cutoff 50 s: the first 10 go
    assert.deepEqual([store.count(), Math.min(...[...store.read()].map((r) => r.timeMs))], [90, 50_000]);
    now = 120_000; // cutoff 70 s
    store.add(rec(140_000, 'd', 400));
    // Age (cutoff 70 s): 50-69 s go, 70 records + the new one = 1100 bytes; size: the oldest 10 go.
    store.flush();
    const left = [...store.read()];
    const bytes = left.reduce((s, r) => s + r.data.length, 0);
    assert.deepEqual([left.length, bytes, left[0]!.timeMs, left.at(-1)!.timeMs], [61, 1000, 80_000, 140_000]);
    assert.equal(store.stats()[0]!.bytes, bytes, 'the running byte total matches the rows');
    store.close();
  });
});

/** Accepts everything and remembers what it was sent, request by request. */
class RecordingWriter implements Writer {
  readonly describe = 'recording';
  readonly requests: string[][] = [];
  async write(lines: readonly string[]): Promise<WriteOutcome> {
    this.requests.push([...lines]);
    await new Promise((r) => setImmediate(r));
    return { kind: 'ok' } as WriteOutcome;
  }
  async close(): Promise<void> {}
}

describe('live points before backfill points (PriorityOutbox, real SQLite files)', () => {
  const limits = { maxRows: 1e7, maxBytes: 1e12 };

  test('backfill rows go only when no live row is pending; ids tell the files apart', () => {
    const livePath = file('outbox.sqlite');
    const live = new SqliteOutbox(livePath, limits);
    const backfill = new SqliteOutbox(backfillOutboxPath(livePath), limits);
    backfill.append(['b1 v=1 1', 'b2 v=1 2', 'b3 v=1 3'], 'ms');
    const q = new PriorityOutbox(live, backfillOutboxPath(livePath), (p) => new SqliteOutbox(p, limits));
    live.append(['l1 v=1 1'], 'ms');
    const first = q.peek(2, 1e6)!;
    assert.deepEqual(
      first.rows.map((r) => r.line),
      ['l1 v=1 1'],
    );
    const second = q.peek(2, 1e6, first.rows[0]!.id)!;
    assert.deepEqual(
      second.rows.map((r) => r.line),
      ['b1 v=1 1', 'b2 v=1 2'],
    );
    assert.ok(second.rows.every((r) => r.id > BACKFILL_ID_OFFSET));
    q.ack(first.rows.map((r) => r.id));
    // A live point committed while a backfill batch is in flight goes next.
    live.append(['l2 v=1 2'], 'ms');
    const third = q.peek(2, 1e6, second.rows.at(-1)!.id)!;
    assert.deepEqual(
      third.rows.map((r) => r.line),
      ['l2 v=1 2'],
    );
    q.ack([...second.rows, ...third.rows].map((r) => r.id));
    assert.deepEqual(
      q.peek(10, 1e6)!.rows.map((r) => r.line),
      ['b3 v=1 3'],
    );
    assert.deepEqual([live.stats().rows, backfill.stats().rows, q.stats().rows], [0, 1, 1]);
    q.close();
    backfill.close();
  });

  test('the flusher sends a live point within a batch or two of a large backfill', async () => {
    const livePath = file('outbox.sqlite');
    const live = new SqliteOutbox(livePath, limits);
    const backfill = new SqliteOutbox(backfillOutboxPath(livePath), limits);
    const big = Array.from({ length: 20_000 }, (_, i) => `b v=${i} ${i}`);
    backfill.append(big, 'ms');
    const q = new PriorityOutbox(live, backfillOutboxPath(livePath), (p) => new SqliteOutbox(p, limits));
    const writer = new RecordingWriter();
    const flusher = new Flusher({ outbox: q, writer, batchSize: 500, batchBytes: 1e6, flushIntervalMs: 10, minRetryDelayMs: 10, maxRetryDelayMs: 100, clock: systemClock, log: silentLogger() });
    flusher.start();
    while (writer.requests.length < 3) await new Promise((r) => setTimeout(r, 1));
    live.append(['live v=1 1'], 'ms');
    const at = writer.requests.length;
    while (!writer.requests.some((r) => r.includes('live v=1 1'))) await new Promise((r) => setTimeout(r, 1));
    const sentIn = writer.requests.findIndex((r) => r.includes('live v=1 1'));
    assert.ok(sentIn <= at + 1, `live point went in request ${sentIn}, appended when ${at} were made`);
    while (q.stats().rows > 0) await new Promise((r) => setTimeout(r, 5));
    await flusher.stop();
    assert.equal(writer.requests.flat().length, 20_001, 'every row sent once');
    q.close();
    backfill.close();
  });
});

describe('backfill engine', () => {
  const units = (count: number, bad: Set<number> = new Set()): BackfillUnit[] =>
    Array.from({ length: count }, (_, i) => ({
      position: i + 1,
      where: `unit ${i + 1}`,
      progress: i + 1,
      decode: () =>
        bad.has(i + 1) ? { points: [], errors: [`unit ${i + 1} is broken`] } : { points: [{ measurement: 'm', tags: { device: 'd' }, fields: { v: int(i) }, time: BigInt(i + 1) * 1_000_000_000n }], errors: [] },
    }));

  test('an interrupted run resumes after its checkpoint; the points equal an uninterrupted run', async () => {
    const whole = new SqliteOutbox(file('whole.sqlite'), { maxRows: 1e6, maxBytes: 1e9 });
    const sinkOf = (o: SqliteOutbox) => ({
      commit: (lines: string[], position: number) => void o.appendWithCheckpoint(lines, 'ms', 'job', position),
      checkpoint: () => o.checkpoint('job'),
      finished: () => o.clearCheckpoint('job'),
      pending: () => null,
    });
    const r = await runBackfill({ units: units(1000, new Set([7])), sink: sinkOf(whole), precision: 's', chunkLines: 100 });
    assert.deepEqual([r.units, r.points, r.failed, r.problems, r.failures], [1000, 999, 1, 1, [{ where: 'unit 7', errors: ['unit 7 is broken'] }]]);
    assert.equal(whole.checkpoint('job'), null, 'a finished run forgets its checkpoint');

    const cut = new SqliteOutbox(file('cut.sqlite'), { maxRows: 1e6, maxBytes: 1e9 });
    const stop = new AbortController();
    const first = await runBackfill({ units: units(1000, new Set([7])), sink: sinkOf(cut), precision: 's', chunkLines: 100, signal: stop.signal, onProgress: (p) => p === 450 && stop.abort() });
    assert.equal(first.interrupted, true);
    assert.equal(cut.checkpoint('job'), 450, 'what was decoded before the stop is committed with its position');
    const second = await runBackfill({ units: units(1000, new Set([7])), sink: sinkOf(cut), precision: 's', chunkLines: 100 });
    assert.deepEqual([second.resumedFrom, second.resumed, second.points], [450, 450, 550]);
    const lines = (o: SqliteOutbox) => o.peek(1e6, 1e12)!.rows.map((r) => r.line);
    assert.deepEqual(lines(cut), lines(whole));
    whole.close();
    cut.close();
  });
});
