/**
 * The flusher's decisions with an in-memory outbox, a scripted writer and a fake clock:
 * bisection, split, back-off, fatal reporting, stop. No sockets, no waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pino } from 'pino';
import type { Precision } from '../../src/core/point.js';
import { Flusher, type FlusherOptions } from '../../src/influx/flusher.js';
import type { WriteOutcome, Writer } from '../../src/influx/types.js';
import { MemoryOutbox } from '../../src/outbox/memory-outbox.js';
import type { Outbox } from '../../src/outbox/types.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** Time moves only when someone sleeps; every sleep is recorded and returns on the next macrotask. */
const newClock = () => new FakeClock(Date.parse('2024-03-01T12:00:00Z'), { sleep: 'next-tick', sleepAdvances: true });

type Script = (lines: readonly string[], call: number, signal?: AbortSignal) => WriteOutcome | Promise<WriteOutcome>;

class ScriptedWriter implements Writer {
  readonly describe = 'scripted';
  readonly calls: string[][] = [];
  /** Lines of every request answered ok, in order. */
  readonly accepted: string[] = [];
  closed = false;
  constructor(private readonly script: Script) {}
  async write(lines: readonly string[], _precision: Precision, signal?: AbortSignal): Promise<WriteOutcome> {
    this.calls.push([...lines]);
    const outcome = await this.script(lines, this.calls.length, signal);
    if (outcome.kind === 'ok') this.accepted.push(...lines);
    return outcome;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function capturingLogger() {
  const records: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void records.push(JSON.parse(s)) });
  return { log, records, at: (level: number) => records.filter((r) => r.level === level) };
}

const ERROR = 50;
const WARN = 40;

function setup(script: Script, overrides: Partial<FlusherOptions> = {}, lines = 0) {
  const outbox = new MemoryOutbox({ maxRows: 1_000_000, maxBytes: 1e9 });
  if (lines > 0) outbox.append(makeLines(lines), 'ms');
  const writer = new ScriptedWriter(script);
  const clock = newClock();
  const logs = capturingLogger();
  const flusher = new Flusher(flusherOptions(outbox, writer, { clock, log: logs.log, ...overrides }));
  return { outbox, writer, clock, logs, flusher };
}

/** The options every flusher here starts from: batches of 100, 1 s to 60 s back-off, no jitter. */
function flusherOptions(outbox: Outbox, writer: Writer, overrides: Partial<FlusherOptions> = {}): FlusherOptions {
  return {
    outbox,
    writer,
    batchSize: 100,
    batchBytes: 1_000_000,
    flushIntervalMs: 1000,
    minRetryDelayMs: 1000,
    maxRetryDelayMs: 60_000,
    clock: newClock(),
    log: capturingLogger().log,
    random: () => 0.5,
    ...overrides,
  };
}

function makeLines(n: number, poisoned: ReadonlySet<number> = new Set()): string[] {
  return Array.from({ length: n }, (_, i) => (poisoned.has(i) ? `m v="poison" ${i}` : `m v=${i} ${i}`));
}

const ok: WriteOutcome = { kind: 'ok', status: 204 };
/** InfluxDB 1.x: a batch with a poisoned line is refused as a whole (400 partial write). */
const rejectPoison: Script = (lines) => (lines.some((l) => l.includes('poison')) ? { kind: 'reject', status: 400, message: 'partial write: field type conflict dropped=1' } : ok);

test('a clean backlog is sent in batches and acked', async () => {
  const { outbox, writer, flusher } = setup(() => ok, {}, 250);
  const progress: number[] = [];
  const result = await flusher.drain({ onProgress: (p) => progress.push(p.delivered) });
  assert.deepEqual(result, { complete: true, delivered: 250, deadLettered: 0, remaining: 0 });
  assert.deepEqual(
    writer.calls.map((c) => c.length),
    [100, 100, 50],
  );
  assert.deepEqual(progress, [100, 200, 250]);
  assert.deepEqual(writer.accepted, makeLines(250));
  assert.equal(outbox.stats().rows, 0);
  const status = flusher.status();
  assert.equal(status.delivered, 250);
  assert.equal(status.requests, 3);
  assert.equal(status.consecutiveFailures, 0);
  assert.notEqual(status.lastSuccessMs, null);
  assert.deepEqual(await flusher.flushOnce(), { result: 'empty', rows: 0, delivered: 0, deadLettered: 0, requests: 0 });
});

