/**
 * Bytes → frames for protocols whose frames end at one byte (CR, LF) and carry no length:
 * everything up to the end byte is a frame; a run longer than `maxBytes` without one is line
 * noise, dropped and counted, and framing restarts at the next end byte. Pure, never throws.
 */
export interface DelimitedFramerOptions {
  /** The byte that ends a frame (not part of it). */
  end: number;
  maxBytes: number;
  /** A byte dropped where it stands (NUL padding of HID reports). */
  skip?: number;
}

export class DelimitedFramer {
  private buf: number[] = [];
  overflows = 0;

  constructor(private readonly o: DelimitedFramerOptions) {}

  /** The complete frames in this chunk, each without its end byte. */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (const b of chunk) {
      if (b === this.o.skip) continue;
      if (b === this.o.end) {
        out.push(Buffer.from(this.buf));
        this.buf = [];
        continue;
      }
      this.buf.push(b);
      if (this.buf.length > this.o.maxBytes) {
        this.buf = [];
        this.overflows++;
      }
    }
    return out;
  }

  /** Bytes waiting for their end byte. */
  get pending(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}
