/**
 * Request/reply over the injected transport: every byte through the framer, one request in
 * flight (kit/reply.ts) with a deadline on the injected clock, every exchange handed to the
 * capture hook (the first of a poll stamped with the poll's time).
 */
import type { Clock } from '../../core/clock.js';
import { FrameError, TimeoutError, TransportError } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';
import type { CaptureHook } from '../kit/capture.js';
import { ReplySlot } from '../kit/reply.js';
import { decodeReply, encodeRequest, type Reading } from './codec.js';
import { BlueprintError } from './errors.js';
import { LineFramer } from './framer.js';

export class BlueprintLink {
  private readonly framer = new LineFramer();
  private readonly slot = new ReplySlot<string>();
  private stamp: number | undefined;
  readonly counts = { requests: 0, replies: 0, bad_replies: 0, timeouts: 0, stray_lines: 0 };

  constructor(
    private readonly device: string,
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly capture: CaptureHook | undefined,
  ) {
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
  }

  /** The next capture record carries this time (a poll's t0). */
  stampNext(timeMs: number | undefined): void {
    this.stamp = timeMs;
  }

  async read(timeoutMs: number, signal: AbortSignal): Promise<Reading> {
    const t = this.transport;
    if (!t.isOpen) throw new TransportError(`${t.key}: port is not open`, true);
    const request = encodeRequest();
    this.framer.reset();
    this.counts.requests++;
    this.capture?.('tx', request, this.stamp ?? this.clock.now());
    this.stamp = undefined;
    const line = await this.slot.wait('R?', () => t.write(request), {
      timeoutMs,
      signal,
      sleep: (ms, s) => this.clock.sleep(ms, s),
      timedOut: () => {
        this.counts.timeouts++;
        return new TimeoutError(`${this.device}: no reply in ${timeoutMs} ms (device off, wrong port or wrong baud rate?)`);
      },
    });
    this.capture?.('rx', Buffer.from(`${line}\n`, 'latin1'), this.clock.now());
    try {
      const reading = decodeReply(line);
      this.counts.replies++;
      return reading;
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.counts.bad_replies++;
      throw new BlueprintError(`${this.device}: ${err.message}`, this.device, { cause: err });
    }
  }

  detach(): void {
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.slot.fail(() => new TransportError(`${this.transport.key}: session closed`, false));
  }

  private readonly onData = (chunk: Buffer): void => {
    for (const line of this.framer.push(chunk)) if (!this.slot.offer(line)) this.counts.stray_lines++;
  };

  /** The port went away mid-request: say so now rather than at the deadline. */
  private readonly onClose = (): void => {
    this.framer.reset();
    this.slot.fail(() => new TransportError(`${this.transport.key}: port closed while waiting for a reply`, true));
  };
}
