/**
 * The P1 session: the meter pushes a telegram every 1-10 s, so the port stays open, every
 * chunk goes through the framer, and `collect()` hands over what arrived since the last call
 * (the newest telegram, or all of them in mode 'every').
 *
 * The link is the session's to keep alive: when the transport closes (USB cable pulled,
 * PTY gone) it is reopened with a doubling back-off on the injected clock. A network link
 * (tcp://, rfc2217://) is also closed and reopened when it goes quiet for reconnectQuietMs
 * (a reader that rebooted leaves a connection that looks open); its back-off is jittered and
 * it logs once when it goes down and once when telegrams are back. Nothing thrown
 * inside the event handlers escapes them; problems become counters and log lines, and a
 * collection that has nothing to hand over says why with a typed error.
 */
import type { Point } from '../../core/point.js';
import { Backoff } from '../../core/backoff.js';
import { LinkState } from '../../transports/link-state.js';
import { isNetworkLink } from '../../transports/transport.js';
import { DeviceError, TransportError, errorMessage } from '../../core/errors.js';
import type { CollectResult, DeviceSession, DriverContext } from '../types.js';
import { decodeTelegram, type Telegram } from './codec.js';
import type { P1Options } from './config.js';
import { P1Framer, type FramerEvent } from './framer.js';
import type { FieldProblem } from '../problems.js';
import { telegramToPoints } from './points.js';

interface Received {
  telegram: Telegram;
  receivedAtMs: number;
}

const DROP_REASONS: Record<string, string> = {
  crc: 'bad CRC',
  truncated: 'truncated telegram',
  oversize: 'oversize telegram',
  malformed: 'malformed telegram end',
};

export class P1Session implements DeviceSession {
  private readonly framer: P1Framer;
  private readonly options: P1Options;
  private latest: Received | undefined;
  private queue: Received[] = [];
  private startedAtMs: number | undefined;
  private lastGoodAtMs: number | undefined;
  private lastLinkError: string | undefined;
  private closed = false;
  private reopening = false;
  private listening = false;
  private readonly abort = new AbortController();
  private readonly counts = { parseErrors: 0, unknownObis: 0, queueOverflow: 0, reopens: 0, reopenFailures: 0, quietReconnects: 0 };
  /** Network links only: the quiet watch and one log line per change of state. */
  private readonly link: LinkState | undefined;
  /** Last byte (or open) on the link, and the gap between the last two good telegrams. */
  private lastByteAtMs: number | undefined;
  private telegramGapMs: number | undefined;
  private watching = false;
  /** Drops since the previous collect(), by reason, for CollectResult.dropped. */
  private drops = new Map<string, number>();

  constructor(private readonly ctx: DriverContext<P1Options>) {
    this.options = ctx.options;
    this.framer = new P1Framer(ctx.options.maxTelegramBytes);
    this.link = isNetworkLink(ctx.transport) ? new LinkState(ctx.log, 'P1 link') : undefined;
  }

  async start(): Promise<void> {
    if (this.closed) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
    const t = this.ctx.transport;
    if (!this.listening) {
      t.on('data', this.onData);
      t.on('close', this.onClose);
      t.on('error', this.onError);
      this.listening = true;
    }
    this.startedAtMs ??= this.ctx.clock.now();
    if (this.link && !this.watching) {
      this.watching = true;
      void this.watchQuiet();
    }
    if (t.isOpen) return;
    try {
      await t.open();
      this.lastByteAtMs = this.ctx.clock.now();
    } catch (err) {
      // A missing port is this device's problem for now: keep trying in the background and
      // let collect() report it; a port that can never work is thrown to the caller.
      if (err instanceof TransportError && !err.retryable) throw err;
      this.lastLinkError = errorMessage(err);
      this.ctx.log.warn({ err: this.lastLinkError }, 'P1 port did not open; retrying in the background');
      this.scheduleReopen();
    }
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    const now = this.ctx.clock.now();

    let items: Received[] = [];
    if (this.options.mode === 'latest') {
      if (this.latest) items = [this.latest];
      this.latest = undefined;
    } else {
      items = this.queue;
      this.queue = [];
    }
    const points: Point[] = [];
    for (const r of items) points.push(...this.toPoints(r));
    const dropped = [...this.drops].map(([reason, count]) => ({ reason, count }));
    this.drops = new Map();
    if (items.length > 0) return dropped.length > 0 ? { points, dropped } : { points };

    const t = this.ctx.transport;
    if (!t.isOpen) {
      throw new TransportError(`${t.key}: port not open (${this.lastLinkError ?? 'closed'})${this.ctx.oneShot ? '' : '; reopening by itself'}`, true);
    }
    const since = this.lastGoodAtMs ?? this.startedAtMs ?? now;
    if (now - since >= this.options.staleAfterMs) {
      throw new DeviceError(`${this.ctx.device}: no good telegram for ${Math.round((now - since) / 1000)} s${this.hint()}`, this.ctx.device);
    }
    return dropped.length > 0 ? { points: [], dropped } : { points: [] };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const t = this.ctx.transport;
    t.off('data', this.onData);
    t.off('close', this.onClose);
    // The 'error' listener stays: an emitter without one throws on a late error.
    await t.close().catch((err: unknown) => this.ctx.log.debug({ err: errorMessage(err) }, 'P1 port close failed'));
  }

