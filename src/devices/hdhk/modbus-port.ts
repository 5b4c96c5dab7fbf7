/**
 * What every modbus-serial "port" over our injected Transport shares (rtu-port.ts for RTU
 * framing on a serial line or a raw TCP stream, mbap-port.ts for Modbus TCP): modbus-serial's
 * client takes any EventEmitter with open(cb)/close(cb)/write(buf)/isOpen that emits whole
 * reply frames in RTU form (unit, function, data, CRC) as 'data', and 'error' and 'close'.
 * The subclass frames requests and replies; captures hold the RTU form either way, so a
 * capture made over the network re-decodes like a local one.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';

type Callback = (err?: Error | null) => void;

export abstract class ModbusPort extends EventEmitter {
  /** For modbus-serial: it keeps its transaction ids on the port. */
  _transactionIdRead = 1;
  _transactionIdWrite = 1;
  /** Bytes received since the last request went out (what a timeout leaves behind). */
  received = 0;

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

  /** A request from modbus-serial, in RTU form (with its CRC). */
  abstract write(data: Buffer): void;
  /** Bytes from the link. */
  protected abstract onBytes(chunk: Buffer): void;
  /** The link closed: drop any partial reply. */
  protected abstract reset(): void;

  /** Stop listening to the transport (the session is closing). */
  detach(): void {
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.transport.off('error', this.onError);
  }

  /** Put bytes on the link; a failed write surfaces as the request's timeout, and why in the log via 'error'. */
  protected send(bytes: Buffer): void {
    this.transport.write(bytes).catch((err: unknown) => this.emit('error', new Error(`write failed: ${errorMessage(err)}`)));
  }

  /** A whole reply, in RTU form, to modbus-serial. */
  protected deliver(frame: Buffer): void {
    this.capture?.('rx', frame);
    this.emit('data', frame);
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
