/**
 * The VE.Bus session (docs/protocols/victron-vebus.md §3.7, done better, §3.8):
 * - connect: version, address selection, RAM-variable scale/offset (0x36) of every variable
 *   the poll uses, the ESS-assistant scan (step 1 + low nibble, computed correctly);
 * - poll: snapshot trigger (F 06), AC info per phase present (F 01…), DC info (F 00),
 *   snapshot read (X 38, at least snapshotWaitMs after the trigger), LEDs (L), and the ESS
 *   set-point (X 30) when the scan found one. No sleeps between steps: each request waits
 *   for its own reply (or its timeout), so a poll takes the wire time of its frames;
 * - offline: without a complete poll for offlineAfterMs the next poll connects afresh (on a
 *   network link the connection is closed first: a half-open one sends no FIN); a network
 *   link logs once when it goes down and once when it is back (kit/port.ts);
 * - capture: every frame, the poll's first record stamped with the poll's start (t0), which
 *   the points carry too. A poll that does not connect begins with the connection's 0x36
 *   exchanges re-recorded (the same bytes as on connect, stamped t0), so that one poll's
 *   records decode on their own with the device's scales (decodeCapture).
 */
import { DeviceError, FrameError, TimeoutError, errorMessage } from '../../core/errors.js';
import type { CollectResult, ControlRequest, ControlResult, DeviceSession, DriverContext } from '../types.js';
import {
  addressRequest,
  decodeAcInfo,
  decodeAddress,
  decodeRamRead,
  decodeVersion,
  essPowerRequest,
  hex,
  infoRequest,
  ledRequest,
  ramReadRequest,
  snapshotRead,
  snapshotTrigger,
  varInfoRequest,
  versionRequest,
  winmonCode,
  type VersionReply,
} from './codec.js';
import type { VebusOptions } from './config.js';
import type { EssPowerParams } from './control.js';
import { VebusLink } from './link.js';
import { safeCapture } from '../kit/capture.js';
import { PortKeeper } from '../kit/port.js';
import { ESS_ASSISTANT_ID, ESS_ASSISTANT_MASK, LETTERS, SLEEP_FRAME, SNAPSHOT_IDS, VAR_INFO_IDS, WAKEUP_FRAME, WREPLY, type Letter, type VarInfo } from './tables.js';
import { tally, type FieldProblem } from '../problems.js';
import { PollAssembler, readingToPoints, varInfoOrProblem, type VebusReading } from './points.js';

export class VebusSession implements DeviceSession {
  private readonly options: VebusOptions;
  private readonly link: VebusLink;
  private connected = false;
  private infos: Record<number, VarInfo> = {};
  /** This connection's 0x36 requests and replies, re-recorded at the start of each poll. */
  private infoRecords: [Buffer, Buffer][] = [];
  /** Field problems since the last collect's result (a connect's unusable 0x36 answers, this poll's values). */
  private problems: FieldProblem[] = [];
  private essRamId: number | undefined;
  private essScanned = false;
  private letter = 0;
  private lastCompleteMs: number | undefined;
  private connectedAtMs: number | undefined;
  /** Open-or-defer, reopen, close. */
  private readonly port: PortKeeper;
  private lastChecksumErrors = 0;
  private readonly counts = { polls: 0, polls_ok: 0, connects: 0, offline: 0 };
  version: VersionReply | undefined;
  lastReading: VebusReading | undefined;

  constructor(private readonly ctx: DriverContext<VebusOptions>) {
    this.options = ctx.options;
    this.link = new VebusLink(ctx.transport, ctx.clock, safeCapture(ctx, 'vebus'));
    this.link.attach();
    this.port = new PortKeeper(ctx, { name: 'vebus', link: 'vebus link', onClose: () => (this.connected = false) });
    ctx.transport.on('error', this.onError);
  }

  /** The ESS set-point RAM id the scan found (or the configured one). */
  get essSetpointRamId(): number | undefined {
    return this.essRamId;
  }

