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
import { ConfigError, TransportError, errorMessage } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DeviceSession, DriverContext } from '../types.js';
import { PowerwalkerError } from './errors.js';
import { PowerwalkerLink } from './link.js';
import { decodeProtocolId } from './codec.js';
import { LinkState } from '../../transports/link-state.js';
import { isNetworkLink } from '../../transports/transport.js';

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
  private closed = false;
  private everOpen = false;
  protected readonly counts = { polls: 0, reopens: 0, open_failures: 0, link_resets: 0 };
  /** Network links only: one log line per change between answering and not. */
  private readonly linkState: LinkState | undefined;
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
      capture: ctx.capture,
      requestTimeoutMs: ctx.options.requestTimeoutMs,
    });
    ctx.transport.on('close', this.onClose);
    this.linkState = isNetworkLink(ctx.transport) ? new LinkState(ctx.log, 'powerwalker link') : undefined;
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      if (err instanceof TransportError && !err.retryable) throw err;
      this.ctx.log.warn({ err: errorMessage(err) }, 'powerwalker port did not open; retrying on the next poll');
    }
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
      this.linkState?.up(this.ctx.clock.now(), { port: this.ctx.transport.key });
      return result;
    } catch (err) {
      if (this.linkState && this.framesIn() === frames && this.ctx.transport.isOpen) {
        this.counts.link_resets++;
        await this.linkState.reset(this.ctx.transport, this.ctx.clock.now(), 'no reply (half-open connection?)');
      }
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.transport.off('close', this.onClose);
    this.link.detach();
    await this.ctx.transport.close().catch((err: unknown) => this.ctx.log.debug({ err: errorMessage(err) }, 'powerwalker port close failed'));
  }

  stats(): Record<string, number> {
    return { ...this.counts, ...this.link.counts, link_open: this.ctx.transport.isOpen ? 1 : 0 };
  }

  /** Port open and QPI checked; returns the protocol id when QPI was asked just now. */
  private async ready(signal: AbortSignal): Promise<string | undefined> {
    if (this.closed) throw new PowerwalkerError(`${this.ctx.device}: session is closed`, this.ctx.device, 'identity', '');
    await this.open();
    if (this.identified) return undefined;
    const id = await this.link.query('QPI', decodeProtocolId, this.ctx.options.retries, signal);
    if (id !== this.expected) {
      const mine = FAMILY[this.expected]!;
      const other = FAMILY[id];
      const what = other ? `a ${other.label} (protocol ${id}); use driver ${other.driver}` : `protocol ${id}, which wattline does not know`;
      throw new PowerwalkerError(`${this.ctx.device}: refusing to talk to this device: driver ${mine.driver} expects a ${mine.label} (protocol ${this.expected}), but ${this.ctx.transport.key} answers as ${what}`, this.ctx.device, 'identity', 'QPI');
    }
    this.identified = true;
    return id;
  }

  private async open(): Promise<void> {
    if (this.ctx.transport.isOpen) return;
    try {
      await this.ctx.transport.open();
    } catch (err) {
      this.counts.open_failures++;
      this.linkState?.down(this.ctx.clock.now(), errorMessage(err), { port: this.ctx.transport.key });
      if (err instanceof TransportError || err instanceof ConfigError) throw err;
      throw new TransportError(`${this.ctx.transport.key}: cannot open: ${errorMessage(err)}`, true, { cause: err });
    }
    if (this.everOpen) {
      this.counts.reopens++;
      // A network link says it is back when the device answers (LinkState), not on connect.
      this.ctx.log[this.linkState ? 'debug' : 'info']({ port: this.ctx.transport.key }, 'powerwalker port reopened');
    }
    this.everOpen = true;
  }

  private readonly onClose = (): void => {
    // Whatever is plugged in when the port comes back is identified afresh.
    this.identified = false;
    this.infoPending = true;
    if (this.closed || this.linkState?.resetting) return;
    if (this.linkState) this.linkState.down(this.ctx.clock.now(), 'connection closed', { port: this.ctx.transport.key });
    else this.ctx.log.warn({ port: this.ctx.transport.key }, 'powerwalker port closed; reopening on the next poll');
  };
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