test('one poisoned line in 1000: bisection dead-letters exactly it, the other 999 are acked', async () => {
  const { outbox, writer, flusher, logs } = setup(rejectPoison, { batchSize: 1000 });
  outbox.append(makeLines(1000, new Set([337])), 'ms');
  const report = await flusher.flushOnce();
  assert.equal(report.result, 'delivered');
  assert.equal(report.delivered, 999);
  assert.equal(report.deadLettered, 1);
  // log2(1000) ≈ 10 levels, two requests per level, plus the first.
  assert.ok(report.requests <= 2 * 10 + 1, `requests: ${report.requests}`);
  const dead = outbox.listDeadLetters();
  assert.deepEqual(
    dead.map((d) => [d.line, d.status, d.message]),
    [['m v="poison" 337', 400, 'partial write: field type conflict dropped=1']],
  );
  assert.deepEqual(new Set(writer.accepted), new Set(makeLines(1000).filter((_, i) => i !== 337)));
  assert.equal(writer.accepted.length, 999, 'every good line acked exactly once');
  assert.equal(outbox.stats().rows, 0);
  assert.equal(logs.at(WARN).filter((r) => r.msg.includes('dead letters')).length, 1);
});

test('property: any set of poisoned lines is dead-lettered exactly, every other line delivered once', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 120 }).chain((n) => fc.record({ n: fc.constant(n), poisoned: fc.uniqueArray(fc.nat(n - 1), { maxLength: n }), batchSize: fc.integer({ min: 1, max: 130 }) })),
      async ({ n, poisoned, batchSize }) => {
        const bad = new Set(poisoned);
        const { outbox, writer, flusher } = setup(rejectPoison, { batchSize });
        outbox.append(makeLines(n, bad), 'ms');
        const result = await flusher.drain();
        assert.equal(result.complete, true);
        assert.equal(result.deadLettered, bad.size);
        assert.deepEqual(
          outbox
            .listDeadLetters(-1)
            .map((d) => d.line)
            .sort(),
          makeLines(n, bad)
            .filter((_, i) => bad.has(i))
            .sort(),
        );
        assert.deepEqual(
          [...writer.accepted].sort(),
          makeLines(n)
            .filter((_, i) => !bad.has(i))
            .sort(),
        );
        assert.equal(outbox.stats().rows, 0);
      },
    ),
    { numRuns: 150 },
  );
});

test('413: halves until they fit; a single line still too large is dead-lettered with the message', async () => {
  const tooLarge: Script = (lines) => (lines.length > 8 || lines.some((l) => l.includes('huge')) ? { kind: 'split', status: 413, message: 'Request Entity Too Large' } : ok);
  const { outbox, writer, flusher } = setup(tooLarge, { batchSize: 100 });
  const lines = makeLines(50);
  lines[20] = 'm huge="' + 'x'.repeat(100) + '" 20';
  outbox.append(lines, 'ms');
  const report = await flusher.flushOnce();
  assert.equal(report.result, 'delivered');
  assert.equal(report.delivered, 49);
  assert.equal(writer.calls[0]!.length, 50, 'the whole batch first');
  assert.deepEqual([...writer.accepted].sort(), lines.filter((_, i) => i !== 20).sort(), 'every other line exactly once');
  // 1 (50) + 2 (25) + 4 (13/12) + 8 (7/6, all fit but the one with the huge line) + 2 (4/3) + 2 + 2 down to the huge line alone.
  assert.equal(writer.calls.length, 21);
  assert.deepEqual(
    outbox.listDeadLetters().map((d) => [d.line, d.status, d.message]),
    [[lines[20], 413, 'Request Entity Too Large']],
  );
});

test('retry: rows kept, exponential back-off with jitter between min and max, Retry-After honoured', async () => {
  const outcomes: WriteOutcome[] = [
    { kind: 'retry', status: null, message: 'fetch failed: ECONNREFUSED' },
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 429, message: 'slow down', retryAfterMs: 45_000 },
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 429, message: 'slow down', retryAfterMs: 90_000 },
  ];
  const { outbox, flusher, logs } = setup((_l, call) => outcomes[call - 1] ?? ok, { random: () => 1 }, 10);
  const backoffs: (number | undefined)[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const report = await flusher.flushOnce();
    assert.equal(report.result, 'retry');
    assert.equal(report.delivered, 0);
    backoffs.push(report.backoffMs);
    assert.equal(outbox.stats().rows, 10, 'nothing leaves the outbox on retry');
  }
  // random() = 1: the top of each window, min·2^n capped at 60 s; Retry-After wins when longer.
  assert.deepEqual(backoffs, [2000, 4000, 45_000, 16_000, 32_000, 60_000, 60_000, 90_000]);
  const status = flusher.status();
  assert.equal(status.consecutiveFailures, 8);
  assert.equal(status.lastError?.message, 'slow down');
  assert.equal(status.lastError?.status, 429);
  // Warn once per distinct message, not once per attempt.
  assert.deepEqual(
    logs.at(WARN).map((r) => r.message),
    ['fetch failed: ECONNREFUSED', 'busy', 'slow down', 'busy', 'slow down'],
  );
  const report = await flusher.flushOnce();
  assert.equal(report.result, 'delivered');
  assert.equal(flusher.status().consecutiveFailures, 0);
  assert.ok(logs.records.some((r) => /^delivering again after \d+s, 0 points pending$/.test(r.msg) && r.failedAttempts === 8));
});