  start(): Promise<void> {
    return this.port.start(() => this.open());
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.port.assertOpen();
    this.counts.polls++;
    const t0 = this.ctx.clock.now();
    this.link.stampNext(t0);
    const since = Math.max(this.lastCompleteMs ?? -Infinity, this.connectedAtMs ?? -Infinity);
    if (this.connected && t0 - since > this.options.offlineAfterMs) {
      this.counts.offline++;
      this.connected = false;
      const seconds = Math.round((t0 - since) / 1000);
      // A network link that stopped answering may be half-open (no FIN): a fresh connection finds out.
      if (this.port.link && this.ctx.transport.isOpen) await this.port.resetSilent(`no complete poll for ${seconds} s (half-open connection?)`);
      else this.ctx.log.warn({ seconds }, 'vebus offline: no complete poll; connecting afresh');
    }
    let reading: VebusReading;
    try {
      await this.open();
      if (!this.connected) await this.connect(signal);
      else {
        for (const [tx, rx] of this.infoRecords) {
          this.link.record('tx', tx);
          this.link.record('rx', rx);
        }
        await this.scanIfNeeded(signal);
      }
      reading = await this.poll(signal);
    } catch (err) {
      // A reply that decodes to nonsense is the device's failure, not a crash.
      if (err instanceof FrameError) throw new DeviceError(`${this.ctx.device}: ${err.message}`, this.ctx.device, { cause: err });
      throw err;
    } finally {
      this.link.stampNext(undefined); // t0 belongs to this poll only
    }
    this.lastCompleteMs = this.ctx.clock.now();
    this.port.up();
    this.lastReading = reading;
    this.counts.polls_ok++;
    const problems = this.problems;
    this.problems = [];
    const result: CollectResult = { points: readingToPoints(reading, { device: this.ctx.device, tags: this.ctx.tags }, t0, problems) };
    const bad = this.link.framer.counters.checksumErrors - this.lastChecksumErrors;
    this.lastChecksumErrors += bad;
    const dropped = tally(problems);
    for (const p of problems) this.ctx.log.warn({ reason: p.reason, detail: p.detail }, 'vebus: field left out');
    if (bad > 0) dropped.unshift({ reason: 'bad checksum', count: bad });
    if (dropped.length > 0) result.dropped = dropped;
    return result;
  }

  async control(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    this.port.assertOpen();
    await this.open();
    if (request.verb === 'sleep' || request.verb === 'wakeup') {
      // Raw frames as recorded (§3.4); the device answers nothing.
      await this.link.send(Buffer.from(request.verb === 'sleep' ? SLEEP_FRAME : WAKEUP_FRAME));
      return { message: `${this.ctx.device}: ${request.verb} frame sent (no reply is expected)`, data: { verb: request.verb } };
    }
    if (request.verb !== 'ess-power') throw new DeviceError(`${this.ctx.device}: unknown control verb ${request.verb}`, this.ctx.device);
    const { watts } = request.params as EssPowerParams;
    if (!this.connected) await this.connect(signal);
    await this.scanIfNeeded(signal);
    const id = this.essRamId;
    if (id === undefined) {
      const s = this.options.essScan;
      throw new DeviceError(`${this.ctx.device}: no ESS assistant found (scanned RAM ids from ${s.startId}, ${s.maxReads} reads); set options.essSetpointRamId`, this.ctx.device);
    }
    const reply = await this.link.request(essPowerRequest(this.nextLetter(), id, watts), this.options.requestTimeoutMs, signal);
    const code = winmonCode(reply);
    if (code !== WREPLY.ramWriteOk) {
      throw new DeviceError(`${this.ctx.device}: the device refused the ESS set-point write to RAM id ${id} (reply code 0x${hex(code ?? 0)}, expected 0x87)`, this.ctx.device);
    }
    return { message: `${this.ctx.device}: ESS set-point ${watts} W written to RAM id ${id} (RAM only)`, data: { watts, ramId: id } };
  }

  close(): Promise<void> {
    return this.port.close(() => this.link.detach());
  }

  stats(): Record<string, number> {
    const f = this.link.framer.counters;
    return {
      ...this.counts,
      ...this.port.counts,
      frames_ok: f.frames,
      checksum_errors: f.checksumErrors,
      garbage_bytes: f.garbageBytes,
      ...this.link.counters,
      link_open: this.ctx.transport.isOpen ? 1 : 0,
    };
  }

  /** A port opened just now needs version, address and scales again. */
  private async open(): Promise<void> {
    if (await this.port.ensureOpen()) this.connected = false;
  }

  private nextLetter(): Letter {
    const l = LETTERS[(this.letter + 1) % LETTERS.length]!; // X first, then Y, Z, W
    this.letter = (this.letter + 1) % LETTERS.length;
    return l;
  }

