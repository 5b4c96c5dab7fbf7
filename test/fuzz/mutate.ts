/**
 * Deterministic mutations of recorded bytes: bit flips, byte changes, truncation,
 * splices of two seeds, repeated slices, "huge lengths" (long runs of digits, 0xFF length
 * bytes, very long tokens), inserted and deleted ranges. One seed number reproduces an input.
 */

/** xorshift32: fast, deterministic, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.s = x >>> 0);
  }
  /** 0 ≤ n < max. */
  int(max: number): number {
    return max <= 1 ? 0 : this.next() % max;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

/** Bytes that mean something to some framer: delimiters, markers, digits, signs. */
const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x21, 0x22, 0x28, 0x29, 0x2a, 0x2b, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x39, 0x3a, 0x5c, 0x7f, 0x80, 0xff, 0x20, 0x46, 0x57, 0x58];

/** 16-bit values at the edges of signed, unsigned and scale ranges (AFL's "interesting" words). */
const EDGE_WORDS = [0x0000, 0x0001, 0x00ff, 0x0100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0x8001, 0xff7f, 0xfffe, 0xffff];

/** Long inputs that stress a parser's length handling (309 digits overflow a double). */
function huge(rng: Rng): Buffer {
  switch (rng.int(5)) {
    case 0:
      return Buffer.from('9'.repeat(300 + rng.int(400)));
    case 1:
      return Buffer.alloc(1 + rng.int(4), 0xff);
    case 2:
      return Buffer.from(`${'1'.repeat(16 + rng.int(8))}.${'5'.repeat(rng.int(30))}`);
    case 3:
      return Buffer.alloc(1000 + rng.int(20_000), rng.pick(INTERESTING));
    default:
      return Buffer.from('-' + '0'.repeat(rng.int(50)) + '8'.repeat(1 + rng.int(40)));
  }
}

/** One to four mutations of `input`, another seed available for splices. */
export function mutate(input: Buffer, other: Buffer, rng: Rng): Buffer {
  let b: Buffer = Buffer.from(input);
  const steps = 1 + rng.int(4);
  for (let s = 0; s < steps; s++) b = mutateOnce(b, other, rng);
  return b;
}

function mutateOnce(b: Buffer, other: Buffer, rng: Rng): Buffer {
  const at = () => rng.int(b.length + 1);
  switch (rng.int(11)) {
    case 10: {
      // a 16- or 32-bit edge value written over the bytes (little or big endian): scale words, lengths, counts
      if (b.length < 2) return b;
      const word = rng.pick(EDGE_WORDS);
      const at2 = rng.int(b.length - 1);
      if (rng.chance(0.5)) b.writeUInt16LE(word, at2);
      else b.writeUInt16BE(word, at2);
      return b;
    }
    case 0: {
      // bit flips
      if (b.length === 0) return b;
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 1: {
      // a byte set to something a framer cares about, or to anything
      if (b.length === 0) return Buffer.from([rng.pick(INTERESTING)]);
      b[rng.int(b.length)] = rng.chance(0.6) ? rng.pick(INTERESTING) : rng.int(256);
      return b;
    }
    case 2:
      // truncation (front or back)
      return rng.chance(0.7) ? b.subarray(0, at()) : b.subarray(at());
    case 3: {
      // splice: our head, the other seed's tail
      const cut = at();
      return Buffer.concat([b.subarray(0, cut), other.subarray(rng.int(other.length + 1))]);
    }
    case 4: {
      // a slice repeated
      const from = at();
      const to = Math.min(b.length, from + 1 + rng.int(64));
      const times = 1 + rng.int(rng.chance(0.1) ? 200 : 4);
      const piece = b.subarray(from, to);
      return Buffer.concat([b.subarray(0, to), ...Array.from({ length: times }, () => piece), b.subarray(to)]);
    }
    case 5: {
      // huge lengths and tokens
      const where = at();
      return Buffer.concat([b.subarray(0, where), huge(rng), b.subarray(where)]);
    }
    case 6: {
      // a range deleted
      const from = at();
      return Buffer.concat([b.subarray(0, from), b.subarray(Math.min(b.length, from + 1 + rng.int(32)))]);
    }
    case 7: {
      // random bytes inserted
      const where = at();
      const n = 1 + rng.int(16);
      const ins = Buffer.alloc(n);
      for (let i = 0; i < n; i++) ins[i] = rng.int(256);
      return Buffer.concat([b.subarray(0, where), ins, b.subarray(where)]);
    }
    case 8: {
      // a digit changed into another digit (keeps the shape, changes the value)
      const digits: number[] = [];
      for (let i = 0; i < b.length; i++) if (b[i]! >= 0x30 && b[i]! <= 0x39) digits.push(i);
      if (digits.length === 0) return b;
      b[rng.pick(digits)] = 0x30 + rng.int(10);
      return b;
    }
    default: {
      // a slice of the other seed inserted
      const where = at();
      const from = rng.int(other.length + 1);
      return Buffer.concat([b.subarray(0, where), other.subarray(from, from + 1 + rng.int(128)), b.subarray(where)]);
    }
  }
}