  stats(): Record<string, number> {
    const f = this.framer.counters;
    return {
      telegrams_ok: f.telegrams,
      crc_errors: f.crcErrors,
      garbage_bytes: f.garbageBytes,
      oversize: f.oversize,
      truncated: f.truncated,
      malformed: f.malformed,
      parse_errors: this.counts.parseErrors,
      unknown_obis: this.counts.unknownObis,
      queue_overflow: this.counts.queueOverflow,
      reopens: this.counts.reopens,
      quiet_reconnects: this.counts.quietReconnects,
      reopen_failures: this.counts.reopenFailures,
      link_open: this.ctx.transport.isOpen ? 1 : 0,
    };
  }

  private toPoints(r: Received): Point[] {
    const { device, tags } = this.ctx;
    const problems: FieldProblem[] = [];
    const points = telegramToPoints(r.telegram, { device, tags, options: this.options, receivedAtMs: r.receivedAtMs, problems });
    for (const p of problems) {
      this.countDrop(p.reason, 1);
      this.ctx.log.warn({ reason: p.reason, detail: p.detail }, 'P1 meter clock not believed');
    }
    return points;
  }

  /** Why there may be no telegrams: garbage with no telegrams usually means wrong serial settings. */
  private hint(): string {
    const f = this.framer.counters;
    const seen: string[] = [];
    if (f.crcErrors) seen.push(`${f.crcErrors} CRC errors`);
    if (f.garbageBytes) seen.push(`${f.garbageBytes} garbage bytes`);
    if (f.truncated) seen.push(`${f.truncated} truncated`);
    if (f.oversize) seen.push(`${f.oversize} oversize`);
    if (seen.length === 0) return ' (nothing received: is the cable in, and RTS/data request powered?)';
    const serial = f.telegrams === 0 && f.garbageBytes > 0 ? '; check the serial settings (DSMR 2.2/3: 9600 7E1, 4/5: 115200 8N1)' : '';
    return ` (so far: ${seen.join(', ')}${serial})`;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.lastByteAtMs = this.ctx.clock.now();
    try {
      for (const ev of this.framer.feed(chunk)) this.handle(ev);
    } catch (err) {
      this.ctx.log.error({ err: errorMessage(err) }, 'P1 data handler failed');
    }
  };

  private handle(ev: FramerEvent): void {
    if (ev.kind === 'drop') {
      this.countDrop(DROP_REASONS[ev.reason], 1);
      this.ctx.log.debug({ reason: ev.reason, detail: ev.detail }, 'P1 telegram dropped');
      return;
    }
    const now = this.ctx.clock.now();
    const telegram = decodeTelegram(ev.text, { timezone: this.options.timezone });
    this.counts.unknownObis += telegram.unknown;
    if (telegram.errors.length > 0) {
      this.counts.parseErrors += telegram.errors.length;
      this.countDrop('unparsable line', telegram.errors.length);
      this.ctx.log.debug({ errors: telegram.errors }, 'P1 telegram lines not decoded');
    }
    try {
      this.ctx.capture?.('rx', ev.text, now);
    } catch (err) {
      this.ctx.log.warn({ err: errorMessage(err) }, 'P1 capture failed');
    }
    if (this.lastGoodAtMs !== undefined) this.telegramGapMs = now - this.lastGoodAtMs;
    this.lastGoodAtMs = now;
    this.link?.up(now, { port: this.ctx.transport.key });
    const r = { telegram, receivedAtMs: now };
    if (this.options.mode === 'latest') {
      this.latest = r;
      return;
    }
    this.queue.push(r);
    if (this.queue.length > this.options.queueLimit) {
      this.queue.shift();
      this.counts.queueOverflow++;
      this.countDrop('queue overflow', 1);
    }
  }