  private req(frame: Buffer, signal: AbortSignal) {
    return this.link.request(frame, this.options.requestTimeoutMs, signal);
  }

  /** Version, address, scales, ESS scan. */
  private async connect(signal: AbortSignal): Promise<void> {
    const dev = this.ctx.device;
    this.version = decodeVersion(await this.req(versionRequest(), signal));
    const addr = decodeAddress(await this.req(addressRequest(this.options.address), signal));
    if (addr !== this.options.address) throw new DeviceError(`${dev}: address ${this.options.address} not selected (the interface answered ${addr})`, dev);

    const infos: Record<number, VarInfo> = {};
    const records: [Buffer, Buffer][] = [];
    for (const id of VAR_INFO_IDS) {
      const tx = varInfoRequest(this.nextLetter(), id);
      const rx = await this.req(tx, signal);
      records.push([tx, rx.raw]);
      const info = varInfoOrProblem(id, rx, this.problems);
      if (info) infos[id] = info;
      else this.ctx.log.debug({ id }, 'vebus: RAM variable info not supported or unusable; using the default scale');
    }

    this.infos = infos;
    this.infoRecords = records;
    this.essRamId = this.options.essSetpointRamId;
    this.essScanned = this.essRamId !== undefined;
    this.connected = true;
    this.connectedAtMs = this.ctx.clock.now();
    this.counts.connects++;
    await this.scanIfNeeded(signal);
    // On a network link that was down, LinkState's "back" line says it; this one is for the first connect.
    const level = this.port.link && this.counts.connects > 1 ? 'debug' : 'info';
    this.ctx.log[level]({ version: this.version.version, mode: this.version.mode, essSetpointRamId: this.essRamId ?? null }, 'vebus connected');
  }

  /** The scan once per connection; a scan that timed out is tried again on the next poll, and costs no readings. */
  private async scanIfNeeded(signal: AbortSignal): Promise<void> {
    if (this.essScanned) return;
    try {
      this.essRamId = await this.scanEss(signal);
      this.essScanned = true;
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      this.ctx.log.warn({ err: err.message }, 'vebus: ESS-assistant scan timed out; trying again on the next poll');
    }
  }

  /**
   * ESS-assistant scan (§3.4): from startId, each RAM word is an assistant header (id in the
   * upper 12 bits, the count of RAM ids that follow in the low 4); ESS is id 5, its set-point
   * the next RAM id. The step is 1 + (value & 0xF) (the original's precedence bug made it
   * (1 + value) & 0xF, which sticks at a count of 15).
   */
  private async scanEss(signal: AbortSignal): Promise<number | undefined> {
    let id = this.options.essScan.startId;
    for (let i = 0; i < this.options.essScan.maxReads && id <= 255; i++) {
      const values = decodeRamRead(await this.req(ramReadRequest(this.nextLetter(), id, 0), signal));
      if (!values) return undefined;
      const v = values[0];
      if ((v & ESS_ASSISTANT_MASK) === ESS_ASSISTANT_ID) return id + 1;
      id += 1 + (v & 0x0f);
    }
    return undefined;
  }

  private async poll(signal: AbortSignal): Promise<VebusReading> {
    const asm = new PollAssembler(this.infos);
    const step = async (tx: Buffer) => {
      const rx = await this.req(tx, signal);
      asm.exchange(tx, rx);
      return rx;
    };
    const trigger = snapshotTrigger(SNAPSHOT_IDS);
    await this.link.send(trigger);
    const triggeredAt = this.ctx.clock.now();
    asm.exchange(trigger, undefined);

    const l1 = await step(infoRequest(1));
    const phases = this.options.phases ?? decodeAcInfo(l1).phases ?? 1;
    for (let n = 2; n <= phases; n++) await step(infoRequest(n));
    await step(infoRequest(0));

    const wait = triggeredAt + this.options.snapshotWaitMs - this.ctx.clock.now();
    if (wait > 0) await this.ctx.clock.sleep(wait, signal);
    await step(snapshotRead(this.nextLetter()));
    await step(ledRequest());
    if (this.essRamId !== undefined) await step(ramReadRequest(this.nextLetter(), this.essRamId, 0));
    return asm.reading();
  }

  private readonly onError = (err: Error): void => {
    this.ctx.log.debug({ err: errorMessage(err) }, 'vebus port error');
  };
}
