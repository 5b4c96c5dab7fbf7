/**
 * The HDHK session: one RS-485 bus, one Modbus client over the injected transport
 * (link.ts: link-rtu.ts or link-mbap.ts), the units polled one after another with a pause between requests and an
 * explicit timeout on every request.
 *
 * - A unit that is silent, answers with an exception, a bad CRC or a cut-off frame costs only
 *   its own points: the poll goes on, the failure is an HdhkUnitError in `lastOutcome` and a
 *   `dropped` entry; only when no unit answered does collect() throw.
 * - Registers 0-2 (firmware, current ranges) are read once per unit after each (re)connect.
 * - A port that went away is reopened at the start of the next poll; until it opens,
 *   collect() throws a retryable TransportError.
 * - On a network link a poll in which every unit timed out closes the connection: a gateway
 *   that rebooted or a relay that froze leaves a connection that looks open (no FIN), and only
 *   a fresh one finds out. Such a link logs once when it goes down and once when it is back.
 */
import { DeviceError, TransportError } from '../../core/errors.js';
import type { Point } from '../../core/point.js';
import type { CollectResult, DeviceSession, DriverContext } from '../types.js';
import { decodeChannels, decodeInfo, type UnitInfo } from './codec.js';
import type { HdhkOptions, HdhkUnitOptions } from './config.js';
import { HdhkUnitError } from './errors.js';
import { phaseSums, unitToPoints, type PointContext, type UnitReading } from './points.js';
import { CURRENT, FREQUENCY, INFO } from './tables.js';
import { TransportMbapPort } from './link-mbap.js';
import type { ModbusPort } from './link.js';
import { TransportRtuPort } from './link-rtu.js';
import { safeCapture } from '../kit/capture.js';
import { describe, PortKeeper } from '../kit/port.js';

export type UnitOutcome = { unit: number; ok: true; reading: UnitReading } | { unit: number; ok: false; error: HdhkUnitError };

// The port is the client (link.ts keeps the part of modbus-serial's interface used here).
type ModbusClient = ModbusPort;

interface ModbusLikeError {
  errno?: string;
  name?: string;
  message?: string;
  modbusCode?: number;
}

export class HdhkSession implements DeviceSession {
  private readonly options: HdhkOptions;
  private readonly port: ModbusPort;
  private clientInstance: ModbusClient | undefined;
  /** Registers 0-2 per unit id since the last connect; null: the unit refused them. */
  private readonly info = new Map<number, UnitInfo | null>();
  private requestsThisPoll = 0;
  /** When this poll's first request went out: every point of the poll carries it. */
  private pollTimeMs: number | undefined;
  /** A capture is configured: its hook sets pollTimeMs (constructor). */
  private readonly capturing: boolean;
  private readonly counts = { polls: 0, units_ok: 0, timeouts: 0, exceptions: 0, crc_errors: 0, truncated: 0, frame_errors: 0 };
  /** Open-or-defer, reopen, close; on a network link one log line per change between answering and not. */
  private readonly keeper: PortKeeper;
  /** Per unit, what the last poll gave (for tests and `wattline devices`). */
  lastOutcome: UnitOutcome[] = [];
  /** One for the session: points.ts makes each series' tags once per context. */
  private readonly pointContext: PointContext;

  constructor(private readonly ctx: DriverContext<HdhkOptions>) {
    this.options = ctx.options;
    this.pointContext = { device: ctx.device, tags: ctx.tags };
    const capture = safeCapture(ctx, 'hdhk');
    this.capturing = capture !== undefined;
    // A Modbus TCP server gets MBAP frames; a serial line or a raw TCP stream RTU frames (with CRC).
    const Port = ctx.transport.framing === 'mbap' ? TransportMbapPort : TransportRtuPort;
    // A poll's points carry the time of its first exchange (the capture rule, types.ts): the
    // capture's own time when there is one; read() takes it otherwise. No hook without a
    // capture, so the Modbus TCP port makes no RTU copies nobody reads.
    this.port = new Port(
      ctx.transport,
      capture &&
        ((dir, data) => {
          const now = ctx.clock.now();
          this.pollTimeMs ??= now;
          capture(dir, data, now);
        }),
    );
    this.keeper = new PortKeeper(ctx, {
      name: 'hdhk',
      link: 'hdhk link',
      open: () => new Promise<void>((resolve, reject) => this.client.open((err?: Error | null) => (err ? reject(err) : resolve()))),
      // Whatever is plugged in when the port comes back is read afresh (registers 0-2).
      onClose: () => this.info.clear(),
    });
  }

