/**
 * A model of the Outbox contract for property tests: random command sequences, and a
 * checker that runs them against an implementation and against the plainest possible
 * model (arrays in commit order), comparing every batch, stat and dead letter.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Precision } from '../../src/core/point.js';
import { lineBytes } from '../../src/outbox/batch.js';
import type { Outbox, OutboxLimits } from '../../src/outbox/types.js';

export type OutboxFactory = (limits: OutboxLimits, now: () => number) => Outbox;

export type Command =
  | { op: 'append'; lines: string[]; precision: Precision }
  | { op: 'peek'; maxRows: number; maxBytes: number }
  | { op: 'ack'; pick: number[] }
  | { op: 'deadLetter'; pick: number[] }
  | { op: 'retry'; pick: number[] | null }
  | { op: 'purge'; pick: number[] | null };

// Mostly short ASCII lines so byte limits are hit exactly; sometimes any text.
const lineArb = fc.oneof(fc.constantFrom('', 'a', 'bb', 'ccc', 'dddd'), fc.string({ unit: 'grapheme', maxLength: 8 }));
const pickArb = fc.array(fc.nat({ max: 30 }), { maxLength: 6 });
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('append' as const), lines: fc.array(lineArb, { maxLength: 6 }), precision: fc.constantFrom<Precision>('ns', 'ns', 's') }),
  fc.record({ op: fc.constant('peek' as const), maxRows: fc.integer({ min: 1, max: 8 }), maxBytes: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('ack' as const), pick: pickArb }),
  fc.record({ op: fc.constant('deadLetter' as const), pick: pickArb }),
  fc.record({ op: fc.constant('retry' as const), pick: fc.option(pickArb) }),
  fc.record({ op: fc.constant('purge' as const), pick: fc.option(pickArb) }),
);

interface ModelRow {
  line: string;
  precision: Precision;
}

/** The whole contract, as naively as possible: arrays in commit order. */
class Model {
  pending: ModelRow[] = [];
  dead: ModelRow[] = [];
  dropped = 0;
  constructor(readonly limits: OutboxLimits) {}
  bytes(): number {
    return this.pending.reduce((n, r) => n + lineBytes(r.line), 0);
  }
  add(rows: ModelRow[]): number {
    this.pending.push(...rows);
    let dropped = 0;
    while (this.pending.length && (this.pending.length > this.limits.maxRows || this.bytes() > this.limits.maxBytes)) {
      this.pending.shift();
      dropped += 1;
    }
    this.dropped += dropped;
    return dropped;
  }
  peek(maxRows: number, maxBytes: number): ModelRow[] {
    const out: ModelRow[] = [];
    let bytes = 0;
    for (const row of this.pending) {
      if (out.length && (out.length >= maxRows || row.precision !== out[0]!.precision || bytes + lineBytes(row.line) > maxBytes)) break;
      out.push(row);
      bytes += lineBytes(row.line);
    }
    return out;
  }
}

/** Indexes into a list, mapped back to that list's entries (duplicates and misses allowed). */
function picked<T>(list: readonly T[], pick: readonly number[]): T[] {
  return pick.filter((i) => i < list.length).map((i) => list[i]!);
}

export function checkAgainstModel(factory: OutboxFactory) {
  return (limits: OutboxLimits, commands: Command[]): void => {
    const outbox = factory(limits, () => 1_000);
    const model = new Model(limits);
    try {
      for (const cmd of commands) {
        // Ack and dead-letter pick from the first batch, as the flusher does: its ids, in
        // order, are the model's first rows. An unknown id rides along and must be ignored.
        const batchIds = outbox.peek(1_000, Number.MAX_SAFE_INTEGER)?.rows.map((r) => r.id) ?? [];
        assert.equal(batchIds.length, model.peek(1_000, Number.MAX_SAFE_INTEGER).length);
        const pendingIds = [...batchIds, 1e12];
        const deadIds = outbox.listDeadLetters(-1).map((d) => d.id);
        switch (cmd.op) {
          case 'append':
            assert.equal(outbox.append(cmd.lines, cmd.precision).dropped, model.add(cmd.lines.map((line) => ({ line, precision: cmd.precision }))));
            break;
          case 'peek': {
            const batch = outbox.peek(cmd.maxRows, cmd.maxBytes);
            const expected = model.peek(cmd.maxRows, cmd.maxBytes);
            assert.deepEqual(batch?.rows.map(({ line, precision }) => ({ line, precision })) ?? [], expected);
            assert.equal(
              batch?.bytes ?? 0,
              expected.reduce((n, r) => n + lineBytes(r.line), 0),
            );
            break;
          }
          case 'ack': {
            const chosen = new Set(picked(pendingIds, cmd.pick));
            outbox.ack([...chosen]);
            model.pending = model.pending.filter((_, i) => !chosen.has(batchIds[i] ?? -1));
            break;
          }
          case 'deadLetter': {
            const chosen = new Set(picked(pendingIds, cmd.pick));
            outbox.deadLetter([...chosen], 400, 'bad');
            model.dead.push(...model.pending.filter((_, i) => chosen.has(batchIds[i] ?? -1)));
            model.pending = model.pending.filter((_, i) => !chosen.has(batchIds[i] ?? -1));
            break;
          }
          case 'retry':
          case 'purge': {
            const chosen = new Set(cmd.pick ? picked(deadIds, cmd.pick) : deadIds);
            const leaving = model.dead.filter((_, i) => chosen.has(deadIds[i]!));
            model.dead = model.dead.filter((_, i) => !chosen.has(deadIds[i]!));
            const count = cmd.op === 'retry' ? outbox.retryDeadLetters(cmd.pick ? [...chosen] : undefined) : outbox.purgeDeadLetters(cmd.pick ? [...chosen] : undefined);
            assert.equal(count, leaving.length);
            if (cmd.op === 'retry') model.add(leaving);
            break;
          }
        }
        const s = outbox.stats();
        assert.deepEqual({ rows: s.rows, bytes: s.bytes, dropped: s.dropped, deadLetters: s.deadLetters }, { rows: model.pending.length, bytes: model.bytes(), dropped: model.dropped, deadLetters: model.dead.length });
        assert.deepEqual(
          outbox.listDeadLetters(-1).map(({ line, precision }) => ({ line, precision })),
          model.dead,
        );
      }
    } finally {
      outbox.close();
    }
  };
}
