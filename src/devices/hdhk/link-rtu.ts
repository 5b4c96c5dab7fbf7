/**
 * Modbus RTU framing over our injected Transport (a serial line, the sim link, or RTU over
 * a raw `tcp://` stream): the request goes out with its CRC; bytes are gathered until the
 * reply is whole — its length is known from the request (5 bytes for an exception) — and
 * its CRC is checked here.
 *
 * Leftovers are dropped when a new request goes out (a late or partial reply to a timed-out
 * request cannot be taken for the next one), and the reply is looked for where our unit id
 * and function (or its exception) start, so noise before it on the bus is skipped.
 */
import { crcOk, decodeReadReply, readRequestRtu, RTU_EXCEPTION_LENGTH, rtuReadReplyLength } from './framer.js';
import { ModbusRequestError, ModbusPort } from './link.js';
import { FC_READ_HOLDING } from './tables.js';

/** Longest run of bytes kept while looking for a reply (FC03 of 125 registers is 255). */
const MAX_BUFFER = 256;

export class TransportRtuPort extends ModbusPort {
  private buffer: Buffer = Buffer.alloc(0);
  private expected = 0;

  protected sendRead(start: number, count: number): void {
    const frame = readRequestRtu(this.unit, start, count);
    this.expected = rtuReadReplyLength(count);
    this.buffer = Buffer.alloc(0);
    this.capture?.('tx', frame);
    this.send(frame);
  }

  protected onBytes(chunk: Buffer): void {
    if (this.expectedCount === 0) return; // nobody is waiting: noise or a late reply
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > MAX_BUFFER) this.buffer = this.buffer.subarray(-MAX_BUFFER);
    // Resync: the reply starts where our unit id and function (or its exception) are.
    for (let i = 0; i + RTU_EXCEPTION_LENGTH <= this.buffer.length; i++) {
      if (this.buffer[i] !== this.unit) continue;
      const fc = this.buffer[i + 1];
      if (fc === FC_READ_HOLDING && i + this.expected <= this.buffer.length) return this.take(i, this.expected);
      if (fc === (FC_READ_HOLDING | 0x80)) return this.take(i, RTU_EXCEPTION_LENGTH);
      if (fc === FC_READ_HOLDING) return; // header found, rest still to come
    }
  }

  private take(start: number, length: number): void {
    const frame = this.buffer.subarray(start, start + length);
    this.buffer = Buffer.alloc(0);
    this.capture?.('rx', frame);
    if (!crcOk(frame)) return this.settle(new ModbusRequestError('CRC error'));
    try {
      this.settle(decodeReadReply(frame, 1, length - 2, this.expectedCount));
    } catch (err) {
      this.settle(err as Error);
    }
  }

  protected reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