test('back-off window: never below min, never above max (random 0 and almost 1)', () => {
  for (const random of [() => 0, () => 0.999999]) {
    const { flusher } = setup(() => ok, { random, minRetryDelayMs: 500, maxRetryDelayMs: 7000 });
    for (let failures = 1; failures < 40; failures++) {
      const ms = flusher.backoffMs(failures);
      assert.ok(ms >= 500 && ms <= 7000, `${failures}: ${ms}`);
    }
    assert.equal(flusher.backoffMs(3, 100_000), 100_000);
  }
});

test('fatal: everything kept, error logged once per distinct message with periodic reminders', async () => {
  let answer: WriteOutcome = { kind: 'fatal', status: 404, message: 'database not found: "energy"' };
  const { outbox, flusher, clock, logs } = setup(() => answer, { reminderMs: 60_000, maxRetryDelayMs: 10_000 }, 30);
  for (let i = 0; i < 5; i++) {
    const report = await flusher.flushOnce();
    assert.equal(report.result, 'fatal');
    clock.t += 10_000;
  }
  assert.equal(outbox.stats().rows, 30);
  assert.equal(logs.at(ERROR).length, 1, 'once for the first attempt');
  clock.t += 60_000;
  await flusher.flushOnce();
  assert.equal(logs.at(ERROR).length, 2, 'a reminder after reminderMs');
  assert.match(logs.at(ERROR)[1]!.msg, /^InfluxDB still failing after 110s \(InfluxDB refuses our writes \(404 database not found: "energy"\): fix the configuration\): keeping 30 points, next try in \d+s$/);
  answer = { kind: 'fatal', status: 401, message: 'authorization failed' };
  await flusher.flushOnce();
  assert.equal(logs.at(ERROR).length, 3, 'a new message is logged at once');
  assert.equal(logs.at(ERROR)[2]!.message, 'authorization failed');
  assert.equal(flusher.status().consecutiveFailures, 7);
  answer = ok;
  const result = await flusher.drain();
  assert.deepEqual(result, { complete: true, delivered: 30, deadLettered: 0, remaining: 0 });
});

test('drain stops at a fatal outcome and says why; nothing acked', async () => {
  const { outbox, flusher, writer } = setup(() => ({ kind: 'fatal', status: 404, message: 'database not found: "x"' }), {}, 500);
  const result = await flusher.drain();
  assert.equal(result.complete, false);
  assert.equal(result.delivered, 0);
  assert.equal(result.remaining, 500);
  assert.equal(result.stoppedBecause, 'database not found: "x"');
  assert.equal(result.outcome?.kind, 'fatal');
  assert.equal(writer.calls.length, 1);
  assert.equal(outbox.stats().rows, 500);
});

test('a retry in the middle of a bisection keeps what is left; the next pass finishes the job', async () => {
  let down = false;
  let outage = true;
  const { outbox, flusher } = setup(
    (lines, call) => {
      if (call === 4 && outage) down = true;
      if (down) return { kind: 'retry', status: null, message: 'ECONNREFUSED' };
      return rejectPoison(lines, call);
    },
    { batchSize: 64 },
  );
  outbox.append(makeLines(64, new Set([5])), 'ms');
  const first = await flusher.flushOnce();
  // call 1: 64 rejected; 2: first 32 rejected; 3: first 16 rejected; 4: first 8 → server down.
  assert.equal(first.result, 'retry');
  assert.equal(first.delivered, 0);
  assert.equal(outbox.stats().rows, 64);
  down = false;
  outage = false;
  const result = await flusher.drain();
  assert.equal(result.complete, true);
  assert.equal(result.deadLettered, 1);
  assert.equal(result.delivered, 63);
});

