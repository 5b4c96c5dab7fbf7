/**
 * P1 push framer: byte chunks in, whole telegrams out.
 *
 * A telegram (DSMR 5.0.2 §6.2, docs/protocols/dsmr-p1.md §5.2) is `/` header ... `!` CRC CR LF, where the
 * CRC is 4 hex digits (CRC-16/ARC over `/`..`!`), or absent for DSMR 2.2/3 (`!` CR LF).
 * The framer resyncs on `/`, never throws for what the line brings, and counts each drop:
 * - bytes outside any telegram (CR and LF between telegrams are not counted: a telegram
 *   log has them);
 * - a CRC mismatch ('crc');
 * - a new `/` before the `!` ('truncated': the meter restarted, or bytes were lost);
 * - no `!` within `maxBytes` ('oversize': then everything up to the next `/` is skipped);
 * - anything but up to 4 hex digits and (CR) LF after the `!` ('malformed').
 * Unpadded CRCs (`!B9F`, seen from a Warmtelink heat meter) are accepted. The telegram text
 * keeps its CR LF (they are covered by the CRC) and is decoded as latin1, byte for byte.
 */
import { crc16arc, formatCrc } from './framer-crc.js';

export type DropReason = 'crc' | 'truncated' | 'oversize' | 'malformed';

export interface FramedTelegram {
  kind: 'telegram';
  /** From `/` through the LF after the CRC. */
  text: string;
  /** The CRC the telegram carried (verified), or null when it had none. */
  crc: number | null;
  /** Stream offset of the `/`. */
  start: number;
}

export interface FrameDrop {
  kind: 'drop';
  reason: DropReason;
  /** One line: what was wrong. */
  detail: string;
  /** Stream offset of the telegram's `/`. */
  start: number;
  /** Stream offset where the problem showed (the `!`, the new `/`, the size limit). */
  at: number;
}

export type FramerEvent = FramedTelegram | FrameDrop;

export interface FramerCounters {
  telegrams: number;
  crcErrors: number;
  garbageBytes: number;
  oversize: number;
  truncated: number;
  malformed: number;
}

export const DEFAULT_MAX_TELEGRAM_BYTES = 8192;

const SLASH = 0x2f;
const BANG = 0x21;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

