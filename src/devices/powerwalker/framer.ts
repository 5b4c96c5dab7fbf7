/**
 * PowerWalker reply framing (bytes -> replies): a reply ends at its CR; nothing else marks
 * it (docs/protocols/powerwalker.md, "Framing"). Pure, no I/O.
 */
export const CR = 0x0d;
/** Longest reply we accept before the CR (QSR: 24 tokens of up to 7 characters, with room). */
export const MAX_REPLY_BYTES = 512;

/**
 * Collects reply bytes until a CR. NUL bytes (HID report padding, §1.1) are dropped where
 * they stand; a run of MAX_REPLY_BYTES without a CR is thrown away (counted by the caller).
 */
export class ReplyFramer {
  private buf: number[] = [];
  overflows = 0;

  /** Complete replies in this chunk, each without its CR. */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (const b of chunk) {
      if (b === 0x00) continue;
      if (b === CR) {
        out.push(Buffer.from(this.buf));
        this.buf = [];
        continue;
      }
      this.buf.push(b);
      if (this.buf.length > MAX_REPLY_BYTES) {
        this.buf = [];
        this.overflows++;
      }
    }
    return out;
  }

  /** Bytes waiting for their CR. */
  get pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}