  start(): Promise<void> {
    // A missing port is retried on each poll; collect() reports it.
    return this.keeper.start(() => this.connect());
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.keeper.assertOpen();
    this.counts.polls++;
    await this.connect();
    this.requestsThisPoll = 0;
    this.pollTimeMs = undefined;
    const units = this.options.units;
    const outcomes: UnitOutcome[] = [];
    const readings: UnitReading[] = [];
    const failures: HdhkUnitError[] = [];
    // Indexed loops, no flatMap or spread: see codec.ts expectWords.
    for (let i = 0; i < units.length; i++) {
      signal.throwIfAborted();
      const o = await this.pollUnit(units[i]!, signal);
      outcomes.push(o);
      if (o.ok) readings.push(o.reading);
      else failures.push(o.error);
    }
    this.lastOutcome = outcomes;
    for (let i = 0; i < failures.length; i++) {
      const f = failures[i]!;
      this.ctx.log.warn({ unit: f.unit, reason: f.reason }, f.message);
    }
    if (readings.length > 0) this.keeper.up();
    else if (failures.every((f) => f.reason === 'timeout' || f.reason === 'truncated')) await this.keeper.resetSilent('no unit answered (half-open connection?)');
    if (readings.length === 0) {
      const first = failures[0]!;
      if (!this.ctx.transport.isOpen) throw new TransportError(`${this.ctx.transport.key}: port went away during the poll; reopening on the next poll`, true, { cause: first });
      if (failures.length === 1) throw first;
      throw new DeviceError(`${this.ctx.device}: no unit answered (${failures.map((f) => `unit ${f.unit}: ${f.reason}`).join(', ')})`, this.ctx.device, { cause: first });
    }

    const pc = this.pointContext;
    const points: Point[] = [];
    for (let i = 0; i < readings.length; i++) points.push(...unitToPoints(readings[i]!, pc));
    points.push(...phaseSums(readings, pc, this.pollTimeMs ?? this.ctx.clock.now()));
    const result: CollectResult = { points };
    if (failures.length > 0) result.dropped = failures.map((f) => ({ reason: `unit ${f.unit}: ${f.reason}`, count: 1 }));
    return result;
  }

  close(): Promise<void> {
    return this.keeper.close(() => this.port.detach());
  }

  stats(): Record<string, number> {
    return { ...this.counts, ...this.keeper.counts, link_open: this.ctx.transport.isOpen ? 1 : 0 };
  }

  /** The Modbus client over our transport, set up on first use. */
  private get client(): ModbusClient {
    if (!this.clientInstance) throw new DeviceError(`${this.ctx.device}: not connected`, this.ctx.device);
    return this.clientInstance;
  }

  private async connect(): Promise<void> {
    if (!this.clientInstance) {
      const client = this.port;
      client.setTimeout(this.options.requestTimeoutMs);
      // The port re-emits link errors; without a listener an emitter throws.
      (client as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => this.ctx.log.debug({ err: describe(err) }, 'hdhk port error'));
      this.clientInstance = client;
    }
    await this.keeper.ensureOpen();
  }

