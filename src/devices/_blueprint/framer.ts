/**
 * Bytes → reply lines (LF-terminated, a CR before the LF tolerated). Pure and never throws
 * for what the wire brings: an over-long run without LF is dropped and counted
 * (kit/delimited-framer.ts), and framing restarts at the next LF. A protocol with a start
 * byte, a length or a checksum in its frames writes its own framer here instead.
 */
import { DelimitedFramer } from '../kit/delimited-framer.js';
import { MAX_LINE_BYTES } from './tables.js';

export class LineFramer {
  private readonly frames = new DelimitedFramer({ end: 0x0a, maxBytes: MAX_LINE_BYTES });

  /** The complete lines in this chunk, without CR LF. */
  push(chunk: Uint8Array): string[] {
    return this.frames.push(chunk).map((f) => f.toString('latin1').replace(/\r$/, ''));
  }

  get overflows(): number {
    return this.frames.overflows;
  }

  /** Bytes waiting for their LF (half a reply when a deadline passes). */
  get pending(): number {
    return this.frames.pending;
  }

  reset(): void {
    this.frames.reset();
  }
}
