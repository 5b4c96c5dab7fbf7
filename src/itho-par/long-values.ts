/**
 * mdb-reader follows a memo's or OLE value's chain of LVAL rows (each row starts with the
 * page-row of the next) with no cycle check: a damaged `.par` whose chain loops back reads
 * for ever. Its reader has no hook for that, so the one function every long-value
 * read goes through, `Database.findPageRow` (mdb-reader's own module), is wrapped: while
 * `withLoopGuard` runs, a row that continues a chain (its page-row is the previous row's
 * first four bytes) and was already visited on that chain ends the read with an InputError.
 * A proper file never revisits a row: each long value owns its rows.
 */
import { InputError } from '../core/errors.js';

type FindPageRow = (this: unknown, pageRow: number) => Buffer;

let armed = false;
let chain = new Set<number>();
let nextOfLast: number | undefined;

// mdb-reader's Database class is not exported: its module is the one beside the package
// entry (the same module instance MDBReader uses).
const database = (await import(new URL('./Database.js', import.meta.resolve('mdb-reader')).href)) as { Database?: { prototype: { findPageRow?: FindPageRow } } };
const proto = database.Database?.prototype;
const original = proto?.findPageRow;
/** False if mdb-reader no longer looks as expected (the loop tests then fail). */
export const loopGuardInstalled = typeof original === 'function';

if (proto && original) {
  proto.findPageRow = function (this: unknown, pageRow: number): Buffer {
    if (!armed) return original.call(this, pageRow);
    if (pageRow !== nextOfLast) chain = new Set(); // a new value's chain starts
    if (chain.has(pageRow)) throw new InputError(`the memo/OLE value's chain of LVAL rows loops back to page ${pageRow >>> 8} row ${pageRow & 0xff}`);
    chain.add(pageRow);
    const row = original.call(this, pageRow);
    nextOfLast = row.length >= 4 ? row.readInt32LE(0) : undefined;
    return row;
  };
}

/** Runs `read` (mdb-reader's getData) with long-value chains checked for loops. */
export function withLoopGuard<T>(read: () => T): T {
  armed = true;
  chain = new Set();
  nextOfLast = undefined;
  try {
    return read();
  } finally {
    armed = false;
    chain = new Set();
  }
}
