/**
 * The nut-ups session: one upsd connection over the injected transport (TCP, or a sim
 * link in the demo and the unit tests), one request at a time, a deadline on every reply.
 *
 * - On (re)connect: STARTTLS and the TLS handshake when tls.mode is starttls (link-tls.ts; any
 *   refusal or failure drops the link, never plaintext), then USERNAME/PASSWORD when configured. Descriptive variables are taken
 *   from the first LIST VAR of each connection (no extra round trip).
 * - Each collect: `LIST VAR <ups>`, one round trip, until `END LIST VAR <ups>` or the
 *   deadline (timeoutMs, or the job's signal, whichever is first).
 * - `ups.status` WAIT (upsd has no data from the driver yet): a NutUpsError 'waiting'.
 * - ERR UNKNOWN-UPS: `LIST UPS`, and a NutUpsError that names the UPSes upsd knows.
 *   ERR DATA-STALE / DRIVER-NOT-CONNECTED: a NutUpsError for this poll; the link stays up.
 * - A reply that is late or does not parse: the connection is dropped (the next reply could
 *   not be matched to its request) and reopened on the next poll; so is a closed link.
 * - Control verbs (instant commands, control.ts) run on the same connection, between polls.
 * - The connection's lifecycle (open or defer on start, reopen on the next poll, close once) is
 *   the kit's PortKeeper, the one request in flight its ReplySlot (src/devices/kit/).
 */
import { DeviceError, FrameError, TransportError, errorMessage } from '../../core/errors.js';
import { safeCapture, type CaptureHook } from '../kit/capture.js';
import { PortKeeper } from '../kit/port.js';
import { realSleep, ReplySlot } from '../kit/reply.js';
import type { CollectResult, ControlRequest, ControlResult, DeviceSession, DriverContext } from '../types.js';
import type { NutUpsOptions } from './config.js';
import { decodeVariables, deviceInfo, type DeviceInfo } from './tables.js';
import { readingToPoint } from './points.js';
import { ListReader, loginRequests, NutError, parseErr } from './codec.js';
import { LineFramer } from './framer.js';
import { carryOut, type NutUpsControlParams } from './control.js';
import { NutUpsError } from './errors.js';
import { loadTlsUpgradeOptions, readStarttlsReply, starttlsRefused, upgradeTransport } from './link-tls.js';
import type { TlsUpgradeOptions } from '../../transports/transport.js';

/** The request in flight: what reads its reply lines, and its verb (toString, for ReplySlot's messages). */
interface Awaited {
  toString(): string;
  /** Returns a value when the reply is complete, undefined while more lines are expected. */
  onLine(line: string): { value: unknown } | undefined;
}

export class NutUpsSession implements DeviceSession {
  private readonly framer = new LineFramer();
  private readonly keeper: PortKeeper;
  private readonly slot = new ReplySlot<unknown, Awaited>();
  private readonly captureHook: CaptureHook | undefined;
  /** STARTTLS and login done on the open connection. */
  private ready = false;
  private info: DeviceInfo | undefined;
  /** When this poll's first exchange happened: its point carries it. */
  private pollTimeMs: number | undefined;
  private tlsOptions: TlsUpgradeOptions | undefined;
  private readonly counts = { polls: 0, polls_ok: 0, timeouts: 0, stale: 0, protocol_errors: 0, nut_errors: 0, stray_lines: 0 };

  constructor(private readonly ctx: DriverContext<NutUpsOptions>) {
    this.keeper = new PortKeeper(ctx, {
      name: 'nut-ups',
      port: 'nut-ups: connection to upsd',
      onClose: () => this.forget(new TransportError(`${ctx.transport.key}: upsd closed the connection; reconnecting on the next poll`, true)),
    });
    this.captureHook = safeCapture(ctx, 'nut-ups:');
    ctx.transport.on('data', this.onData);
    // An emitter with no 'error' listener throws; the 'close' that follows is what counts.
    ctx.transport.on('error', this.onError);
  }

  /** Maker, model, serial and firmware from the current connection (undefined before the first poll). */
  get deviceInfo(): DeviceInfo | undefined {
    return this.info;
  }

  async start(): Promise<void> {
    this.keeper.assertOpen();
    // A CA file that cannot be read is a configuration error: said now, not as "did not open".
    await this.loadTls();
    // upsd may come up after the worker (or refuse the login for now): collect() retries and reports.
    await this.keeper.start(() => this.connect(AbortSignal.timeout(this.ctx.options.timeoutMs * 2)));
  }

