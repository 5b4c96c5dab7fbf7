/**
 * Blueprint meter request and reply, pure (no I/O, no clock): `R?` LF out; back comes
 * `V=230.1;A=1.250;W=287;E=1234.56*2C` LF, where the two hex digits after `*` are the XOR of
 * the bytes before it. A reply that fails its checksum or its form is a FrameError (the link
 * names device and request); a key the table does not know gives no field.
 */
import { FrameError } from '../../core/errors.js';
import { READ_REQUEST, REPLY_KEYS } from './tables.js';

export type Reading = Record<string, number>;

export function encodeRequest(): Buffer {
  return Buffer.from(`${READ_REQUEST}\n`, 'latin1');
}

/** XOR of every byte: the reply's checksum. */
export function checksum(text: string): number {
  let x = 0;
  for (let i = 0; i < text.length; i++) x ^= text.charCodeAt(i) & 0xff;
  return x;
}

export function decodeReply(line: string): Reading {
  const m = /^([^*]*)\*([0-9A-Fa-f]{2})$/.exec(line);
  if (!m) throw new FrameError(`reply without its *checksum: ${JSON.stringify(line.slice(0, 60))}`, 'syntax');
  const body = m[1]!;
  if (checksum(body) !== Number.parseInt(m[2]!, 16)) throw new FrameError(`reply checksum ${m[2]} does not match its bytes`, 'checksum');
  const reading: Reading = {};
  for (const pair of body.split(';')) {
    const [key, text] = pair.split('=');
    const field = key !== undefined ? REPLY_KEYS[key] : undefined;
    if (field === undefined || text === undefined) continue;
    const value = Number(text);
    if (!/^-?\d+(?:\.\d+)?$/.test(text) || !Number.isFinite(value)) throw new FrameError(`${key}: not a number: ${JSON.stringify(text)}`, 'syntax');
    reading[field] = value;
  }
  if (Object.keys(reading).length === 0) throw new FrameError('reply carries no known value', 'unexpected');
  return reading;
}
