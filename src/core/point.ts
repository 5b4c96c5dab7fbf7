/**
 * The one in-memory shape of a reading on its way to InfluxDB.
 *
 * Field types are explicit so a field never changes type between polls:
 * a plain JS number is a float, `int()` marks an integer (`i` suffix),
 * `uint()` an unsigned integer (`u`, not supported by InfluxDB 1.6),
 * booleans and strings are themselves.
 */
export class IntField {
  constructor(readonly value: bigint) {}
}
export class UintField {
  constructor(readonly value: bigint) {}
}

export type FieldValue = number | boolean | string | IntField | UintField;

/** Integer field (counters, codes, status bits). Accepts safe integers or bigint. */
export function int(value: number | bigint): IntField {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new RangeError(`int(): ${value} is not an integer`);
  }
  return new IntField(BigInt(value));
}

export function uint(value: number | bigint): UintField {
  const v = BigInt(value);
  if (v < 0n) throw new RangeError(`uint(): ${value} is negative`);
  return new UintField(v);
}

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the Unix epoch. */
  time: bigint;
}

/** Precisions as InfluxDB v2 names them; v1 `/write` uses n/u/ms/s. */
export type Precision = 'ns' | 'us' | 'ms' | 's';
export const PRECISIONS: readonly Precision[] = ['ns', 'us', 'ms', 's'];

/** Nanoseconds per unit of each precision. */
export const NS_PER: Record<Precision, bigint> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
};

export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n;
}
