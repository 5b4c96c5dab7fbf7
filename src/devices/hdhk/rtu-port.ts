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
import { ModbusPort } from './modbus-port.js';

const EXCEPTION_LENGTH = 5;
const MAX_BUFFER = 256;

export class TransportRtuPort extends ModbusPort {
  private buffer = Buffer.alloc(0);
  private unit = -1;
  private fc = -1;
  private expected = 0;

  write(data: Buffer): void {
    this.unit = data[0] ?? -1;
    this.fc = data[1] ?? -1;
    // FC03/04: unit, fc, byte count, 2 bytes per register, CRC (2).
    this.expected = this.fc === 3 || this.fc === 4 ? 5 + 2 * data.readUInt16BE(4) : 8;
    this.buffer = Buffer.alloc(0);
    this.received = 0;
    this.capture?.('tx', data);
    this.send(data);
  }

  protected onBytes(chunk: Buffer): void {
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
  }

  private emitFrame(start: number, length: number): void {
    const frame = Buffer.from(this.buffer.subarray(start, start + length));
    this.buffer = this.buffer.subarray(start + length);
    this.deliver(frame);
  }

  protected reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
