/**
 * The itho-wpu session. Each collect() is one conversation with pigpiod (link.ts): the node
 * id, serial and datatype list come from the cache db (read from the WPU only when missing,
 * or again when the datalog's length stops matching the datatype widths), then one datalog
 * request, and the counters on every `countersEvery`th poll. Everything is closed at the end
 * of each conversation, as the original did, so a failed poll leaves nothing armed.
 *
 * Sockets: pigpiod needs two connections at once (commands and notifications), so the
 * session does not use ctx.transport's own connection; it asks the transport for two new
 * connections to the same place (Transport.newConnection: a TcpTransport to host:port, or a
 * sim link to the simulator). ctx.transport stays the device's identity and port-lock key.
 */
import { ConfigError, DeviceError, FrameError, errorMessage } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DeviceSession, DriverContext } from '../types.js';
import type { Transport } from '../../transports/transport.js';
import { WpuBus } from './link.js';
import { IdentityCache, type Identity } from './cache.js';
import { decodeSerial, requests } from './codec.js';
import type { IthoWpuOptions } from './config.js';
import { runControl } from './session-control.js';
import { ParameterMap } from './tables-parameter-map.js';
import { countersPoint, datalogPoint, makePlan, type DatalogPlan } from './points.js';
import { safeCapture } from '../kit/capture.js';

export class IthoWpuSession implements DeviceSession {
  private map: ParameterMap | undefined;
  private cache: IdentityCache | undefined;
  private identity: Identity | undefined;
  private plan: DatalogPlan | undefined;
  private polls = 0;
  /** An I²C handle a lost connection left open in pigpiod, closed by the next conversation. */
  private staleI2c: number | undefined;
  private closed = false;
  readonly counts: Record<string, number> = { polls: 0, polls_ok: 0, identity_reads: 0, refreshes: 0, counters_reads: 0, retries: 0, no_reply: 0 };

  constructor(private readonly ctx: DriverContext<IthoWpuOptions>) {}

  async start(): Promise<void> {
    // The files are the configuration's business: said at start, not at the first poll.
    this.openFiles();
  }

  private openFiles(): { map: ParameterMap; cache: IdentityCache } {
    if (this.closed) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
    this.cache ??= this.ctx.readOnly ? IdentityCache.memoryCopy(this.ctx.options.cacheDb, this.ctx.device) : IdentityCache.open(this.ctx.options.cacheDb);
    this.map ??= ParameterMap.open(this.ctx.options.parameterMap);
    this.identity ??= this.cache.get(this.ctx.device);
    return { map: this.map, cache: this.cache };
  }

  /** Two fresh connections to pigpiod (see the header). */
  private links(): [Transport, Transport] {
    const t = this.ctx.transport;
    if (!t.newConnection) throw new ConfigError(`${this.ctx.device}: link ${t.key} cannot open the two connections pigpiod needs`);
    return [t.newConnection(), t.newConnection()];
  }

  async openBus(): Promise<WpuBus> {
    const [command, notification] = this.links();
    const o = this.ctx.options;
    const stale = this.staleI2c;
    this.staleI2c = undefined;
    return WpuBus.open(
      command,
      notification,
      {
        device: this.ctx.device,
        i2cBus: o.i2cBus,
        commandTimeoutMs: o.commandTimeoutMs,
        replyTimeoutMs: o.replyTimeoutMs,
        retries: o.retries,
        retryDelayMs: o.retryDelayMs,
        clock: this.ctx.clock,
        log: this.ctx.log,
        capture: safeCapture(this.ctx, 'itho-wpu'),
        counts: this.counts,
      },
      stale,
    );
  }

  private async closeBus(bus: WpuBus): Promise<void> {
    await bus.close();
    if (bus.leftOpenI2c !== undefined) this.staleI2c = bus.leftOpenI2c;
  }

  /** Node id, serial and datatype list from the WPU, into the cache. */
  async readIdentity(bus: WpuBus, signal: AbortSignal): Promise<Identity> {
    const { cache } = this.openFiles();
    this.counts.identity_reads++;
    const nodeid = await bus.exchange(requests.nodeid(), signal);
    const serial = await bus.exchange(requests.serial(), signal);
    const datatype = await bus.exchange(requests.datatype(), signal);
    const identity: Identity = { nodeid, serial, datatype, updatedMs: this.ctx.clock.now() };
    cache.put(this.ctx.device, identity);
    this.identity = identity;
    this.plan = undefined;
    this.ctx.log.info({ serial: decodeSerial(serial), fields: datatype.length }, 'itho-wpu: node id, serial and datatype list read and cached');
    return identity;
  }