test('the loop: delivers what arrives, sleeps the flush interval when idle, backs off on failure, stops', async () => {
  const answers: WriteOutcome[] = [
    { kind: 'retry', status: 503, message: 'busy' },
    { kind: 'retry', status: 503, message: 'busy' },
  ];
  const { outbox, writer, flusher, clock } = setup((_l, call) => answers[call - 1] ?? ok, { random: () => 0, flushIntervalMs: 250 }, 5);
  flusher.start();
  assert.equal(flusher.status().running, true);
  await until(() => outbox.stats().rows === 0);
  outbox.append(['late v=1 1'], 'ms');
  await until(() => writer.accepted.includes('late v=1 1'));
  await flusher.stop();
  assert.equal(writer.closed, true);
  assert.equal(flusher.status().running, false);
  // Two failures: min (random 0) each time; after the delivery, idle sleeps of the flush interval.
  assert.deepEqual(clock.sleeps.slice(0, 2), [1000, 1000]);
  assert.ok(clock.sleeps.length > 2);
  assert.ok(
    clock.sleeps.slice(2).every((ms) => ms === 250 || ms === 3000),
    `${clock.sleeps.slice(2)}`,
  );
  assert.equal(flusher.status().delivered, 6);
});

test('stop abandons a request that hangs; its rows stay in the outbox', async () => {
  let started = false;
  const { outbox, flusher } = setup(
    (_l, _c, signal) =>
      new Promise<WriteOutcome>((resolve) => {
        started = true;
        signal?.addEventListener('abort', () => resolve({ kind: 'retry', status: null, message: 'request aborted' }), { once: true });
      }),
    { stopGraceMs: 2000 },
    20,
  );
  flusher.start();
  await until(() => started);
  await flusher.stop();
  assert.equal(outbox.stats().rows, 20);
  assert.equal(flusher.status().consecutiveFailures, 0, 'an abandoned request is not a server failure');
  assert.equal((await flusher.flushOnce()).result, 'aborted', 'a stopped flusher sends nothing');
});

test('flushOnce and the loop never send the same rows at once', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { outbox, flusher } = setup(
    async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return ok;
    },
    { batchSize: 10 },
    200,
  );
  flusher.start();
  const reports = await Promise.all([flusher.flushOnce(), flusher.drain()]);
  await until(() => outbox.stats().rows === 0);
  await flusher.stop();
  assert.equal(maxInFlight, 1);
  assert.equal(flusher.status().delivered, 200);
  assert.ok(reports[0].result === 'delivered' || reports[0].result === 'empty');
});

async function until(condition: () => boolean, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (condition()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}

/** A MemoryOutbox that logs peeks and acks into a shared event list beside the writer's. */
class RecordingOutbox extends MemoryOutbox {
  constructor(private readonly events: string[]) {
    super({ maxRows: 1_000_000, maxBytes: 1e9 });
  }
  override peek(maxRows: number, maxBytes: number, afterId?: number) {
    const batch = super.peek(maxRows, maxBytes, afterId);
    if (batch) this.events.push(`peek ${batch.rows[0]!.line}`);
    return batch;
  }
  override ack(ids: readonly number[]): void {
    this.events.push(`ack ${ids[0]}-${ids.at(-1)}`);
    super.ack(ids);
  }
}

/** Flusher over a RecordingOutbox; every request answers a few macrotasks later, so overlap can show. */
function pipelineSetup(answer: (lines: readonly string[], call: number) => WriteOutcome, lines: number, overrides: Partial<FlusherOptions> = {}) {
  const events: string[] = [];
  const outbox = new RecordingOutbox(events);
  outbox.append(makeLines(lines), 'ms');
  let inFlight = 0;
  let maxInFlight = 0;
  const writer = new ScriptedWriter(async (batch, call) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    events.push(`send ${batch[0]}`);
    // A few macrotasks, like a real round trip: longer than the flusher's own yields to I/O.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    const outcome = answer(batch, call);
    events.push(`${outcome.kind} ${batch[0]}`);
    inFlight--;
    return outcome;
  });
  const flusher = new Flusher(flusherOptions(outbox, writer, overrides));
  /** Acked ids in the order acked, from the event list. */
  const ackedIds = () =>
    events
      .filter((e) => e.startsWith('ack '))
      .flatMap((e) => {
        const [a, b] = e.slice(4).split('-').map(Number) as [number, number];
        return Array.from({ length: b - a + 1 }, (_, i) => a + i);
      });
  return { events, outbox, writer, flusher, maxInFlight: () => maxInFlight, ackedIds };
}