  private async pollUnit(unit: HdhkUnitOptions, signal: AbortSignal): Promise<UnitOutcome> {
    try {
      if (!this.info.has(unit.id)) {
        try {
          this.info.set(unit.id, decodeInfo(await this.read(unit.id, INFO.start, INFO.count, signal)));
        } catch (err) {
          // A unit that refuses registers 0-2 still reports its currents; anything else is its failure.
          if (!(err instanceof HdhkUnitError && err.reason === 'exception')) throw err;
          this.info.set(unit.id, null);
        }
      }
      const withFrequency = this.options.frequency === 'read';
      // Registers 8-23 and 24-39 are adjacent: one request when the frequencies are wanted.
      const count = withFrequency ? CURRENT.count + FREQUENCY.count : CURRENT.count;
      const words = await this.read(unit.id, CURRENT.start, count, signal);
      const timeMs = this.pollTimeMs ?? this.ctx.clock.now();
      const ratio = (ch: number) => unit.channels[String(ch)]?.ctRatio ?? unit.ctRatio;
      const channels = decodeChannels(words.slice(0, CURRENT.count), ratio, withFrequency ? words.slice(CURRENT.count) : undefined);
      this.counts.units_ok++;
      return { unit: unit.id, ok: true, reading: { unit, info: this.info.get(unit.id) ?? undefined, channels, timeMs } };
    } catch (err) {
      if (err instanceof HdhkUnitError) return { unit: unit.id, ok: false, error: err };
      if (signal.aborted) throw err;
      const e = new HdhkUnitError(`${this.ctx.device}: unit ${unit.id}: ${describe(err)}`, this.ctx.device, unit.id, 'frame', undefined, { cause: err });
      this.counts.frame_errors++;
      return { unit: unit.id, ok: false, error: e };
    }
  }

  /** One FC03 request, after the bus pause; every failure becomes an HdhkUnitError. */
  private async read(unitId: number, start: number, count: number, signal: AbortSignal): Promise<number[]> {
    if (this.requestsThisPoll++ > 0 && this.options.pauseMs > 0) await this.ctx.clock.sleep(this.options.pauseMs, signal);
    signal.throwIfAborted();
    if (!this.capturing) this.pollTimeMs ??= this.ctx.clock.now();
    this.client.setID(unitId);
    this.client.setTimeout(this.options.requestTimeoutMs);
    try {
      const res = await this.client.readHoldingRegisters(start, count, signal);
      if (res.data.length !== count) throw new Error(`expected ${count} registers, got ${res.data.length}`);
      return res.data;
    } catch (err) {
      // Stopped or timed out as a job: the job's reason, not a failure of this unit.
      if (signal.aborted) throw err;
      throw this.unitError(unitId, start, count, err);
    }
  }

  /** Sort the port's errors (link.ts ModbusRequestError) here, once. */
  private unitError(unit: number, start: number, count: number, err: unknown): HdhkUnitError {
    const e = (err ?? {}) as ModbusLikeError;
    const where = `${this.ctx.device}: unit ${unit}, registers ${start}-${start + count - 1}`;
    const mk = (reason: HdhkUnitError['reason'], msg: string, code?: number) => new HdhkUnitError(`${where}: ${msg}`, this.ctx.device, unit, reason, code, { cause: err });
    if (e.errno === 'ETIMEDOUT') {
      if (!this.ctx.transport.isOpen) return mk('port', 'port went away');
      if (this.port.received > 0) {
        this.counts.truncated++;
        return mk('truncated', `truncated reply (${this.port.received} bytes in ${this.options.requestTimeoutMs} ms)`);
      }
      this.counts.timeouts++;
      return mk('timeout', `no reply in ${this.options.requestTimeoutMs} ms (unit absent, wrong id or serial settings?)`);
    }
    if (typeof e.modbusCode === 'number') {
      this.counts.exceptions++;
      return mk('exception', `Modbus exception ${e.modbusCode} (${e.message ?? ''})`, e.modbusCode);
    }
    if (e.name === 'PortNotOpenError') return mk('port', 'port not open');
    if (e.message === 'CRC error') {
      this.counts.crc_errors++;
      return mk('crc', 'reply with a bad CRC');
    }
    this.counts.frame_errors++;
    return mk('frame', describe(err));
  }
}
