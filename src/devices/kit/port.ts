/**
 * The lifecycle every request/reply session over one port shares (it was written once per
 * driver): open on start or, when the port is missing, say so once and try again at the next
 * poll; reopen a port that went away at the start of the next poll (counted, logged); refuse
 * work after close; close once. The driver keeps what belongs to one connection (identity,
 * info registers, scales) and forgets it in `onClose`.
 *
 * With `link` set, a network link (tcp://, rfc2217://) gets a LinkState: one warning when it
 * goes down, one line when the device answers again (the session calls `up()`), and `reset()`
 * for a connection that looks open but answers nothing (a gateway that rebooted sends no FIN).
 */
import { ConfigError, DeviceError, TransportError, errorMessage } from '../../core/errors.js';
import { LinkState } from '../../transports/link-state.js';
import { isNetworkLink } from '../../transports/transport.js';
import type { DriverContext } from '../types.js';

export interface PortKeeperOptions {
  /** The log lines' subject: `hdhk` gives "hdhk port did not open; retrying on the next poll". */
  name: string;
  /** What the log lines call the port, when `<name> port` says it badly (`nut-ups: connection to upsd`). */
  port?: string;
  /** A network link's state is kept under this name (`hdhk link`); serial-style log lines without it. */
  link?: string;
  /** Opens the port; the transport's own open() by default (HDHK opens through its Modbus client). */
  open?: () => Promise<void>;
  /** The port closed: forget what belonged to that connection. */
  onClose?: () => void;
}

/** The counters every port session reports in stats(). */
export interface PortCounts {
  reopens: number;
  open_failures: number;
  link_resets: number;
}

type PortContext = Pick<DriverContext<unknown>, 'device' | 'transport' | 'clock' | 'log'>;

export class PortKeeper {
  readonly counts: PortCounts = { reopens: 0, open_failures: 0, link_resets: 0 };
  /** Network links with `link` set only. */
  readonly link: LinkState | undefined;
  private everOpen = false;
  private closedFlag = false;

  constructor(
    private readonly ctx: PortContext,
    private readonly o: PortKeeperOptions,
  ) {
    this.link = o.link && isNetworkLink(ctx.transport) ? new LinkState(ctx.log, o.link) : undefined;
    ctx.transport.on('close', this.onClose);
  }

  private get port(): string {
    return this.o.port ?? `${this.o.name} port`;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Throws once close() has run: a session is not brought back. */
  assertOpen(): void {
    if (this.closedFlag) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
  }

  /**
   * DeviceSession.start(): open now, or log why not and leave it to the next poll (a missing
   * USB adapter is not a reason to stop the worker); only a port that can never open throws.
   */
  async start(connect: () => Promise<unknown> = () => this.ensureOpen()): Promise<void> {
    this.assertOpen();
    try {
      await connect();
    } catch (err) {
      if (err instanceof TransportError && !err.retryable) throw err;
      this.ctx.log.warn({ err: errorMessage(err) }, `${this.port} did not open; retrying on the next poll`);
    }
  }

  /** Opens the port unless it is open; true when it was opened just now. A failure is a retryable TransportError. */
  async ensureOpen(): Promise<boolean> {
    const t = this.ctx.transport;
    if (t.isOpen) return false;
    this.link?.attempt();
    try {
      await (this.o.open ? this.o.open() : t.open());
    } catch (err) {
      this.counts.open_failures++;
      this.link?.down(this.ctx.clock.now(), describe(err), { port: t.key });
      if (err instanceof TransportError || err instanceof ConfigError) throw err;
      throw new TransportError(`${t.key}: cannot open: ${describe(err)}`, true, { cause: err });
    }
    if (this.everOpen) {
      this.counts.reopens++;
      // A network link says it is back when the device answers (up()), not on connect.
      if (this.link) this.ctx.log.debug({ port: t.key }, `${this.o.link} reconnected`);
      else this.ctx.log.info({ port: t.key }, `${this.port} reopened`);
    }
    this.everOpen = true;
    return true;
  }

  /** The device answered: a link that was down logs that it is back. */
  up(): void {
    this.link?.up(this.ctx.clock.now(), { port: this.ctx.transport.key });
  }

  /**
   * A poll got no answer at all on a connection that looks open: on a network link, close it
   * (counted) so the next poll connects afresh. Serial ports are left alone.
   */
  async resetSilent(reason: string): Promise<void> {
    if (!this.link || !this.ctx.transport.isOpen) return;
    this.counts.link_resets++;
    await this.link.reset(this.ctx.transport, this.ctx.clock.now(), reason);
  }

  /** Close once; `detach` unhooks the driver's link from the transport first. */
  async close(detach?: () => void): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const t = this.ctx.transport;
    t.off('close', this.onClose);
    detach?.();
    // Keep an 'error' listener: a late error of a closing port must not throw.
    t.on('error', () => undefined);
    await t.close().catch((err: unknown) => this.ctx.log.debug({ err: errorMessage(err) }, `${this.port} close failed`));
  }

  private readonly onClose = (): void => {
    this.o.onClose?.();
    if (this.closedFlag || this.link?.resetting) return;
    if (this.link) this.link.down(this.ctx.clock.now(), 'connection closed', { port: this.ctx.transport.key });
    else this.ctx.log.warn({ port: this.ctx.transport.key }, `${this.port} closed; reopening on the next poll`);
  };
}

/** Some libraries (modbus-serial) reject with plain objects that carry a message. */
export function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
