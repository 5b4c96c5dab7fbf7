/**
 * Bytes → reply lines (LF-terminated, CR before LF tolerated). Pure and never throws for what
 * the wire brings: an over-long run without LF is dropped and counted, and framing restarts
 * at the next LF.
 */
import { MAX_LINE_BYTES } from './tables.js';

export class LineFramer {
  private buf: number[] = [];
  overflows = 0;

  /** The complete lines in this chunk, without CR LF. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    for (const b of chunk) {
      if (b === 0x0a) {
        out.push(Buffer.from(this.buf).toString('latin1').replace(/\r$/, ''));
        this.buf = [];
      } else if (this.buf.push(b) > MAX_LINE_BYTES) {
        this.buf = [];
        this.overflows++;
      }
    }
    return out;
  }

  /** Bytes waiting for their LF (half a reply when a deadline passes). */
  get pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}