  async collect(signal: AbortSignal): Promise<CollectResult> {
    signal.throwIfAborted();
    this.keeper.assertOpen();
    this.counts.polls++;
    this.pollTimeMs = undefined;
    await this.connect(signal);
    const ups = this.ctx.options.ups;
    const vars = await this.listVars(signal);
    const timeMs = this.pollTimeMs ?? this.ctx.clock.now();
    // upsd answers `ups.status "WAIT"` (and little else) until the driver's first data set.
    if (vars.get('ups.status')?.trim() === 'WAIT') {
      throw new NutUpsError(`${this.ctx.device}: UPS ${ups}: upsd is still waiting for the first data from the UPS driver`, this.ctx.device, 'waiting');
    }
    if (!this.info) {
      const info = deviceInfo(vars);
      // Kept for the connection once there is something to keep; looked for again otherwise.
      if (Object.keys(info).length > 0) {
        this.info = info;
        this.ctx.log.info({ ups, ...info }, 'nut-ups: UPS found');
      }
    }
    const decoded = decodeVariables(vars);
    const point = readingToPoint({ ups, decoded, info: this.info ?? {}, timeMs }, { device: this.ctx.device, tags: this.ctx.tags, infoTags: this.ctx.options.info === 'tags' });
    if (!point) throw new NutUpsError(`${this.ctx.device}: upsd listed no usable variable for UPS ${ups}`, this.ctx.device, 'protocol');
    this.counts.polls_ok++;
    const result: CollectResult = { points: [point] };
    if (decoded.bad.length > 0) {
      // Counted by variable (a stable reason); the value goes to the log.
      result.dropped = decoded.bad.map((b) => ({ reason: `${b.name}: not a usable number`, count: 1 }));
      for (const b of decoded.bad) this.ctx.log.warn({ variable: b.name, value: b.value }, 'nut-ups: variable left out');
    }
    return result;
  }

  /** A control verb (control.ts) on this session's connection: no second connection to upsd. */
  async control(request: ControlRequest, signal: AbortSignal): Promise<ControlResult> {
    signal.throwIfAborted();
    this.keeper.assertOpen();
    await this.connect(signal);
    return carryOut(request.params as NutUpsControlParams, this.ctx.options.ups, this.ctx.device, (command, onLine) => this.request(command, signal, onLine));
  }

  close(): Promise<void> {
    this.slot.fail(() => new TransportError(`${this.ctx.transport.key}: session closed`, false));
    return this.keeper.close(() => this.ctx.transport.off('data', this.onData));
  }

  stats(): Record<string, number> {
    const { polls, polls_ok, ...rest } = this.counts;
    const { reopens, open_failures } = this.keeper.counts;
    // The order `wattline devices --stats` has always shown.
    return { polls, polls_ok, reopens, open_failures, ...rest, link_open: this.ctx.transport.isOpen ? 1 : 0 };
  }

  private async connect(signal: AbortSignal): Promise<void> {
    if (this.ready && this.ctx.transport.isOpen) return;
    this.ready = false;
    const tls = await this.loadTls();
    if (await this.keeper.ensureOpen()) this.forget();
    if (tls) await this.startTls(tls, signal);
    const { username, password } = this.ctx.options;
    try {
      for (const login of loginRequests(username, password)) await this.simple(login, signal);
    } catch (err) {
      if (err instanceof NutError) {
        await this.drop();
        throw new NutUpsError(`${this.ctx.device}: upsd refused the login as ${JSON.stringify(username)}: ERR ${err.nutCode}`, this.ctx.device, 'login', [], { cause: err });
      }
      throw err;
    }
    this.ready = true;
  }

  private async loadTls(): Promise<TlsUpgradeOptions | undefined> {
    if (this.ctx.options.tls.mode !== 'starttls') return undefined;
    this.tlsOptions ??= await loadTlsUpgradeOptions(this.ctx.options.tls, this.ctx.device);
    return this.tlsOptions;
  }

  /** STARTTLS, `OK STARTTLS`, the handshake. Any failure drops the link: configured TLS never continues in plaintext. */
  private async startTls(tls: TlsUpgradeOptions, signal: AbortSignal): Promise<void> {
    try {
      await this.request('STARTTLS', signal, readStarttlsReply);
    } catch (err) {
      if (!(err instanceof NutError)) throw err; // request() has dropped the link already
      await this.drop();
      throw starttlsRefused(err.nutCode, this.ctx.device, this.ctx.transport.key, err);
    }
    this.framer.reset();
    try {
      await upgradeTransport(this.ctx.transport, tls, this.ctx.device);
    } catch (err) {
      await this.drop();
      throw err;
    }
    this.ctx.log.debug({ link: this.ctx.transport.key }, 'nut-ups: TLS to upsd established');
  }

  /** A command answered by one line: `OK…` resolves, `ERR` rejects with a NutError. */
  private simple(command: string, signal: AbortSignal): Promise<string> {
    return this.request<string>(command, signal, (line) => {
      const err = parseErr(line);
      if (err) throw err;
      if (!line.startsWith('OK')) throw new FrameError(`upsd: expected OK to ${command.split(' ')[0]}, got ${JSON.stringify(line)}`, 'unexpected');
      return { value: line };
    });
  }

