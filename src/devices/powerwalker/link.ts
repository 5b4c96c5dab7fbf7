/**
 * One request/reply at a time over the injected transport (serial or HID,
 * docs/protocols/powerwalker.md §1.1, §1.9): drain stale input, write `cmd CR`, collect
 * bytes until the CR, with a deadline per command instead of the original's fixed one-second waits. Every exchange is
 * handed to the capture hook. Read-only queries may be retried after a bad reply; control
 * commands never are (the caller decides).
 */
import type { Clock } from '../../core/clock.js';
import { FrameError, TimeoutError, TransportError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Transport } from '../../transports/transport.js';
import { encodeCommand, replyPayload } from './codec.js';
import { PowerwalkerError } from './errors.js';
import { ReplyFramer } from './framer.js';
import type { CaptureHook } from '../kit/capture.js';
import { realSleep, ReplySlot } from '../kit/reply.js';

export interface LinkOptions {
  device: string;
  transport: Transport;
  clock: Clock;
  log: Logger;
  /** Already safe (kit/capture.ts): a failing archive never fails an exchange. */
  capture?: CaptureHook;
  requestTimeoutMs: number;
}

export class PowerwalkerLink {
  private readonly framer = new ReplyFramer();
  private readonly slot = new ReplySlot<Buffer>();
  private stamp: number | undefined;
  private queue: Promise<void> = Promise.resolve();
  readonly counts = { requests: 0, replies: 0, bad_replies: 0, timeouts: 0, truncated: 0, naks: 0, retries: 0, stray_bytes: 0 };

  constructor(private readonly o: LinkOptions) {
    o.transport.on('data', this.onData);
    o.transport.on('close', this.onClose);
    o.transport.on('error', this.onError);
  }

  /** The next capture record (the first of a poll) carries this time; the poll's points carry it too. */
  stampNext(timeMs: number | undefined): void {
    this.stamp = timeMs;
  }

  /**
   * One command, its reply's payload (after `(`); no retry. Calls queue behind each other,
   * so two requests never share the wire even if a caller forgets the port lock.
   */
  exchange(command: string, signal: AbortSignal): Promise<string> {
    const run = this.queue.then(() => this.exchangeNow(command, signal));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async exchangeNow(command: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const { transport, device, requestTimeoutMs } = this.o;
    if (!transport.isOpen) throw new TransportError(`${transport.key}: port is not open`, true);
    const bytes = encodeCommand(command);
    // Anything still in the framer belongs to an earlier, abandoned request.
    if (this.framer.pending > 0) this.counts.stray_bytes += this.framer.pending;
    this.framer.reset();
    this.counts.requests++;
    this.o.capture?.('tx', bytes, this.stamp ?? this.o.clock.now());
    this.stamp = undefined;

    try {
      const raw = await this.slot.wait(command, () => transport.write(bytes), {
        timeoutMs: requestTimeoutMs,
        signal,
        sleep: realSleep,
        timedOut: () => {
          if (this.framer.pending === 0) {
            this.counts.timeouts++;
            return new TimeoutError(`${device}: no reply to ${command} in ${requestTimeoutMs} ms (device off, wrong port or wrong link?)`);
          }
          this.counts.truncated++;
          return new PowerwalkerError(`${device}: ${command}: half a reply (${this.framer.pending} bytes, no CR) in ${requestTimeoutMs} ms`, device, 'truncated', command);
        },
      });
      this.o.capture?.('rx', Buffer.concat([raw, Buffer.from([0x0d])]), this.o.clock.now());
      const payload = replyPayload(raw, command);
      this.counts.replies++;
      return payload;
    } catch (err) {
      throw this.badReply(command, err);
    }
  }

  /**
   * A read-only query: its reply decoded by `decode`; a malformed, stale or cut-off reply is
   * asked again up to `retries` times (§1.9). Silence and a lost port are not retried.
   */
  async query<T>(command: string, decode: (payload: string) => T, retries: number, signal: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const payload = await this.exchange(command, signal);
        try {
          return decode(payload);
        } catch (err) {
          throw this.badReply(command, err);
        }
      } catch (err) {
        const again = err instanceof PowerwalkerError && (err.reason === 'reply' || err.reason === 'truncated') && attempt < retries;
        if (!again) throw err;
        this.counts.retries++;
        this.o.log.debug({ command, err: errorMessage(err) }, 'powerwalker: asking again');
      }
    }
  }

  /** A control command: ACK resolves, NAK is a PowerwalkerError 'nak'. Never retried. */
  async command(command: string, signal: AbortSignal): Promise<void> {
    const payload = await this.exchange(command, signal);
    if (payload === 'ACK') return;
    if (payload === 'NAK') {
      this.counts.naks++;
      throw new PowerwalkerError(`${this.o.device}: the device refused ${command} (NAK)`, this.o.device, 'nak', command);
    }
    throw this.badReply(command, new FrameError(`${command}: expected ACK or NAK, got ${JSON.stringify(payload)}`, 'unexpected'));
  }

  detach(): void {
    this.o.transport.off('data', this.onData);
    this.o.transport.off('close', this.onClose);
    this.slot.fail(() => new TransportError(`${this.o.transport.key}: session closed`, false));
  }

  private badReply(command: string, err: unknown): Error {
    if (!(err instanceof FrameError)) return err instanceof Error ? err : new Error(String(err));
    this.counts.bad_replies++;
    return new PowerwalkerError(`${this.o.device}: ${err.message}`, this.o.device, 'reply', command, { cause: err });
  }

  private readonly onData = (chunk: Buffer): void => {
    for (const frame of this.framer.push(chunk)) {
      if (!this.slot.offer(frame)) this.counts.stray_bytes += frame.length + 1;
    }
  };

  private readonly onClose = (why?: Error): void => {
    this.framer.reset();
    this.slot.fail(() => (why instanceof TransportError ? why : new TransportError(`${this.o.transport.key}: port closed`, true)));
  };

  // An emitter without an 'error' listener throws; the 'close' that follows is what counts.
  private readonly onError = (err: Error): void => this.o.log.debug({ err: errorMessage(err) }, 'powerwalker: port error');
}
