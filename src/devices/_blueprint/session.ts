/**
 * The blueprint session: the port opened on start or at the next poll (kit/port.ts: open-or-
 * defer, reopen, close, one log line per outage of a network link), one request per poll, the
 * poll's t0 on its first capture record and on its points. A poll that got no reply on a
 * network link closes it, so the next poll connects afresh.
 */
import { TimeoutError } from '../../core/errors.js';
import type { CollectResult, DeviceSession, DriverContext } from '../types.js';
import { safeCapture } from '../kit/capture.js';
import { PortKeeper } from '../kit/port.js';
import type { BlueprintOptions } from './config.js';
import { BlueprintLink } from './link.js';
import { readingToPoints } from './points.js';

export class BlueprintSession implements DeviceSession {
  private readonly link: BlueprintLink;
  private readonly port: PortKeeper;
  private readonly counts = { polls: 0 };

  constructor(private readonly ctx: DriverContext<BlueprintOptions>) {
    this.link = new BlueprintLink(ctx.device, ctx.transport, ctx.clock, safeCapture(ctx, 'blueprint'));
    this.port = new PortKeeper(ctx, { name: 'blueprint', link: 'blueprint link' });
  }

  start(): Promise<void> {
    return this.port.start();
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.port.assertOpen();
    this.counts.polls++;
    await this.port.ensureOpen();
    const t0 = this.ctx.clock.now();
    this.link.stampNext(t0);
    try {
      const reading = await this.link.read(this.ctx.options.requestTimeoutMs, signal);
      this.port.up();
      return { points: readingToPoints(reading, this.ctx, t0) };
    } catch (err) {
      if (err instanceof TimeoutError) await this.port.resetSilent('no reply (half-open connection?)');
      throw err;
    } finally {
      this.link.stampNext(undefined);
    }
  }

  close(): Promise<void> {
    return this.port.close(() => this.link.detach());
  }

  stats(): Record<string, number> {
    return { ...this.counts, ...this.port.counts, ...this.link.counts, link_open: this.ctx.transport.isOpen ? 1 : 0 };
  }
}
