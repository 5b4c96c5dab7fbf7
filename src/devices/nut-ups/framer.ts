/**
 * Bytes → reply lines for upsd's protocol (NUT developer guide, "Network protocol information"):
 * replies are LF-terminated lines; a CR before the LF is dropped. Pure, never throws.
 */

/** Longest reply line accepted; upsd's own limit is 512 bytes (UPSCLIENT_LINE_MAX is larger, 4 KiB). */
export const MAX_LINE = 8192;

/**
 * Turns chunks into lines (LF, an optional CR before it is dropped). A line longer than
 * MAX_LINE is dropped and counted, and framing resumes at the next LF.
 */
export class LineFramer {
  private buf = '';
  private skipping = false;
  oversize = 0;

  push(chunk: Buffer | string): string[] {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    // Inside an oversize line, its rest is never kept (every read is bounded).
    if (this.skipping) {
      const nl = text.indexOf('\n');
      if (nl < 0) return [];
      this.skipping = false;
      text = text.slice(nl + 1);
    }
    this.buf += text;
    const lines: string[] = [];
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > MAX_LINE) {
        this.oversize++;
        continue;
      }
      lines.push(line);
    }
    if (this.buf.length > MAX_LINE) {
      this.buf = '';
      this.skipping = true;
      this.oversize++;
    }
    return lines;
  }

  reset(): void {
    this.buf = '';
    this.skipping = false;
  }
}