test('pipelined drain: batch N+1 is peeked while N is in flight and sent before N is acked; each batch sent once', async () => {
  const { events, outbox, writer, flusher, maxInFlight, ackedIds } = pipelineSetup(() => ok, 250);
  const progress: number[] = [];
  const result = await flusher.drain({ onProgress: (p) => progress.push(p.delivered) });
  assert.deepEqual(result, { complete: true, delivered: 250, deadLettered: 0, remaining: 0 });
  // Lines 0, 100, 200 head the three batches (line i has id i + 1).
  assert.deepEqual(events, [
    'peek m v=0 0',
    'send m v=0 0',
    'peek m v=100 100', // N+1 read while N is in flight
    'ok m v=0 0',
    'send m v=100 100', // N+1 on its way before N is acked
    'ack 1-100',
    'peek m v=200 200',
    'ok m v=100 100',
    'send m v=200 200',
    'ack 101-200',
    'ok m v=200 200',
    'ack 201-250', // the drain had all it counted at the start: no prefetch after the last batch
  ]);
  assert.equal(maxInFlight(), 1, 'one request in flight at a time');
  assert.deepEqual(
    writer.calls.map((c) => c.length),
    [100, 100, 50],
  );
  assert.deepEqual(writer.calls.flat(), makeLines(250), 'every line sent exactly once, in commit order');
  assert.deepEqual(
    ackedIds(),
    Array.from({ length: 250 }, (_, i) => i + 1),
  );
  assert.deepEqual(progress, [100, 200, 250]);
  assert.equal(outbox.stats().rows, 0);
  const status = flusher.status();
  assert.equal(status.delivered, 250);
  assert.equal(status.requests, 3);
  assert.equal(status.consecutiveFailures, 0);
});

test('pipelined loop: a backlog goes out in order, each batch once, one request in flight', async () => {
  const { outbox, writer, flusher, maxInFlight, ackedIds } = pipelineSetup(() => ok, 1000);
  flusher.start();
  await until(() => outbox.stats().rows === 0);
  outbox.append(['late v=1 1'], 'ms');
  await until(() => writer.accepted.includes('late v=1 1'));
  await flusher.stop();
  assert.deepEqual(writer.calls.flat(), [...makeLines(1000), 'late v=1 1']);
  assert.equal(writer.calls.length, 11);
  assert.equal(maxInFlight(), 1);
  assert.deepEqual(
    ackedIds(),
    Array.from({ length: 1001 }, (_, i) => i + 1),
  );
  assert.equal(flusher.status().delivered, 1001);
  assert.equal(flusher.status().requests, 11);
});

