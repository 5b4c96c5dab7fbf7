/**
 * VE.Bus framer: byte chunks in, whole checked frames out.
 *
 * It reads `len` (bit 7: two LED bytes follow the data), takes the rest, and checks that
 * all bytes sum to 0 mod 256 (§3.2). A frame starts at a byte whose low 7 bits are ≥ 2,
 * followed by the marker 0xFF (command) or 0x20 (info); anything else is garbage, skipped
 * one byte at a time (counted). A frame with a bad checksum is dropped and counted once;
 * the hunt then resumes one byte after its start, and what it skips inside the dropped
 * frame is counted as garbage, not as more checksum errors. A start whose frame is not
 * complete yet is given up when a whole good frame already follows it (a data byte that
 * looked like a long frame's len). Never throws for what the line brings.
 */
import { parseFrame, type VebusFrame } from './codec.js';
import { LEN_LED_FLAG, LEN_MASK, MARKER_COMMAND, MARKER_INFO } from './tables.js';

export type FramerEvent = { kind: 'frame'; frame: VebusFrame } | { kind: 'drop'; reason: 'checksum'; raw: Buffer };

export interface FramerCounters {
  frames: number;
  checksumErrors: number;
  garbageBytes: number;
}

const EMPTY = Buffer.alloc(0);

export class VebusFramer {
  readonly counters: FramerCounters = { frames: 0, checksumErrors: 0, garbageBytes: 0 };
  private buf: Buffer = EMPTY;
  /** Bytes of buf before this index lie inside a frame already dropped for its checksum. */
  private insideDropped = 0;

  feed(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    const incoming = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    const buf = this.buf.length === 0 ? incoming : Buffer.concat([this.buf, incoming]);
    let pos = 0;
    while (pos < buf.length) {
      const lenByte = buf[pos]!;
      const len = lenByte & LEN_MASK;
      if (len < 2) {
        pos = this.skip(pos);
        continue;
      }
      if (pos + 1 >= buf.length) break; // need the marker
      const marker = buf[pos + 1]!;
      if (marker !== MARKER_COMMAND && marker !== MARKER_INFO) {
        pos = this.skip(pos);
        continue;
      }
      const total = len + 2 + (lenByte & LEN_LED_FLAG ? 2 : 0);
      if (pos + total > buf.length) {
        // A data byte can look like the start of a long frame; if a whole good frame
        // already follows, this start was not one.
        if (validFrameAfter(buf, pos + 1)) {
          pos = this.skip(pos);
          continue;
        }
        break; // wait for the rest
      }
      const raw = Buffer.from(buf.subarray(pos, pos + total));
      if (!sumsToZero(buf, pos, total)) {
        if (pos >= this.insideDropped) {
          this.counters.checksumErrors++;
          out.push({ kind: 'drop', reason: 'checksum', raw });
          this.insideDropped = pos + total;
        }
        pos = this.skip(pos);
        continue;
      }
      this.counters.frames++;
      out.push({ kind: 'frame', frame: parseFrame(raw) });
      pos += total;
      this.insideDropped = Math.max(this.insideDropped, pos);
    }
    this.buf = pos >= buf.length ? EMPTY : Buffer.from(buf.subarray(pos));
    this.insideDropped = Math.max(0, this.insideDropped - pos);
    return out;
  }

  /** Bytes waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  /**
   * Forget a partial frame (a request timed out: the half frame will never complete, or
   * a garbage byte looked like the start of a long frame). The bytes count as garbage.
   */
  reset(): void {
    this.counters.garbageBytes += this.buf.length;
    this.buf = EMPTY;
    this.insideDropped = 0;
  }

  private skip(pos: number): number {
    this.counters.garbageBytes++;
    return pos + 1;
  }
}

function sumsToZero(buf: Buffer, at: number, length: number): boolean {
  let sum = 0;
  for (let i = at; i < at + length; i++) sum += buf[i]!;
  return (sum & 0xff) === 0;
}

/** Whether a complete frame with a good checksum starts somewhere at or after `from`. */
function validFrameAfter(buf: Buffer, from: number): boolean {
  for (let q = from; q + 3 < buf.length; q++) {
    const len = buf[q]! & LEN_MASK;
    const marker = buf[q + 1];
    if (len < 2 || (marker !== MARKER_COMMAND && marker !== MARKER_INFO)) continue;
    const total = len + 2 + (buf[q]! & LEN_LED_FLAG ? 2 : 0);
    if (q + total <= buf.length && sumsToZero(buf, q, total)) return true;
  }
  return false;
}
