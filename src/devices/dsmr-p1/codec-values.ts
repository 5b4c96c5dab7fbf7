/**
 * Reading P1 value text in place: decimal numbers scaled by a power of ten without float
 * noise, units mapped to field units, hex-encoded text decoded.
 */
import { UNITS } from './tables.js';

/** UNITS by name, and by lower-case name: meters spell units in any case (a Kamstrup sends `kVArh`, `kVAr`). Maps: a unit named `constructor` is no unit. */
const UNITS_EXACT = new Map(Object.entries(UNITS));
const UNITS_ANY_CASE = new Map(Object.entries(UNITS).map(([name, u]) => [name.toLowerCase(), u]));

function unitNamed(name: string): { suffix: string; pow10: number } | undefined {
  return UNITS_EXACT.get(name) ?? UNITS_ANY_CASE.get(name.toLowerCase());
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * A decimal string times 10^pow10, correctly rounded: the digits become an exact integer
 * mantissa, then one multiplication or division by an exact power of ten (IEEE rounds once).
 */
export function scaleDecimal(text: string, pow10: number): number | undefined {
  return scaleDecimalAt(text, 0, text.length, pow10);
}

export function scaleDecimalAt(text: string, start: number, end: number, pow10: number): number | undefined {
  let i = start;
  const c0 = text.charCodeAt(i);
  const neg = c0 === 45; /* - */
  if (neg || c0 === 43 /* + */) i++;
  let mantissa = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 /* . */ && frac < 0) frac = 0;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined; // beyond 15 digits the mantissa is no longer exact
  const e = pow10 - (frac > 0 ? frac : 0);
  const v = e >= 0 ? mantissa * POW10[e] : mantissa / POW10[-e];
  return neg ? -v : v;
}

/** Hex-encoded printable ASCII -> its text; anything else is kept as sent. */
export function decodeHexText(raw: string): string {
  if (raw.length === 0 || raw.length % 2 !== 0) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    const b = nibble(raw.charCodeAt(i)) * 16 + nibble(raw.charCodeAt(i + 1));
    if (!(b >= 0x20 && b <= 0x7e)) return raw; // also catches a non-hex digit (negative)
    out += String.fromCharCode(b);
  }
  return out;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -256;
}

/** measure()'s results besides the value (module state: no object per value in the hot path). */
export const measured: { suffix: string | undefined; problem: string } = { suffix: undefined, problem: '' };

/**
 * `value*unit` in text[s, e) -> its number in the field's unit (NaN when it cannot be read:
 * measured.problem says why); measured.suffix is that unit's field suffix. `expect` is the unit
 * the standard sends (used when none is given); 'auto' takes any unit.
 */
export function measure(text: string, s: number, e: number, expect: string | undefined): number {
  let star = text.indexOf('*', s);
  if (star >= e) star = -1;
  const digitsEnd = star >= 0 ? star : e;
  const u0 = expect === undefined ? undefined : UNITS_EXACT.get(expect);
  if (u0 !== undefined && (star < 0 || (e - star - 1 === expect!.length && text.startsWith(expect!, star + 1)))) {
    // The unit the standard sends (the common case): no lookup by a cut-out string.
    measured.suffix = u0.suffix;
    const v = scaleDecimalAt(text, s, digitsEnd, u0.pow10);
    return v === undefined ? fail(`not a number: "${text.slice(s, digitsEnd)}"`) : v;
  }
  let unit = expect;
  if (star >= 0) unit = text.slice(star + 1, e);
  let pow10 = 0;
  measured.suffix = undefined;
  if (unit !== undefined && unit !== 'auto') {
    const u = unitNamed(unit);
    if (!u) return fail(`unknown unit "${unit}"`);
    // `expect` may come from the telegram too (the DSMR 2.2/3 gas header names its unit).
    const e = expect === undefined || expect === 'auto' ? u : unitNamed(expect);
    if (e?.suffix !== u.suffix) return fail(`unit ${unit} where ${expect} was expected`);
    pow10 = u.pow10;
    measured.suffix = u.suffix;
  }
  const value = scaleDecimalAt(text, s, digitsEnd, pow10);
  return value === undefined ? fail(`not a number: "${text.slice(s, digitsEnd)}"`) : value;
}

function fail(problem: string): number {
  measured.problem = problem;
  return NaN;
}