  private countDrop(reason: string, n: number): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
  }

  private readonly onClose = (err?: Error): void => {
    if (this.closed) return;
    this.lastLinkError = err ? errorMessage(err) : 'port closed';
    if (this.link) this.link.down(this.ctx.clock.now(), this.lastLinkError, { port: this.ctx.transport.key });
    else this.ctx.log.warn({ err: this.lastLinkError }, 'P1 port closed; reopening');
    this.framer.reset();
    this.scheduleReopen();
  };

  private readonly onError = (err: Error): void => {
    if (this.closed) return;
    this.lastLinkError = errorMessage(err);
    this.ctx.log.warn({ err: this.lastLinkError }, 'P1 port error');
    if (!this.ctx.transport.isOpen) this.scheduleReopen();
  };

  private scheduleReopen(): void {
    if (this.closed || this.reopening) return;
    this.reopening = true;
    this.reopenLoop()
      .catch((err: unknown) => this.ctx.log.error({ err: errorMessage(err) }, 'P1 reopen loop failed'))
      .finally(() => {
        this.reopening = false;
        // Closed again while we were opening: go round once more.
        if (!this.closed && !this.ctx.transport.isOpen) this.scheduleReopen();
      });
  }

  private async reopenLoop(): Promise<void> {
    const t = this.ctx.transport;
    // Jitter on network links: meters behind one reader or gateway do not reconnect in step.
    const backoff = new Backoff(this.options.reopenMinMs, this.options.reopenMaxMs, this.link ? 0.5 : 0);
    let delay = backoff.next();
    while (!this.closed && !t.isOpen) {
      try {
        await this.ctx.clock.sleep(delay, this.abort.signal);
      } catch {
        return; // closed while waiting
      }
      if (this.closed || t.isOpen) return;
      this.link?.attempt();
      try {
        await t.open();
        this.counts.reopens++;
        this.lastLinkError = undefined;
        this.lastByteAtMs = this.ctx.clock.now();
        // A network link says it is back with its first telegram (LinkState).
        this.ctx.log[this.link ? 'debug' : 'info']({ port: t.key }, 'P1 port reopened');
        return;
      } catch (err) {
        this.counts.reopenFailures++;
        this.lastLinkError = errorMessage(err);
        delay = backoff.next();
        this.ctx.log.debug({ err: this.lastLinkError, retryInMs: delay }, 'P1 port reopen failed');
      }
    }
  }

  /** 3x the telegram interval (1-10 s as measured; 10 s until two telegrams), or the option. */
  private quietLimitMs(): number {
    return this.options.reconnectQuietMs ?? 3 * Math.min(10_000, Math.max(1000, this.telegramGapMs ?? 10_000));
  }

  /** Network links: a connection with no byte for quietLimitMs() is closed; onClose reopens it. */
  private async watchQuiet(): Promise<void> {
    const t = this.ctx.transport;
    while (!this.closed) {
      try {
        await this.ctx.clock.sleep(1000, this.abort.signal);
      } catch {
        return; // closed
      }
      const quietMs = this.ctx.clock.now() - (this.lastByteAtMs ?? this.ctx.clock.now());
      if (!t.isOpen || this.reopening || quietMs < this.quietLimitMs()) continue;
      this.counts.quietReconnects++;
      this.lastByteAtMs = undefined;
      this.link!.down(this.ctx.clock.now(), `no data for ${Math.round(quietMs / 1000)} s`, { port: t.key });
      await t.close().catch((err: unknown) => this.ctx.log.debug({ err: errorMessage(err) }, 'P1 link close failed'));
    }
  }
}