test('a failed batch N drops the prefetched N+1: N handled alone, nothing acked out of order', async () => {
  const failures: [string, WriteOutcome][] = [
    ['retry', { kind: 'retry', status: 503, message: 'busy' }],
    ['fatal', { kind: 'fatal', status: 404, message: 'database not found' }],
  ];
  for (const [kind, failure] of failures) {
    // Batch 2 (lines 100-199) fails once.
    const { events, outbox, writer, flusher, maxInFlight, ackedIds } = pipelineSetup((_l, call) => (call === 2 ? failure : ok), 300);
    const first = await flusher.drain();
    assert.equal(first.complete, false, kind);
    assert.equal(first.delivered, 100);
    assert.equal(first.remaining, 200);
    assert.equal(first.outcome?.kind, kind);
    assert.deepEqual(
      writer.calls.map((c) => c[0]),
      ['m v=0 0', 'm v=100 100'],
      `${kind}: batch 3 was peeked but never sent`,
    );
    assert.ok(events.includes('peek m v=200 200'), `${kind}: batch 3 was prefetched`);
    assert.deepEqual(
      ackedIds(),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const status = flusher.status();
    assert.equal(status.consecutiveFailures, 1);
    assert.equal(status.lastError?.kind, kind);
    assert.equal(status.delivered, 100);
    assert.equal(status.requests, 2);

    const second = await flusher.drain();
    assert.deepEqual(second, { complete: true, delivered: 200, deadLettered: 0, remaining: 0 });
    assert.deepEqual(
      writer.calls.map((c) => c[0]),
      ['m v=0 0', 'm v=100 100', 'm v=100 100', 'm v=200 200'],
    );
    assert.deepEqual(writer.accepted, makeLines(300), `${kind}: every line accepted once, in order`);
    assert.deepEqual(
      ackedIds(),
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    assert.equal(maxInFlight(), 1);
    assert.equal(outbox.stats().rows, 0);
    assert.equal(flusher.status().consecutiveFailures, 0);
    assert.equal(flusher.status().requests, 4);
  }
});

test('a rejected batch N is bisected alone; the prefetched N+1 is sent only after, and acks stay in id order', async () => {
  const poisoned = new Set([137]);
  const lines = makeLines(300, poisoned);
  const { outbox, writer, flusher, maxInFlight, ackedIds } = pipelineSetup((l, c) => rejectPoison(l, c) as WriteOutcome, 0);
  outbox.append(lines, 'ms');
  const progress: [number, number][] = [];
  const result = await flusher.drain({ onProgress: (p) => progress.push([p.delivered, p.deadLettered]) });
  assert.deepEqual(result, { complete: true, delivered: 299, deadLettered: 1, remaining: 0 });
  assert.deepEqual(
    outbox.listDeadLetters().map((d) => d.line),
    [lines[137]],
  );
  assert.deepEqual(
    writer.accepted,
    lines.filter((_, i) => !poisoned.has(i)),
    'every good line once, in commit order',
  );
  // Batch 3 (from line 200) goes out once, after every request of batch 2's bisection.
  const starts = writer.calls.map((c) => c[0]);
  assert.equal(starts.filter((s) => s === lines[200]).length, 1);
  assert.equal(starts.at(-1), lines[200]);
  const acked = ackedIds();
  assert.ok(
    acked.every((id, i) => i === 0 || id > acked[i - 1]!),
    'acks in id order',
  );
  assert.equal(acked.length, 299);
  assert.equal(maxInFlight(), 1);
  assert.deepEqual(progress, [
    [100, 0],
    [199, 1],
    [299, 1],
  ]);
  const status = flusher.status();
  assert.equal(status.delivered, 299);
  assert.equal(status.deadLettered, 1);
  assert.equal(status.requests, writer.calls.length);
});

test('backing off after a network error, the loop probes /ping and sends as soon as it answers, whatever the back-off', async () => {
  let up = false;
  const events: string[] = [];
  const { outbox, writer, clock, logs, flusher } = setup(
    () => {
      events.push(up ? 'write ok' : 'write refused');
      return up ? ok : { kind: 'retry', status: null, message: 'connect ECONNREFUSED 127.0.0.1:8086' };
    },
    {
      minRetryDelayMs: 600_000,
      maxRetryDelayMs: 600_000,
      probeIntervalMs: 2000,
      probe: async () => {
        events.push(up ? 'probe yes' : 'probe no');
        if (events.filter((e) => e === 'probe no').length === 3) up = true; // the server comes back
        return events[events.length - 1] === 'probe yes';
      },
    },
    20,
  );
  flusher.start();
  while (outbox.stats().rows > 0) await new Promise((r) => setImmediate(r));
  await flusher.stop();
  assert.deepEqual(events, ['write refused', 'probe no', 'probe no', 'probe no', 'probe yes', 'write ok']);
  // Four probe intervals instead of the 600 s back-off.
  assert.deepEqual(clock.sleeps.slice(0, 4), [2000, 2000, 2000, 2000]);
  assert.equal(writer.accepted.length, 20);
  const status = flusher.status();
  assert.equal(status.probes, 4);
  assert.equal(status.probeHits, 1);
  assert.equal(status.retries, 1);
  const msgs = logs.records.map((r) => r.msg);
  assert.deepEqual(
    msgs.filter((m) => /unreachable|answers \/ping|delivering again/.test(m)),
    ['InfluxDB unreachable (connect ECONNREFUSED 127.0.0.1:8086): keeping 20 points, next try in 600s', 'InfluxDB answers /ping again: sending now', 'delivering again after 8s, 0 points pending'],
  );
});

test('no probe after an HTTP answer (503): the server is up and asked us to wait', async () => {
  let calls = 0;
  let probes = 0;
  const { outbox, clock, flusher } = setup(
    () => (++calls === 1 ? { kind: 'retry', status: 503, message: 'overloaded' } : ok),
    {
      minRetryDelayMs: 30_000,
      maxRetryDelayMs: 30_000,
      probe: async () => {
        probes++;
        return true;
      },
    },
    5,
  );
  flusher.start();
  while (outbox.stats().rows > 0) await new Promise((r) => setImmediate(r));
  await flusher.stop();
  assert.equal(probes, 0);
  assert.equal(clock.sleeps[0], 30_000);
});
