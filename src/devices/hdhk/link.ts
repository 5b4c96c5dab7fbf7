/**
 * A lean Modbus client for the HDHK driver's one request (FC03) over our injected Transport
 * (the sim link of the demo and tests, a serial port, a TCP stream): link-rtu.ts frames it
 * for a serial line or a raw TCP stream (RTU with CRC), link-mbap.ts for Modbus TCP. The
 * frames themselves are framer.ts (pure).
 *
 * It replaced modbus-serial (issue 20's benchmark: ~45 µs of JS per request, its transaction
 * bookkeeping plus a conversion to RTU form for every MBAP reply). It keeps the small part of
 * modbus-serial's client interface the session uses (setID, setTimeout, open(cb),
 * readHoldingRegisters → { data }) and the shape of its errors (errno 'ETIMEDOUT', modbusCode,
 * 'CRC error', PortNotOpenError), so the session sorts failures as before.
 *
 * One request at a time (a bus answers one); each has its own timeout. Captures hold the RTU
 * form of every request and reply whatever the framing, so a capture made over the network
 * re-decodes like a local one.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';
import { exceptionName, MAX_READ_COUNT, type ReadReply } from './framer.js';

type Callback = (err?: Error | null) => void;

/** A failed request, shaped as modbus-serial's errors were (the session sorts by these fields). */
export class ModbusRequestError extends Error {
  constructor(
    message: string,
    readonly errno?: 'ETIMEDOUT',
    readonly modbusCode?: number,
    name = 'ModbusRequestError',
  ) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  count: number;
  resolve: (r: { data: number[] }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export abstract class ModbusPort extends EventEmitter {
  /** Bytes received since the last request went out (what a timeout leaves behind). */
  received = 0;
  protected unit = 1;
  private timeoutMs = 1000;
  private pending: Pending | null = null;

  constructor(
    private readonly transport: Transport,
    protected readonly capture?: (direction: 'rx' | 'tx', data: Buffer) => void,
  ) {
    super();
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
    transport.on('error', this.onError);
  }

  get isOpen(): boolean {
    return this.transport.isOpen;
  }

  /** The unit id the next requests go to. */
  setID(unit: number): void {
    this.unit = unit;
  }

  /** Longest wait for a whole reply, ms. */
  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  open(cb: Callback): void {
    this.transport.open().then(
      () => cb(null),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  close(cb?: Callback): void {
    this.transport.close().then(
      () => cb?.(null),
      (err: unknown) => cb?.(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /**
   * FC03: `count` registers from `start` of the current unit. `signal` (the job's) ends the wait
   * at once with its reason: stopping the worker must not wait out a gateway that never answers.
   */
  readHoldingRegisters(start: number, count: number, signal?: AbortSignal): Promise<{ data: number[] }> {
    if (!this.isOpen) return Promise.reject(new ModbusRequestError('Port Not Open', undefined, undefined, 'PortNotOpenError'));
    if (this.pending) return Promise.reject(new ModbusRequestError('a request is already in flight'));
    if (!Number.isInteger(count) || count < 1 || count > MAX_READ_COUNT) return Promise.reject(new ModbusRequestError(`cannot read ${count} registers in one request`));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(new ModbusRequestError('Timed out', 'ETIMEDOUT')), this.timeoutMs);
      const onAbort = signal && (() => this.settle(signal.reason as Error));
      this.pending = { count, resolve, reject, timer, signal, onAbort };
      if (onAbort) signal.addEventListener('abort', onAbort, { once: true });
      this.received = 0;
      this.sendRead(start, count);
    });
  }

  /** Stop listening to the transport (the session is closing). */
  detach(): void {
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.transport.off('error', this.onError);
  }

  /** Frame and send FC03 for `this.unit`; forget any partial reply to an earlier request. */
  protected abstract sendRead(start: number, count: number): void;
  /** Bytes from the link. */
  protected abstract onBytes(chunk: Buffer): void;
  /** The link closed: drop any partial reply. */
  protected abstract reset(): void;

  /** Registers asked for by the request in flight (0: none). */
  protected get expectedCount(): number {
    return this.pending?.count ?? 0;
  }

  /** Put bytes on the link; a failed write surfaces as the request's timeout, and why in the log via 'error'. */
  protected send(bytes: Buffer): void {
    this.transport.write(bytes).catch((err: unknown) => this.emit('error', new Error(`write failed: ${errorMessage(err)}`)));
  }

  /** The request in flight ends: with its reply, or with what was wrong with the frame. */
  protected settle(outcome: ReadReply | Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (outcome instanceof Error) p.reject(outcome);
    else if ('exception' in outcome) p.reject(new ModbusRequestError(exceptionName(outcome.exception), undefined, outcome.exception));
    else p.resolve({ data: outcome.words });
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    this.onBytes(chunk);
  };

  private readonly onClose = (): void => {
    this.reset();
    this.emit('close');
  };

  private readonly onError = (err: Error): void => {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };
}
