/**
 * The VE.Bus session (protocols.md §3.7, done better, §3.8):
 * - connect: version, address selection, RAM-variable scale/offset (0x36) of every variable
 *   the poll uses, the ESS-assistant scan (step 1 + low nibble, computed correctly);
 * - poll: snapshot trigger (F 06), AC info per phase present (F 01…), DC info (F 00),
 *   snapshot read (X 38, at least snapshotWaitMs after the trigger), LEDs (L), and the ESS
 *   set-point (X 30) when the scan found one. No sleeps between steps: each request waits
 *   for its own reply (or its timeout), so a poll takes the wire time of its frames;
 * - offline: without a complete poll for offlineAfterMs the next poll connects afresh;
 * - capture: every frame, the poll's first record stamped with the poll's start (t0), which
 *   the points carry too. A poll that does not connect begins with the connection's 0x36
 *   exchanges re-recorded (the same bytes as on connect, stamped t0), so that one poll's
 *   records decode on their own with the device's scales (decodeCapture).
 */
import { DeviceError, FrameError, TimeoutError, TransportError, errorMessage } from '../../core/errors.js';
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
import { ESS_ASSISTANT_ID, ESS_ASSISTANT_MASK, LETTERS, SLEEP_FRAME, SNAPSHOT_IDS, VAR_INFO_IDS, WAKEUP_FRAME, WREPLY, type Letter, type VarInfo } from './protocol.js';
import { tally, type FieldProblem } from '../problems.js';
import { LinkState } from '../../transports/link-state.js';
import { isNetworkLink } from '../../transports/transport.js';
import { PollAssembler, readingToPoints, varInfoOrProblem, type VebusReading } from './reading.js';

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
  private closed = false;
  private lastChecksumErrors = 0;
  private readonly counts = { polls: 0, polls_ok: 0, connects: 0, offline: 0, reopens: 0, open_failures: 0, link_resets: 0 };
  /** Network links only: one log line per change between answering and not (like hdhk, powerwalker). */
  private readonly linkState: LinkState | undefined;
  private everOpen = false;
  version: VersionReply | undefined;
  lastReading: VebusReading | undefined;

  constructor(private readonly ctx: DriverContext<VebusOptions>) {
    this.options = ctx.options;
    const capture = ctx.capture;
    this.link = new VebusLink(
      ctx.transport,
      ctx.clock,
      capture
        ? (dir, data, t) => {
            try {
              capture(dir, data, t);
            } catch (err) {
              ctx.log.warn({ err: errorMessage(err) }, 'vebus capture failed');
            }
          }
        : undefined,
    );
    this.link.attach();
    ctx.transport.on('close', this.onClose);
    ctx.transport.on('error', this.onError);
    this.linkState = isNetworkLink(ctx.transport) ? new LinkState(ctx.log, 'vebus link') : undefined;
  }

  /** The ESS set-point RAM id the scan found (or the configured one). */
  get essSetpointRamId(): number | undefined {
    return this.essRamId;
  }

  async start(): Promise<void> {
    if (this.closed) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
    try {
      await this.open();
    } catch (err) {
      if (err instanceof TransportError && !err.retryable) throw err;
      this.ctx.log.warn({ err: errorMessage(err) }, 'vebus port did not open; retrying on the next poll');
    }
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    if (this.closed) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
    this.counts.polls++;
    const t0 = this.ctx.clock.now();
    this.link.stampNext(t0);
    const since = Math.max(this.lastCompleteMs ?? -Infinity, this.connectedAtMs ?? -Infinity);
    if (this.connected && t0 - since > this.options.offlineAfterMs) {
      this.counts.offline++;
      this.connected = false;
      const seconds = Math.round((t0 - since) / 1000);
      // A network link that stopped answering may be half-open (no FIN): a fresh connection finds out.
      if (this.linkState && this.ctx.transport.isOpen) {
        this.counts.link_resets++;
        await this.linkState.reset(this.ctx.transport, t0, `no complete poll for ${seconds} s (half-open connection?)`);
      } else this.ctx.log.warn({ seconds }, 'vebus offline: no complete poll; connecting afresh');
    }
    let reading: VebusReading;
    try {
      await this.open();
      if (!this.connected) await this.connect(signal);
      else {
        for (const [tx, rx] of this.infoRecords) (this.link.record('tx', tx), this.link.record('rx', rx));
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
    this.linkState?.up(this.lastCompleteMs, { port: this.ctx.transport.key });
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
    if (this.closed) throw new DeviceError(`${this.ctx.device}: session is closed`, this.ctx.device);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link.detach();
    this.ctx.transport.off('close', this.onClose);
    await this.ctx.transport.close().catch((err: unknown) => this.ctx.log.debug({ err: errorMessage(err) }, 'vebus port close failed'));
  }

  stats(): Record<string, number> {
    const f = this.link.framer.counters;
    return {
      ...this.counts,
      frames_ok: f.frames,
      checksum_errors: f.checksumErrors,
      garbage_bytes: f.garbageBytes,
      ...this.link.counters,
      link_open: this.ctx.transport.isOpen ? 1 : 0,
    };
  }

  private async open(): Promise<void> {
    const t = this.ctx.transport;
    if (t.isOpen) return;
    this.connected = false;
    this.linkState?.attempt();
    try {
      await t.open();
    } catch (err) {
      this.counts.open_failures++;
      this.linkState?.down(this.ctx.clock.now(), errorMessage(err), { port: t.key });
      if (err instanceof TransportError) throw err;
      throw new TransportError(`${t.key}: cannot open: ${errorMessage(err)}`, true, { cause: err });
    }
    if (this.everOpen) this.counts.reopens++;
    this.everOpen = true;
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
    const level = this.linkState && this.counts.connects > 1 ? 'debug' : 'info';
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

  private readonly onClose = (): void => {
    this.connected = false;
    if (this.closed || this.linkState?.resetting) return;
    if (this.linkState) this.linkState.down(this.ctx.clock.now(), 'connection closed', { port: this.ctx.transport.key });
    else this.ctx.log.warn({ port: this.ctx.transport.key }, 'vebus port closed; reopening on the next poll');
  };

  private readonly onError = (err: Error): void => {
    this.ctx.log.debug({ err: errorMessage(err) }, 'vebus port error');
  };
}
