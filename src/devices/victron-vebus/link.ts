/**
 * Request/reply over the injected transport: every received byte goes through the framer;
 * a frame is a reply only when it matches the one request in flight (by command, info
 * kind, or W/X/Y/Z letter); unsolicited frames (the MK3's idle version frames) and late
 * replies are counted and never taken as a reply. Each request has its own timeout.
 * Every frame sent or received is handed to the capture hook.
 */
import type { Clock } from '../../core/clock.js';
import { TimeoutError, TransportError } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';
import { hexdump, infoKind, isCommand, type VebusFrame } from './codec.js';
import { VebusFramer } from './framer.js';
import type { CaptureHook } from '../kit/capture.js';
import { ReplySlot } from '../kit/reply.js';
import { CMD, INFO_SNAPSHOT, LETTERS, MARKER_COMMAND } from './tables.js';

export interface Expectation {
  /** For messages: `version`, `AC info L2`, `X 38`. */
  what: string;
  matches(f: VebusFrame): boolean;
}

/** What reply a request frame waits for; undefined for frames that get none (`F 06`, the raw sleep/wake frames). */
export function expectationFor(request: Uint8Array): Expectation | undefined {
  if (request.length < 4 || request[1] !== MARKER_COMMAND) return undefined;
  const cmd = request[2]!;
  if (cmd === CMD.version) return { what: 'version', matches: (f) => isCommand(f, CMD.version) };
  if (cmd === CMD.address) return { what: 'address', matches: (f) => isCommand(f, CMD.address) };
  if (cmd === CMD.led) return { what: 'LED status', matches: (f) => isCommand(f, CMD.led) };
  if (cmd === CMD.info) {
    const n = request[3]!;
    if (n === INFO_SNAPSHOT || n > 4) return undefined;
    return { what: n === 0 ? 'DC info' : `AC info L${n}`, matches: (f) => infoKind(f) === n };
  }
  if ((LETTERS as readonly number[]).includes(cmd)) {
    const letter = String.fromCharCode(cmd);
    return { what: `${letter} ${hexdump(request.subarray(3, 4))}`, matches: (f) => isCommand(f, cmd) };
  }
  return undefined;
}

export interface LinkCounters {
  unsolicited_version: number;
  stray_frames: number;
  timeouts: number;
}

export class VebusLink {
  readonly framer = new VebusFramer();
  readonly counters: LinkCounters = { unsolicited_version: 0, stray_frames: 0, timeouts: 0 };
  private readonly slot = new ReplySlot<VebusFrame, Expectation>();
  /** The next capture record's time (the poll's t0), used once. */
  private firstCaptureAt: number | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock,
    private readonly capture: CaptureHook | undefined,
  ) {}

  attach(): void {
    this.transport.on('data', this.onData);
    this.transport.on('close', this.onClose);
  }

  detach(): void {
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
  }

  /** The next capture record carries this time (a poll's t0); later ones the clock's. */
  stampNext(t0: number | undefined): void {
    this.firstCaptureAt = t0;
  }

  /** Record an exchange that was not on the wire now (a re-recorded 0x36 pair, see session.ts). */
  record(direction: 'rx' | 'tx', data: Buffer): void {
    this.capture?.(direction, data, this.stamp());
  }

  /** Send a frame that gets no reply. */
  async send(frame: Buffer): Promise<void> {
    if (!this.transport.isOpen) throw new TransportError(`${this.transport.key}: port not open`, true);
    this.record('tx', frame);
    await this.transport.write(frame);
  }

  /** Send a request and wait up to timeoutMs for its reply. */
  async request(frame: Buffer, timeoutMs: number, signal: AbortSignal): Promise<VebusFrame> {
    const expect = expectationFor(frame);
    if (!expect) throw new RangeError(`request ${hexdump(frame)} gets no reply`);
    return this.slot.wait(expect, () => this.send(frame), {
      timeoutMs,
      signal,
      sleep: (ms, s) => this.clock.sleep(ms, s),
      timedOut: () => {
        this.counters.timeouts++;
        // A half frame in the framer will never complete now.
        this.framer.reset();
        return new TimeoutError(`${this.transport.key}: no ${expect.what} reply in ${timeoutMs} ms`);
      },
    });
  }

  private stamp(): number {
    const t = this.firstCaptureAt ?? this.clock.now();
    this.firstCaptureAt = undefined;
    return t;
  }

  /** The port went away mid-request: say so now rather than after the timeout. */
  private readonly onClose = (): void => {
    this.framer.reset();
    this.slot.fail((expect) => new TransportError(`${this.transport.key}: port closed while waiting for a ${expect.what} reply`, true));
  };

  private readonly onData = (chunk: Buffer): void => {
    for (const ev of this.framer.feed(chunk)) {
      if (ev.kind === 'drop') continue; // counted by the framer
      const f = ev.frame;
      this.capture?.('rx', f.raw, this.stamp());
      if (this.slot.offer(f, (expect) => expect.matches(f))) continue;
      if (isCommand(f, CMD.version)) this.counters.unsolicited_version++;
      else this.counters.stray_frames++;
    }
  };
}
