/**
 * One contract for every Outbox implementation: the same tests run against
 * SqliteOutbox and MemoryOutbox, including a model-based property test
 * (test/helpers/outbox-model.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Precision } from '../../src/core/point.js';
import { lineBytes } from '../../src/outbox/batch.js';
import { MemoryOutbox } from '../../src/outbox/memory-outbox.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { checkAgainstModel, commandArb, type OutboxFactory } from '../helpers/outbox-model.js';
import type { Outbox, OutboxLimits } from '../../src/outbox/types.js';

const ROOMY: OutboxLimits = { maxRows: 1_000_000, maxBytes: 1_000_000_000 };

/** A settable clock, so committed and dead-letter times are exact. */
function manualClock(start = 1_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => void (t = ms) };
}

function lines(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix},n=${i} v=${i}i ${1_700_000_000_000 + i}`);
}

function outboxContract(name: string, factory: OutboxFactory): void {
  describe(`Outbox contract: ${name}`, () => {
    /** Open an outbox that test `t` closes when it ends. */
    function open(t: { after(fn: () => void): void }, limits: OutboxLimits = ROOMY, now: () => number = () => 1_000): Outbox {
      const outbox = factory(limits, now);
      t.after(() => outbox.close());
      return outbox;
    }

    test('an empty outbox peeks null, counts zero and ignores empty or unknown ids', (t) => {
      const outbox = open(t);
      assert.equal(outbox.peek(10, 1000), null);
      assert.deepEqual(outbox.stats(), { rows: 0, bytes: 0, oldestCommittedMs: null, dropped: 0, deadLetters: 0 });
      assert.deepEqual(outbox.append([], 'ns'), { dropped: 0 });
      outbox.ack([]);
      outbox.ack([1, 2, 3]);
      outbox.deadLetter([7], 400, 'nothing there');
      assert.deepEqual(outbox.listDeadLetters(), []);
      assert.equal(outbox.retryDeadLetters(), 0);
      assert.equal(outbox.purgeDeadLetters(), 0);
      assert.equal(outbox.stats().rows, 0);
    });

    test('rows come back in commit order with increasing ids, and peek does not remove them', (t) => {
      const outbox = open(t);
      const all = [...lines('a', 3), ...lines('b', 4), ...lines('c', 2)];
      outbox.append(all.slice(0, 3), 'ns');
      outbox.append(all.slice(3, 7), 'ns');
      outbox.append(all.slice(7), 'ns');
      const batch = outbox.peek(100, 1_000_000)!;
      assert.deepEqual(
        batch.rows.map((r) => r.line),
        all,
      );
      assert.ok(batch.rows.every((r, i) => i === 0 || r.id > batch.rows[i - 1]!.id));
      assert.equal(
        batch.bytes,
        all.reduce((n, l) => n + lineBytes(l), 0),
      );
      assert.deepEqual(outbox.peek(100, 1_000_000), batch);
    });

    test('peek stops at maxRows', (t) => {
      const outbox = open(t);
      const all = lines('m', 10);
      outbox.append(all, 'ms');
      const batch = outbox.peek(3, 1_000_000)!;
      assert.deepEqual(
        batch.rows.map((r) => r.line),
        all.slice(0, 3),
      );
      assert.ok(batch.rows.every((r) => r.precision === 'ms'));
      assert.equal(
        batch.bytes,
        all.slice(0, 3).reduce((n, l) => n + lineBytes(l), 0),
      );
    });

    test('peek stops at maxBytes, counting UTF-8 bytes plus a newline per line', (t) => {
      const outbox = open(t);
      const tenBytes = ['m v="é"1', 'm v="é"2', 'm v="é"3']; // 9 UTF-8 bytes + newline each
      assert.equal(lineBytes(tenBytes[0]!), 10);
      outbox.append(tenBytes, 'ns');
      assert.deepEqual(
        outbox.peek(10, 20)!.rows.map((r) => r.line),
        tenBytes.slice(0, 2),
      );
      assert.equal(outbox.peek(10, 20)!.bytes, 20);
      assert.equal(outbox.peek(10, 29)!.rows.length, 2);
      assert.equal(outbox.peek(10, 30)!.rows.length, 3);
    });

    test('peek returns a single row larger than maxBytes on its own', (t) => {
      const outbox = open(t);
      const big = 'big v="' + 'x'.repeat(500) + '"';
      outbox.append([big, 'small v=1'], 's');
      const batch = outbox.peek(10, 100)!;
      assert.deepEqual(
        batch.rows.map((r) => r.line),
        [big],
      );
      assert.equal(batch.bytes, lineBytes(big));
    });

    test('large peeks are whole: many rows, a huge maxRows, a precision change far in', (t) => {
      const outbox = open(t);
      const many = lines('big', 12_500);
      outbox.append(many, 'ns');
      outbox.append(['other'], 's');
      outbox.append(['tail'], 'ns');
      assert.deepEqual(
        outbox.peek(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)!.rows.map((r) => r.line),
        many,
      );
      assert.equal(outbox.peek(11_000, Number.MAX_SAFE_INTEGER)!.rows.length, 11_000);
      const someBytes = many.slice(0, 10_200).reduce((n, l) => n + lineBytes(l), 0);
      assert.equal(outbox.peek(Number.MAX_SAFE_INTEGER, someBytes)!.rows.length, 10_200);
    });

    test('a batch holds one precision and stops at the first row of another', (t) => {
      const outbox = open(t);
      outbox.append(['n1', 'n2'], 'ns');
      outbox.append(['s1', 's2'], 's');
      outbox.append(['n3'], 'ns');
      const seen: [Precision, string[]][] = [];
      for (let batch = outbox.peek(100, 10_000); batch; batch = outbox.peek(100, 10_000)) {
        const precisions = new Set(batch.rows.map((r) => r.precision));
        assert.equal(precisions.size, 1);
        seen.push([batch.rows[0]!.precision, batch.rows.map((r) => r.line)]);
        outbox.ack(batch.rows.map((r) => r.id));
      }
      assert.deepEqual(seen, [
        ['ns', ['n1', 'n2']],
        ['s', ['s1', 's2']],
        ['ns', ['n3']],
      ]);
    });

    test('peek after an id: the next oldest rows of one precision, in order, without acking the first', (t) => {
      const outbox = open(t);
      const a = lines('a', 5);
      outbox.append(a, 'ms');
      outbox.append(['s1', 's2'], 's');
      outbox.append(['m1'], 'ms');
      const first = outbox.peek(3, 1_000_000)!;
      assert.deepEqual(
        first.rows.map((r) => r.line),
        a.slice(0, 3),
      );
      const lastId = first.rows[2]!.id;
      // Nothing acked yet: the rows after the first batch, same limits, same precision rule.
      const second = outbox.peek(3, 1_000_000, lastId)!;
      assert.deepEqual(
        second.rows.map((r) => r.line),
        a.slice(3),
      );
      assert.ok(second.rows.every((r, i) => r.id > lastId && (i === 0 || r.id > second.rows[i - 1]!.id)));
      assert.equal(
        second.bytes,
        a.slice(3).reduce((n, l) => n + lineBytes(l), 0),
      );
      const third = outbox.peek(10, 1_000_000, second.rows.at(-1)!.id)!;
      assert.deepEqual(
        third.rows.map((r) => [r.line, r.precision]),
        [
          ['s1', 's'],
          ['s2', 's'],
        ],
      );
      const fourth = outbox.peek(10, 1_000_000, third.rows.at(-1)!.id)!;
      assert.deepEqual(
        fourth.rows.map((r) => r.line),
        ['m1'],
      );
      assert.equal(outbox.peek(10, 1_000_000, fourth.rows[0]!.id), null, 'nothing after the newest row');
      // afterId between ids, below every id, and maxBytes still honoured.
      assert.deepEqual(
        outbox.peek(2, 1_000_000, lastId - 1)!.rows.map((r) => r.id),
        [lastId, second.rows[0]!.id],
      );
      assert.deepEqual(outbox.peek(3, 1_000_000, 0), first);
      assert.deepEqual(
        outbox.peek(10, lineBytes(a[3]!), lastId)!.rows.map((r) => r.line),
        [a[3]],
      );
      // Acking the first batch leaves the second where it was.
      outbox.ack(first.rows.map((r) => r.id));
      assert.deepEqual(outbox.peek(3, 1_000_000), second);
      assert.deepEqual(outbox.peek(3, 1_000_000, lastId), second);
    });

    test('ack removes exactly the given ids, in any order, and ignores unknown ones', (t) => {
      const outbox = open(t);
      const all = lines('k', 6);
      outbox.append(all, 'ns');
      const ids = outbox.peek(10, 100_000)!.rows.map((r) => r.id);
      outbox.ack([ids[4]!, ids[1]!, ids[4]!, 999_999]);
      const left = outbox.peek(10, 100_000)!;
      assert.deepEqual(
        left.rows.map((r) => r.line),
        [all[0], all[2], all[3], all[5]],
      );
      assert.deepEqual(outbox.stats().rows, 4);
      assert.equal(outbox.stats().bytes, left.bytes);
      // In id order, as the flusher acks a batch: runs of consecutive ids, and an unknown
      // id past the end that must not widen the run over its neighbour.
      outbox.ack([ids[2]!, ids[3]!, 999_999]);
      assert.deepEqual(
        outbox.peek(10, 100_000)!.rows.map((r) => r.line),
        [all[0], all[5]],
      );
      outbox.ack([ids[0]!, ids[5]! - 1]);
      assert.deepEqual(
        outbox.peek(10, 100_000)!.rows.map((r) => r.line),
        [all[5]],
      );
      assert.equal(outbox.stats().rows, 1);
    });

    test('ids are never reused, even after every row was acked', (t) => {
      const outbox = open(t);
      outbox.append(['a', 'b'], 'ns');
      const first = outbox.peek(10, 1000)!.rows.map((r) => r.id);
      outbox.ack(first);
      outbox.append(['c'], 'ns');
      const [next] = outbox.peek(10, 1000)!.rows;
      assert.ok(next!.id > Math.max(...first), `id ${next!.id} reused`);
    });

    test('when full by rows the oldest rows are dropped, returned and counted', (t) => {
      const outbox = open(t, { maxRows: 5, maxBytes: 1_000_000 });
      assert.deepEqual(outbox.append(['1', '2', '3'], 'ns'), { dropped: 0 });
      assert.deepEqual(outbox.append(['4', '5', '6', '7'], 'ns'), { dropped: 2 });
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        ['3', '4', '5', '6', '7'],
      );
      assert.deepEqual(outbox.stats(), { rows: 5, bytes: 10, oldestCommittedMs: 1_000, dropped: 2, deadLetters: 0 });
      // One append larger than the outbox keeps only its newest lines.
      assert.deepEqual(outbox.append(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 'ns'), { dropped: 7 });
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        ['c', 'd', 'e', 'f', 'g'],
      );
      assert.equal(outbox.stats().dropped, 9);
    });

    test('when full by bytes the oldest rows are dropped until the rest fits', (t) => {
      const outbox = open(t, { maxRows: 1000, maxBytes: 35 });
      const tens = ['line-0001', 'line-0002', 'line-0003', 'line-0004']; // 10 bytes each
      assert.deepEqual(outbox.append(tens.slice(0, 3), 'ns'), { dropped: 0 });
      assert.deepEqual(outbox.append(tens.slice(3), 'ns'), { dropped: 1 });
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        tens.slice(1),
      );
      assert.equal(outbox.stats().bytes, 30);
      // A row bigger than the whole outbox cannot stay.
      assert.deepEqual(outbox.append(['x'.repeat(40)], 'ns'), { dropped: 4 });
      assert.deepEqual(outbox.stats(), { rows: 0, bytes: 0, oldestCommittedMs: null, dropped: 5, deadLetters: 0 });
    });

    test('dead letters leave the queue with the server answer and are listed oldest first', (t) => {
      const clock = manualClock(5_000);
      const outbox = open(t, ROOMY, clock.now);
      outbox.append(['ok1', 'bad1', 'ok2', 'bad2'], 'us');
      const ids = outbox.peek(10, 1000)!.rows.map((r) => r.id);
      clock.set(6_000);
      const moved = outbox.deadLetter([ids[3]!, ids[1]!], 400, 'unable to parse');
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        ['ok1', 'ok2'],
      );
      const dead = outbox.listDeadLetters();
      // What deadLetter returns is what retry/purge take (the flusher logs it), in row order.
      assert.deepEqual(
        moved,
        dead.map((d) => d.id),
      );
      assert.deepEqual(
        dead.map(({ line, precision, status, message, timeMs }) => ({ line, precision, status, message, timeMs })),
        [
          { line: 'bad1', precision: 'us', status: 400, message: 'unable to parse', timeMs: 6_000 },
          { line: 'bad2', precision: 'us', status: 400, message: 'unable to parse', timeMs: 6_000 },
        ],
      );
      assert.ok(dead[1]!.id > dead[0]!.id);
      assert.deepEqual(
        outbox.listDeadLetters(1).map((d) => d.line),
        ['bad1'],
      );
      assert.equal(outbox.listDeadLetters(0).length, 0);
      assert.equal(outbox.listDeadLetters(Infinity).length, 2);
      assert.equal(outbox.listDeadLetters(-1).length, 2);
      assert.throws(() => outbox.listDeadLetters(NaN), RangeError);
      const s = outbox.stats();
      assert.deepEqual([s.rows, s.bytes, s.deadLetters], [2, lineBytes('ok1') + lineBytes('ok2'), 2]);
      assert.deepEqual(outbox.deadLetter([ids[1]!], 422, 'again'), []); // already moved: nothing happens
      assert.equal(outbox.stats().deadLetters, 2);
    });

    test('retried dead letters go to the END of the queue with new ids and their precision', (t) => {
      const clock = manualClock(1_000);
      const outbox = open(t, ROOMY, clock.now);
      outbox.append(['a', 'b', 'c'], 's');
      const ids = outbox.peek(10, 1000)!.rows.map((r) => r.id);
      outbox.deadLetter([ids[0]!, ids[1]!], 400, 'bad');
      outbox.append(['d'], 's');
      clock.set(9_000);
      assert.equal(outbox.retryDeadLetters(), 2);
      const batch = outbox.peek(10, 1000)!;
      assert.deepEqual(
        batch.rows.map((r) => r.line),
        ['c', 'd', 'a', 'b'],
      );
      assert.ok(batch.rows.every((r) => r.precision === 's'));
      assert.ok(batch.rows[2]!.id > Math.max(...ids, batch.rows[1]!.id));
      assert.deepEqual(outbox.stats(), { rows: 4, bytes: 8, oldestCommittedMs: 1_000, dropped: 0, deadLetters: 0 });
      outbox.ack(batch.rows.slice(0, 2).map((r) => r.id));
      assert.equal(outbox.stats().oldestCommittedMs, 9_000, 'a retried row is committed anew');
    });

    test('retry and purge of chosen dead letters touch only those', (t) => {
      const outbox = open(t);
      outbox.append(['a', 'b', 'c', 'd'], 'ns');
      outbox.deadLetter(
        outbox.peek(10, 1000)!.rows.map((r) => r.id),
        400,
        'bad',
      );
      const dead = outbox.listDeadLetters();
      assert.equal(outbox.retryDeadLetters([dead[2]!.id, 123_456]), 1);
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        ['c'],
      );
      assert.equal(outbox.purgeDeadLetters([dead[0]!.id]), 1);
      assert.deepEqual(
        outbox.listDeadLetters().map((d) => d.line),
        ['b', 'd'],
      );
      assert.equal(outbox.stats().deadLetters, 2);
      assert.equal(outbox.purgeDeadLetters(), 2);
      assert.equal(outbox.retryDeadLetters(), 0);
      assert.deepEqual(outbox.stats(), { rows: 1, bytes: 2, oldestCommittedMs: 1_000, dropped: 0, deadLetters: 0 });
    });

    test('retried dead letters obey the limits like any append', (t) => {
      const outbox = open(t, { maxRows: 3, maxBytes: 1_000_000 });
      outbox.append(['a', 'b'], 'ns');
      outbox.deadLetter(
        outbox.peek(10, 1000)!.rows.map((r) => r.id),
        400,
        'bad',
      );
      outbox.append(['c', 'd'], 'ns');
      assert.equal(outbox.retryDeadLetters(), 2);
      assert.deepEqual(
        outbox.peek(10, 1000)!.rows.map((r) => r.line),
        ['d', 'a', 'b'],
      );
      assert.equal(outbox.stats().dropped, 1);
    });

    test('stats track the oldest pending commit time', (t) => {
      const clock = manualClock(10_000);
      const outbox = open(t, ROOMY, clock.now);
      outbox.append(['a'], 'ns');
      clock.set(20_000);
      outbox.append(['b'], 'ns');
      assert.equal(outbox.stats().oldestCommittedMs, 10_000);
      outbox.ack([outbox.peek(1, 1000)!.rows[0]!.id]);
      assert.equal(outbox.stats().oldestCommittedMs, 20_000);
      outbox.ack(outbox.peek(10, 1000)!.rows.map((r) => r.id));
      assert.equal(outbox.stats().oldestCommittedMs, null);
    });

    test('lines with any characters come back unchanged and are counted in UTF-8', (t) => {
      const outbox = open(t);
      const odd = ['m,t=a\\ b s="q\\"x\\\\"', 'm s="é€😀"', 'm s="nul\u0000inside"', 'm s="tab\there"'];
      outbox.append(odd, 'ns');
      const batch = outbox.peek(10, 100_000)!;
      assert.deepEqual(
        batch.rows.map((r) => r.line),
        odd,
      );
      assert.equal(
        outbox.stats().bytes,
        odd.reduce((n, l) => n + lineBytes(l), 0),
      );
    });

    test('bad arguments and a closed outbox throw', () => {
      const outbox = factory(ROOMY, () => 1_000);
      assert.throws(() => outbox.append(['x'], 'h' as Precision), RangeError);
      assert.throws(() => outbox.peek(0, 100), RangeError);
      assert.throws(() => outbox.peek(1.5, 100), RangeError);
      assert.throws(() => outbox.peek(10, 0), RangeError);
      assert.throws(() => factory({ maxRows: 0, maxBytes: 100 }, () => 0), RangeError);
      outbox.close();
      outbox.close(); // twice is fine
      assert.throws(() => outbox.append(['x'], 'ns'));
      assert.throws(() => outbox.stats());
    });

    test('random sequences of operations match a simple model (property)', () => {
      fc.assert(fc.property(fc.record({ maxRows: fc.integer({ min: 1, max: 12 }), maxBytes: fc.integer({ min: 1, max: 40 }) }), fc.array(commandArb, { maxLength: 25 }), checkAgainstModel(factory)), {
        numRuns: Number(process.env.OUTBOX_PROPERTY_RUNS ?? 60), // raise it locally to search harder
      });
    });
  });
}

// ---- the two implementations ---------------------------------------------------------

let dir = '';
let files = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wattline-outbox-contract-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// synchronous=normal: same semantics, fewer fsyncs; durability has its own tests.
outboxContract('SqliteOutbox', (limits, now) => new SqliteOutbox(join(dir, `outbox-${++files}.sqlite`), limits, { now, synchronous: 'normal' }));
outboxContract('MemoryOutbox', (limits, now) => new MemoryOutbox(limits, { now }));