  /** The decoding plan for the cached identity (reading it from the WPU when missing). */
  async ensurePlan(bus: WpuBus, signal: AbortSignal): Promise<DatalogPlan> {
    const { map } = this.openFiles();
    const identity = this.identity ?? (await this.readIdentity(bus, signal));
    this.plan ??= makePlan(map, identity.nodeid, identity.datatype);
    return this.plan;
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.openFiles();
    this.counts.polls++;
    const poll = ++this.polls;
    const every = this.ctx.options.countersEvery;
    const bus = await this.openBus();
    let plan: DatalogPlan;
    let datalog: Buffer;
    let counters: Buffer | undefined;
    try {
      const countersDue = every > 0 && (poll - 1) % every === 0;
      const reads = this.counts.identity_reads!;
      plan = await this.ensurePlan(bus, signal);
      // A new list version with the same datalog length would keep the old labels: the node
      // id is compared with the cache on a session's first poll and on every counters poll.
      if ((poll === 1 || countersDue) && this.counts.identity_reads === reads) {
        const nodeid = await bus.exchange(requests.nodeid(), signal);
        if (!nodeid.equals(this.identity!.nodeid)) {
          this.counts.refreshes++;
          this.ctx.log.warn({ cached: this.identity!.nodeid.toString('hex'), now: nodeid.toString('hex') }, 'itho-wpu: node id changed; reading serial and datatype again');
          await this.readIdentity(bus, signal);
          plan = await this.ensurePlan(bus, signal);
        }
      }
      datalog = await bus.exchange(requests.datalog(), signal);
      if (datalog.length !== plan.layout.length) {
        // A firmware update or another WPU: the cached list no longer describes the datalog.
        this.counts.refreshes++;
        this.ctx.log.warn({ datalog: datalog.length, expected: plan.layout.length }, 'itho-wpu: datalog length does not match the cached datatype list; reading node id and datatype again');
        await this.readIdentity(bus, signal);
        plan = await this.ensurePlan(bus, signal);
        datalog = await bus.exchange(requests.datalog(), signal);
        if (datalog.length !== plan.layout.length) {
          throw new DeviceError(`${this.ctx.device}: datalog of ${datalog.length} bytes, but the WPU's own datatype list needs ${plan.layout.length}`, this.ctx.device);
        }
      }
      if (countersDue) {
        this.counts.counters_reads++;
        counters = await bus.exchange(requests.counters(), signal);
      }
    } finally {
      await this.closeBus(bus);
    }
    const timeMs = bus.firstCaptureMs ?? this.ctx.clock.now();
    const pctx = { device: this.ctx.device, tags: this.ctx.tags };
    let built;
    try {
      built = datalogPoint(plan, datalog, timeMs, pctx);
    } catch (err) {
      if (err instanceof FrameError) throw new DeviceError(`${this.ctx.device}: ${err.message}`, this.ctx.device, { cause: err });
      throw err;
    }
    if (counters) {
      const p = countersPoint(plan, counters, timeMs, pctx);
      if (p) built.points.push(p);
    }
    this.counts.polls_ok++;
    return built.dropped.length > 0 ? { points: built.points, dropped: built.dropped } : { points: built.points };
  }

  async control(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    this.openFiles();
    const bus = await this.openBus();
    try {
      return await runControl(this, bus, request, signal);
    } finally {
      await this.closeBus(bus);
    }
  }

  /** The parameter map (for control: labels of settings and manual operations). */
  get parameterMap(): ParameterMap {
    return this.openFiles().map;
  }

  get device(): string {
    return this.ctx.device;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.map?.close();
      this.cache?.close();
    } catch (err) {
      this.ctx.log.debug({ err: errorMessage(err) }, 'itho-wpu: closing files failed');
    }
    this.map = undefined;
    this.cache = undefined;
  }

  stats(): Record<string, number> {
    return { ...this.counts };
  }
}
