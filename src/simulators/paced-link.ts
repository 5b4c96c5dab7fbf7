/**
 * A sim link paced like a half-duplex serial line (RS-485): each write (one frame) reaches
 * the other end only after its wire time, bits per character (1 start + data bits +
 * parity bit if any + stop bits) / baud per byte, and a new frame goes on the wire only
 * after the line has been idle for the Modbus RTU inter-frame gap (3.5 character times,
 * Modbus over Serial Line §2.5.1.1). Both ends share the one line, so a reply waits for the
 * request to be on the wire and then the gap; frames queue behind each other.
 *
 * It is a wrapper over SimEndpoint (src/transports/sim.ts keeps its immediate delivery for
 * everyone else). A frame arrives whole at the time its last byte would; delivery times
 * are absolute (performance.now), so timer lateness does not add up over frames.
 */
import { performance } from 'node:perf_hooks';
import { TransportError } from '../core/errors.js';
import { SimEndpoint } from '../transports/sim.js';

export interface LineSettings {
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** Idle time the line needs between frames, ms; default the Modbus RTU gap below (a PowerWalker line has none: 0). */
  gapMs?: number;
}

/** Bits on the wire per character: start + data + parity + stop. */
export function bitsPerChar(s: LineSettings): number {
  return 1 + (s.dataBits ?? 8) + ((s.parity ?? 'none') === 'none' ? 0 : 1) + (s.stopBits ?? 1);
}

/** Milliseconds one character takes on the wire. */
export function charTimeMs(s: LineSettings): number {
  return (bitsPerChar(s) * 1000) / s.baudRate;
}

/** The Modbus RTU inter-frame gap, ms: 3.5 character times (fixed 1.75 ms above 19200 baud, per the spec). */
export function interFrameGapMs(s: LineSettings): number {
  if (s.gapMs !== undefined) return s.gapMs;
  return s.baudRate > 19_200 ? 1.75 : 3.5 * charTimeMs(s);
}

/** The one wire both ends share. */
class Line {
  /** performance.now() when the last queued frame has left the wire. */
  busyUntil = -Infinity;
  readonly charMs: number;
  readonly gapMs: number;
  /** Frames put on the wire and their bytes (for benches). */
  frames = 0;
  bytes = 0;

  constructor(settings: LineSettings) {
    this.charMs = charTimeMs(settings);
    this.gapMs = interFrameGapMs(settings);
  }

  /** Book a frame of `length` bytes; returns when its last byte is through (performance.now time). */
  book(length: number): number {
    const start = Math.max(performance.now(), this.busyUntil + this.gapMs);
    this.busyUntil = start + length * this.charMs;
    this.frames++;
    this.bytes += length;
    return this.busyUntil;
  }
}

export class PacedEndpoint extends SimEndpoint {
  constructor(
    key: string,
    private readonly line: Line,
  ) {
    super(key);
  }

  override async write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new TransportError(`${this.key}: write on a closed link`, true);
    const chunk = Buffer.from(data);
    this.noteWrite(chunk);
    const at = this.line.book(chunk.length);
    const deliver = (): void => {
      const late = at - performance.now();
      // setTimeout has millisecond steps: sleep the whole milliseconds, then yield to the
      // event loop (setImmediate) for the last fraction, so a frame is neither early nor
      // a timer tick late.
      if (late >= 1) setTimeout(deliver, Math.floor(late));
      else if (late > 0.02) setImmediate(deliver);
      else this.peer.receive(chunk);
    };
    // Always asynchronous, as a real port (and SimEndpoint) delivers.
    setImmediate(deliver);
  }
}

export interface PacedLink {
  host: PacedEndpoint;
  device: PacedEndpoint;
  /** Character time and inter-frame gap of this line, ms. */
  charMs: number;
  gapMs: number;
  /** Frames and bytes that went over the line so far (both directions). */
  traffic(): { frames: number; bytes: number };
}

/** Like createSimLink, but paced as a serial line with these settings (default 9600 8N1). */
export function createPacedSimLink(key: string, settings: LineSettings = { baudRate: 9600 }): PacedLink {
  const line = new Line(settings);
  const host = new PacedEndpoint(key, line);
  const device = new PacedEndpoint(`${key}#device`, line);
  host.peer = device;
  device.peer = host;
  return { host, device, charMs: line.charMs, gapMs: line.gapMs, traffic: () => ({ frames: line.frames, bytes: line.bytes }) };
}
