/**
 * What the PDU and ATS sessions share: the port opened on start (a missing port is retried
 * on every poll), the protocol id checked with `QPI` once per connection before anything
 * else is sent (a PDU driver refuses an ATS and the other way round, before a control
 * command could reach the wrong device), the info commands read on the first poll of each
 * connection, one t0 per poll (the first capture record's time and every point's time).
 * On a network link a poll that got no reply at all closes the connection: a gateway that
 * rebooted or a relay that froze leaves one that looks open (no FIN); the next poll connects
 * afresh, and the link logs once when it goes down and once when it answers again.
 */
import type { CollectResult, ControlRequest, ControlResult, DeviceSession, DriverContext } from '../types.js';
import { PowerwalkerError } from './errors.js';
import { PowerwalkerLink } from './link.js';
import { decodeProtocolId } from './codec.js';
import { safeCapture } from '../kit/capture.js';
import { PortKeeper } from '../kit/port.js';

export interface PowerwalkerCommonOptions {
  requestTimeoutMs: number;
  retries: number;
}

/** Protocol ids the family uses (§1.7), and which driver reads each. */
export const FAMILY: Record<string, { label: string; driver: string }> = {
  PI90: { label: 'PowerWalker PDU', driver: 'powerwalker-pdu' },
  PI97: { label: 'PowerWalker ATS', driver: 'powerwalker-ats' },
};

export abstract class PowerwalkerSession<O extends PowerwalkerCommonOptions> implements DeviceSession {
  protected readonly link: PowerwalkerLink;
  private identified = false;
  private infoPending = true;
  protected readonly counts = { polls: 0 };
  /** Open-or-defer, reopen, close; on a network link one log line per change between answering and not. */
  private readonly port: PortKeeper;
  /** The commands the last poll had to drop, with why (for tests and `wattline devices`). */
  lastFailures: PowerwalkerError[] = [];

  constructor(
    protected readonly ctx: DriverContext<O>,
    private readonly expected: 'PI90' | 'PI97',
  ) {
    this.link = new PowerwalkerLink({
      device: ctx.device,
      transport: ctx.transport,
      clock: ctx.clock,
      log: ctx.log,
      capture: safeCapture(ctx, 'powerwalker'),
      requestTimeoutMs: ctx.options.requestTimeoutMs,
    });
    this.port = new PortKeeper(ctx, {
      name: 'powerwalker',
      link: 'powerwalker link',
      // Whatever is plugged in when the port comes back is identified afresh.
      onClose: () => {
        this.identified = false;
        this.infoPending = true;
      },
    });
  }

  start(): Promise<void> {
    return this.port.start();
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.counts.polls++;
    const t0 = this.ctx.clock.now();
    this.link.stampNext(t0);
    const frames = this.framesIn();
    try {
      const protocol = await this.ready(signal);
      const withInfo = this.infoPending;
      this.infoPending = false;
      this.lastFailures = [];
      const result = await this.poll(signal, t0, withInfo, protocol);
      this.port.up();
      return result;
    } catch (err) {
      if (this.framesIn() === frames) await this.port.resetSilent('no reply (half-open connection?)');
      throw err;
    }
  }

  /** Whole frames received (good, NAK or bad): any of them shows the far end is there. */
  private framesIn(): number {
    const c = this.link.counts;
    return c.replies + c.naks + c.bad_replies;
  }

  async control(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    // A poll that failed before its first exchange left its time behind; not ours.
    this.link.stampNext(undefined);
    await this.ready(signal);
    return this.runControl(request, signal);
  }

  /**
   * One poll; `withInfo`: first poll of this connection, read the info commands too;
   * `protocol`: the QPI answer when it was asked in this poll (its capture records belong to it).
   */
  protected abstract poll(signal: AbortSignal, t0: number, withInfo: boolean, protocol?: string): Promise<CollectResult>;
  protected abstract runControl(request: ControlRequest, signal: AbortSignal): Promise<ControlResult>;

  close(): Promise<void> {
    return this.port.close(() => this.link.detach());
  }

  stats(): Record<string, number> {
    return { ...this.counts, ...this.port.counts, ...this.link.counts, link_open: this.ctx.transport.isOpen ? 1 : 0 };
  }

  /** Port open and QPI checked; returns the protocol id when QPI was asked just now. */
  private async ready(signal: AbortSignal): Promise<string | undefined> {
    if (this.port.closed) throw new PowerwalkerError(`${this.ctx.device}: session is closed`, this.ctx.device, 'identity', '');
    await this.port.ensureOpen();
    if (this.identified) return undefined;
    const id = await this.link.query('QPI', decodeProtocolId, this.ctx.options.retries, signal);
    if (id !== this.expected) {
      const mine = FAMILY[this.expected]!;
      const other = FAMILY[id];
      const what = other ? `a ${other.label} (protocol ${id}); use driver ${other.driver}` : `protocol ${id}, which wattline does not know`;
      throw new PowerwalkerError(
        `${this.ctx.device}: refusing to talk to this device: driver ${mine.driver} expects a ${mine.label} (protocol ${this.expected}), but ${this.ctx.transport.key} answers as ${what}`,
        this.ctx.device,
        'identity',
        'QPI',
      );
    }
    this.identified = true;
    return id;
  }
}

/**
 * Read the replies of a poll one after another. A malformed reply (after its retries) costs
 * only that command (a `dropped` entry); silence or a lost port ends the poll, since the
 * next commands would wait just as long for nothing.
 */
export async function readAll<K extends string>(
  link: PowerwalkerLink,
  commands: readonly { key: K; command: string; decode: (payload: string) => unknown }[],
  retries: number,
  signal: AbortSignal,
): Promise<{ values: Partial<Record<K, unknown>>; failures: PowerwalkerError[] }> {
  const values: Partial<Record<K, unknown>> = {};
  const failures: PowerwalkerError[] = [];
  for (const c of commands) {
    try {
      values[c.key] = await link.query(c.command, c.decode, retries, signal);
    } catch (err) {
      if (err instanceof PowerwalkerError && err.reason !== 'identity') failures.push(err);
      else throw err;
    }
  }
  return { values, failures };
}
