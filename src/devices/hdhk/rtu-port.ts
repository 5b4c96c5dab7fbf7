/**
 * A modbus-serial "port" over our injected Transport.
 *
 * modbus-serial's own RTUBufferedPort builds its SerialPort from a path, so it cannot use
 * the worker's transport (the sim link of the demo and the tests, or SerialTransport with
 * its presence check). `new ModbusRTU(port)` accepts any EventEmitter with
 * open(cb)/close(cb)/write(buf)/isOpen that emits 'data' frames, 'error' and 'close'; this
 * is that object, with the same buffered RTU framing as RTUBufferedPort
 * (node_modules/modbus-serial/ports/rtubufferedport.js): bytes are gathered until the reply
 * to the last request is whole (length known from the request; 5 bytes for an exception),
 * then handed over as one frame; modbus-serial checks its CRC, unit and function.
 *
 * Unlike RTUBufferedPort it drops leftovers when a new request goes out (a late or partial
 * reply to a timed-out request cannot be taken for the next one) and remembers what was
 * pending, so a timeout can be told apart from a truncated frame.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';

const EXCEPTION_LENGTH = 5;
const MAX_BUFFER = 256;

type Callback = (err?: Error | null) => void;

export class TransportRtuPort extends EventEmitter {
  private buffer = Buffer.alloc(0);
  private unit = -1;
  private fc = -1;
  private expected = 0;
  /** For modbus-serial: it keeps its transaction ids on the port. */
  _transactionIdRead = 1;
  _transactionIdWrite = 1;
  /** Bytes received since the last request went out (what a timeout leaves behind). */
  received = 0;

  constructor(
    private readonly transport: Transport,
    private readonly capture?: (direction: 'rx' | 'tx', data: Buffer) => void,
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

  write(data: Buffer): void {
    this.unit = data[0] ?? -1;
    this.fc = data[1] ?? -1;
    // FC03/04: unit, fc, byte count, 2 bytes per register, CRC (2).
    this.expected = this.fc === 3 || this.fc === 4 ? 5 + 2 * data.readUInt16BE(4) : 8;
    this.buffer = Buffer.alloc(0);
    this.received = 0;
    this.capture?.('tx', data);
    // A failed write surfaces as the request's timeout; say why in the log via 'error'.
    this.transport.write(data).catch((err: unknown) => this.emit('error', new Error(`write failed: ${errorMessage(err)}`)));
  }

  /** Stop listening to the transport (the session is closing). */
  detach(): void {
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.transport.off('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_BUFFER) this.buffer = this.buffer.subarray(-MAX_BUFFER);
    // Resync: the reply starts where our unit id and function (or its exception) are.
    for (let i = 0; i + EXCEPTION_LENGTH <= this.buffer.length; i++) {
      if (this.buffer[i] !== this.unit) continue;
      const fc = this.buffer[i + 1];
      if (fc === this.fc && i + this.expected <= this.buffer.length) return this.emitFrame(i, this.expected);
      if (fc === (this.fc | 0x80)) return this.emitFrame(i, EXCEPTION_LENGTH);
      if (fc === this.fc) return; // header found, rest still to come
    }
  };

  private emitFrame(start: number, length: number): void {
    const frame = this.buffer.subarray(start, start + length);
    this.buffer = this.buffer.subarray(start + length);
    this.capture?.('rx', Buffer.from(frame));
    this.emit('data', Buffer.from(frame));
  }

  private readonly onClose = (): void => {
    this.buffer = Buffer.alloc(0);
    this.emit('close');
  };

  private readonly onError = (err: Error): void => {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  };
}