  private async listVars(signal: AbortSignal): Promise<Map<string, string>> {
    const ups = this.ctx.options.ups;
    try {
      return await this.list(new ListReader('VAR', ups), `LIST VAR ${ups}`, signal);
    } catch (err) {
      if (!(err instanceof NutError)) throw err;
      this.counts.nut_errors++;
      const where = `${this.ctx.device}: UPS ${ups}`;
      switch (err.nutCode) {
        case 'UNKNOWN-UPS': {
          const known = [...(await this.list(new ListReader('UPS'), 'LIST UPS', signal)).keys()];
          const names = known.length > 0 ? known.join(', ') : '(none)';
          throw new NutUpsError(`${where}: upsd at ${this.ctx.transport.key} does not know this UPS; it knows: ${names}`, this.ctx.device, 'unknown-ups', known, { cause: err });
        }
        case 'DATA-STALE':
          this.counts.stale++;
          throw new NutUpsError(`${where}: data is stale (upsd has no fresh data from the UPS driver)`, this.ctx.device, 'data-stale', [], { cause: err });
        case 'DRIVER-NOT-CONNECTED':
          throw new NutUpsError(`${where}: upsd is not connected to the UPS driver`, this.ctx.device, 'driver-not-connected', [], { cause: err });
        case 'ACCESS-DENIED':
          throw new NutUpsError(`${where}: upsd denied access (check username/password and upsd.conf/upsd.users)`, this.ctx.device, 'access-denied', [], { cause: err });
        default:
          throw new NutUpsError(`${where}: upsd answered ERR ${err.nutCode}`, this.ctx.device, 'nut', [], { cause: err });
      }
    }
  }

  private list(reader: ListReader, command: string, signal: AbortSignal): Promise<Map<string, string>> {
    return this.request(command, signal, (line) => {
      const out = reader.push(line);
      if (!out.done) return undefined;
      if (!out.ok) throw out.error;
      return { value: out.entries };
    });
  }

  /**
   * Sends one command and collects its reply lines through `onLine`. A NutError (ERR reply)
   * keeps the connection; a timeout, an abort or a reply that does not parse drops it.
   */
  private async request<T>(command: string, signal: AbortSignal, onLine: (line: string) => { value: T } | undefined): Promise<T> {
    if (this.slot.waiting) throw new DeviceError(`${this.ctx.device}: a request to upsd is already running`, this.ctx.device);
    const timeoutMs = this.ctx.options.timeoutMs;
    const verb = command.startsWith('PASSWORD') ? 'PASSWORD' : command;
    const send = () => {
      this.capture('tx', command.startsWith('PASSWORD') ? 'PASSWORD [redacted]\n' : `${command}\n`);
      return this.ctx.transport.write(Buffer.from(`${command}\n`, 'utf8'));
    };
    const timedOut = () => {
      this.counts.timeouts++;
      return new NutUpsError(`${this.ctx.device}: no complete reply from upsd to ${verb} in ${timeoutMs} ms`, this.ctx.device, 'timeout');
    };
    try {
      return (await this.slot.wait({ onLine, toString: () => verb }, send, { timeoutMs, signal, sleep: realSleep, timedOut })) as T;
    } catch (err) {
      if (!(err instanceof NutError)) {
        // The reply stream can no longer be trusted: start afresh on the next poll.
        if (err instanceof FrameError) this.counts.protocol_errors++;
        await this.drop();
      }
      if (err instanceof FrameError) throw new NutUpsError(`${this.ctx.device}: ${err.message}`, this.ctx.device, 'protocol', [], { cause: err });
      throw err;
    }
  }

  /** What belonged to the connection that ended (or the one just opened never had); a request in flight fails with `err`. */
  private forget(err?: Error): void {
    this.ready = false;
    this.info = undefined;
    this.framer.reset();
    if (err) this.slot.fail(() => err);
  }

  private async drop(): Promise<void> {
    this.forget();
    if (this.ctx.transport.isOpen) await this.ctx.transport.close().catch(() => undefined);
  }

  private capture(direction: 'rx' | 'tx', data: Buffer | string): void {
    // A poll's point carries the time of its first exchange (the capture rule, types.ts).
    const now = this.ctx.clock.now();
    this.pollTimeMs ??= now;
    this.captureHook?.(direction, data, now);
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.capture('rx', chunk);
      for (const line of this.framer.push(chunk)) {
        const awaited = this.slot.waiting;
        if (!awaited) {
          this.counts.stray_lines++;
          continue;
        }
        let out: { value: unknown } | undefined;
        try {
          out = awaited.onLine(line);
        } catch (err) {
          this.slot.fail(() => (err instanceof Error ? err : new Error(String(err))));
          continue;
        }
        if (out) this.slot.offer(out.value);
      }
    } catch (err) {
      // Never throw out of an event handler.
      this.ctx.log.warn({ err: errorMessage(err) }, 'nut-ups: data handler failed');
    }
  };

  private readonly onError = (err: Error): void => {
    this.ctx.log.debug({ err: errorMessage(err) }, 'nut-ups: link error');
  };
}