const HUNT = 0; // looking for '/', counting what is skipped
const IN = 1; // inside a telegram: buf[0] is its '/'
const SKIP = 2; // after an oversize drop: skip silently up to the next '/'

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export class P1Framer {
  readonly counters: FramerCounters = { telegrams: 0, crcErrors: 0, garbageBytes: 0, oversize: 0, truncated: 0, malformed: 0 };
  private buf: Buffer = EMPTY;
  /** Stream offset of buf[0]. */
  private base = 0;
  private state = HUNT;
  /** Inside a telegram: where the next search for '!' or '/' starts (relative to buf). */
  private scan = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_TELEGRAM_BYTES) {}

  /** Feed one chunk; returns the telegrams it completed and the drops it caused, in order. */
  feed(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    const incoming = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.buf.length === 0 ? incoming : Buffer.concat([this.buf, incoming]);
    let pos = 0; // bytes before pos are done with
    let scan = this.scan;

    for (;;) {
      if (this.state !== IN) {
        const s = buf.indexOf(SLASH, pos);
        const stop = s < 0 ? buf.length : s;
        if (this.state === HUNT) this.countGarbage(buf, pos, stop);
        pos = stop;
        if (s < 0) break;
        this.state = IN;
        scan = s + 1;
      }
      const bang = buf.indexOf(BANG, scan);
      const slash = buf.indexOf(SLASH, scan);
      if (slash >= 0 && (bang < 0 || slash < bang)) {
        out.push(this.drop('truncated', "a new telegram ('/') began before this one ended ('!')", pos, slash));
        pos = slash;
        scan = slash + 1;
        continue;
      }
      if (bang < 0) {
        scan = buf.length;
        if (buf.length - pos > this.maxBytes) pos = this.oversize(out, pos, buf.length);
        break;
      }
      // The trailer: up to 4 hex digits, then CR LF (or a bare LF, as in a log saved with LF).
      let j = bang + 1;
      let crc = 0;
      while (j < buf.length && j < bang + 5) {
        const h = hexValue(buf[j]);
        if (h < 0) break;
        crc = (crc << 4) | h;
        j++;
      }
      if (j < buf.length && buf[j] === CR) j++;
      if (j >= buf.length) {
        scan = bang; // wait for the rest of the trailer
        if (buf.length - pos > this.maxBytes) pos = this.oversize(out, pos, buf.length);
        break;
      }
      if (buf[j] !== LF) {
        const got = JSON.stringify(buf.toString('latin1', bang, Math.min(buf.length, bang + 8)));
        out.push(this.drop('malformed', `bad end: expected "!", up to 4 hex digits and CR LF, got ${got}`, pos, bang));
        this.state = HUNT;
        pos = bang + 1;
        continue;
      }
      const end = j + 1;
      this.state = HUNT;
      if (end - pos > this.maxBytes) {
        this.counters.oversize++;
        out.push(this.dropped('oversize', `telegram of ${end - pos} bytes is over the ${this.maxBytes}-byte limit`, pos, bang));
      } else {
        const digits = (buf[j - 1] === CR ? j - 1 : j) - bang - 1;
        const computed = digits > 0 ? crc16arc(buf, pos, bang + 1) : -1;
        if (digits > 0 && computed !== crc) {
          this.counters.crcErrors++;
          out.push(this.dropped('crc', `CRC mismatch: computed ${formatCrc(computed)}, telegram says ${buf.toString('latin1', bang + 1, bang + 1 + digits)}`, pos, bang));
        } else {
          this.counters.telegrams++;
          out.push({ kind: 'telegram', text: buf.toString('latin1', pos, end), crc: digits > 0 ? crc : null, start: this.base + pos });
        }
      }
      pos = end;
    }

    this.base += pos;
    this.buf = this.state === IN ? buf.subarray(pos) : EMPTY;
    this.scan = this.state === IN ? scan - pos : 0;
    return out;
  }

  /**
   * End of input: a telegram whose input ends right after its CRC (a log file without the
   * last CR LF; live serial input always brings it) is completed; one still open is dropped
   * as truncated, saying whether its '!' came.
   */
  flush(): FramerEvent[] {
    const out: FramerEvent[] = [];
    if (this.state === IN && this.buf[this.scan] === BANG) {
      // feed() stopped at the '!' only because the input ended within "up to 4 hex digits, CR".
      const tail = this.buf[this.buf.length - 1] === CR ? '\n' : '\r\n';
      out.push(...this.feed(Buffer.from(tail, 'latin1')));
    }
    if (this.state === IN && this.buf.length > 0) {
      const bang = this.buf.indexOf(BANG, 0);
      const what = bang < 0 ? "no '!' end" : `its end "${this.buf.toString('latin1', bang, Math.min(this.buf.length, bang + 8))}" cut short`;
      out.push(this.drop('truncated', `input ended inside a telegram (${this.buf.length} bytes, ${what})`, 0, this.buf.length));
    }
    this.forget();
    return out;
  }

  /** The link was reopened: a half-received telegram will never be completed (counted). */
  reset(): void {
    if (this.state === IN && this.buf.length > 0) this.counters.truncated++;
    this.forget();
  }

  private forget(): void {
    this.base += this.buf.length;
    this.buf = EMPTY;
    this.state = HUNT;
    this.scan = 0;
  }

  private oversize(out: FramerEvent[], pos: number, len: number): number {
    this.counters.oversize++;
    out.push(this.dropped('oversize', `no end ('!') within ${this.maxBytes} bytes`, pos, pos + this.maxBytes));
    this.state = SKIP;
    return len;
  }

  private drop(reason: 'truncated' | 'malformed', detail: string, pos: number, at: number): FrameDrop {
    this.counters[reason]++;
    return this.dropped(reason, detail, pos, at);
  }

  private dropped(reason: DropReason, detail: string, pos: number, at: number): FrameDrop {
    return { kind: 'drop', reason, detail, start: this.base + pos, at: this.base + at };
  }

  private countGarbage(buf: Buffer, from: number, to: number): void {
    let n = 0;
    for (let i = from; i < to; i++) if (buf[i] !== CR && buf[i] !== LF) n++;
    this.counters.garbageBytes += n;
  }
}
