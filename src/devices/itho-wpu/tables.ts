/**
 * Itho datalog type codes (docs/protocols/itho-wpu.md §4.4): width, signedness and decimals of each code.
 * One table, read by one decoder. Fields are big-endian.
 *
 * - The original's formatter divided only the low byte for 0x12/0x13/0x14 (operator
 *   precedence); here the whole 16-bit value is divided.
 * - 0x11, 0x21–0x25 and 0xA0–0xA5 follow the general rule of rustyx/itho-esp#1 (bit 7 signed,
 *   bits 4–6 size class, low nibble decimals), which every formatted code of the original obeys.
 * - 0x0F, 0x6C and 0x51 break that rule and have no known format: their width is known (so the
 *   fields after them stay aligned) but their value is not decoded (skipped and counted).
 * - Any other code is an error: its width is unknown, so every later field would be misread.
 */
export interface DataType {
  code: number;
  width: 1 | 2 | 4;
  signed: boolean;
  /** Decimal places: the raw integer is divided by 10^decimals. */
  decimals: number;
  /** Width known, format unknown: the field is skipped, never guessed. */
  opaque?: boolean;
}

const TABLE = new Map<number, DataType>();
function add(code: number, width: 1 | 2 | 4, signed: boolean, decimals: number, opaque = false): void {
  TABLE.set(code, opaque ? { code, width, signed, decimals, opaque } : { code, width, signed, decimals });
}

add(0x00, 1, false, 0);
add(0x01, 1, false, 1);
add(0x02, 1, false, 2);
add(0x0c, 1, false, 0); // enum / flags (PR #3 of the original)
add(0x0f, 1, false, 0, true);
add(0x6c, 1, false, 0, true);
add(0x80, 1, true, 0);
add(0x81, 1, true, 1);
add(0x82, 1, true, 2);
add(0x8f, 1, true, 3); // an exception to the rule: divisor 1000 in the original
add(0x10, 2, false, 0);
add(0x11, 2, false, 1);
add(0x12, 2, false, 2);
add(0x13, 2, false, 3);
add(0x14, 2, false, 4);
add(0x51, 2, false, 0, true);
add(0x90, 2, true, 0);
add(0x91, 2, true, 1);
add(0x92, 2, true, 2);
for (let d = 0; d <= 5; d++) {
  add(0x20 + d, 4, false, d);
  add(0xa0 + d, 4, true, d);
}

export function dataType(code: number): DataType | undefined {
  return TABLE.get(code);
}

export function hex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Every known code (for tests and the README). */
export function knownDataTypes(): DataType[] {
  return [...TABLE.values()].sort((a, b) => a.code - b.code);
}

const POW10 = [1, 10, 100, 1000, 10000, 100000];

/** The raw integer of a field: big-endian, two's complement when signed. */
export function readRaw(buf: Uint8Array, offset: number, type: DataType): number {
  switch (type.width) {
    case 1: {
      const v = buf[offset]!;
      return type.signed && v >= 0x80 ? v - 0x100 : v;
    }
    case 2: {
      const v = (buf[offset]! << 8) | buf[offset + 1]!;
      return type.signed && v >= 0x8000 ? v - 0x10000 : v;
    }
    default: {
      const v = ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
      return type.signed && v >= 0x80000000 ? v - 0x100000000 : v;
    }
  }
}

/** The scaled value: raw / 10^decimals, rounded to those decimals (4445 → 44.45, not 44.449999). */
export function scale(raw: number, type: DataType): number {
  if (type.decimals === 0) return raw;
  const p = POW10[type.decimals]!;
  return raw / p;
}

/** A user's value ("2.5") as the device's raw integer for this type (25 for one decimal). */
export function toRaw(value: number, type: DataType): number {
  return Math.round(value * POW10[type.decimals]!);
}
