/**
 * What the PowerWalker PDU (PI90) and ATS (PI97) share (docs/protocols/powerwalker.md §1.2): an ASCII
 * request ended by CR, a reply `(` … CR, fields separated by single spaces, `(ACK` / `(NAK`
 * for control commands, no checksum. Pure: bytes ⇄ values, no I/O, no clock.
 *
 * This folder holds no driver; `powerwalker-pdu/` and `powerwalker-ats/` import it.
 * Codec failures are FrameErrors (the session names the device and command).
 */
import { FrameError } from '../../core/errors.js';

/** `QGS` → `51 47 53 0D`: the command's ASCII bytes and CR. */
export function encodeCommand(command: string): Buffer {
  if (!/^[\x21-\x7e]+$/.test(command)) throw new RangeError(`not a PowerWalker command: ${JSON.stringify(command)}`);
  return Buffer.from(`${command}\r`, 'ascii');
}

/** One reply (without its CR) → the payload after `(`, trailing whitespace removed (§1.2). */
export function replyPayload(frame: Uint8Array | string, command: string): string {
  const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString('latin1');
  const clean = text.replace(/\r$/, '').replace(/\0/g, '');
  if (!/^[\x20-\x7e]*$/.test(clean)) throw new FrameError(`${command}: reply is not printable ASCII: ${show(clean)}`, 'syntax');
  if (!clean.startsWith('(')) throw new FrameError(`${command}: reply does not start with "(": ${show(clean)}`, 'syntax');
  return clean.slice(1).trimEnd();
}

/** Exactly `count` space-separated tokens, or a FrameError (a stale reply to another command has another count). */
export function tokens(payload: string, count: number, command: string): string[] {
  const t = payload
    .trim()
    .split(/ +/)
    .filter((s) => s.length > 0);
  if (t.length !== count) throw new FrameError(`${command}: expected ${count} fields, got ${t.length}: ${show(payload)}`, 'length');
  return t;
}

const DECIMAL = /^[+-]?\d+(?:\.\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** A decimal token; 309 digits and more overflow to Infinity, which is no reading. */
export function decimal(token: string, command: string, what: string): number {
  if (!DECIMAL.test(token)) throw new FrameError(`${command}: ${what} is not a number: ${show(token)}`, 'syntax');
  const v = Number(token);
  if (!Number.isFinite(v)) throw new FrameError(`${command}: ${what} is out of range: ${show(token)}`, 'syntax');
  return v;
}

/** An integer token, exact (a safe integer) or a FrameError. */
export function integer(token: string, command: string, what: string): number {
  if (!INTEGER.test(token)) throw new FrameError(`${command}: ${what} is not an integer: ${show(token)}`, 'syntax');
  const v = Number.parseInt(token, 10);
  if (!Number.isSafeInteger(v)) throw new FrameError(`${command}: ${what} is out of range: ${show(token)}`, 'syntax');
  return v;
}

/** A status string of exactly `length` characters from `allowed` (§1.5: the original never checked). */
export function statusString(token: string, length: number, allowed: RegExp, command: string): string {
  if (token.length !== length) throw new FrameError(`${command}: status string has ${token.length} characters, expected ${length}: ${show(token)}`, 'length');
  for (let i = 0; i < token.length; i++) {
    if (!allowed.test(token[i]!)) throw new FrameError(`${command}: status character ${i} is ${show(token[i]!)}`, 'syntax');
  }
  return token;
}

/** Control replies: true for ACK, false for NAK; anything else is a FrameError. */
export function isAck(payload: string, command: string): boolean {
  if (payload === 'ACK') return true;
  if (payload === 'NAK') return false;
  throw new FrameError(`${command}: expected ACK or NAK, got ${show(payload)}`, 'unexpected');
}

/** `QPI` → `PI90` (PDU) or `PI97` (ATS). */
export function decodeProtocolId(payload: string): string {
  if (!/^PI\d\d$/.test(payload)) throw new FrameError(`QPI: not a protocol id: ${show(payload)}`, 'syntax');
  return payload;
}

/** `QVFW` → `VERFW:<version>`: the version as the device sends it (the original made it a float: 0.15). */
export function decodeFirmware(payload: string): string {
  const m = /^VERFW:\s*(\S+)$/.exec(payload);
  if (!m) throw new FrameError(`QVFW: expected VERFW:<version>, got ${show(payload)}`, 'syntax');
  return m[1]!;
}

/** A reply fragment for messages: quoted, cut at 60 characters. */
export function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
