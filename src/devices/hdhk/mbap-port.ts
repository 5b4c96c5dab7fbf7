/**
 * Modbus TCP framing (`modbus+tcp://`, Transport.framing 'mbap'): each request goes out with
 * the MBAP header — transaction id, protocol 0, length, unit — instead of RTU's CRC, and each
 * reply is taken by the length in its header, checked (protocol 0, the transaction id and unit
 * of the request in flight: a late reply to a timed-out request is dropped, not taken for the
 * next one) and handed to modbus-serial in RTU form with a CRC computed here, as its own TCP
 * port does (node_modules/modbus-serial/ports/tcpport.js). Modbus Messaging on TCP/IP
 * Implementation Guide v1.0b §3.1.3 (MBAP header).
 */
import { ModbusPort } from './modbus-port.js';

const MBAP_LENGTH = 7; // transaction (2), protocol (2), length (2), unit (1)
const CRC_LENGTH = 2;
/** The longest MBAP frame: 7-byte header + 253-byte PDU (and a little slack for a bad length). */
const MAX_BUFFER = 1024;

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), low byte first on the wire. */
function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export class TransportMbapPort extends ModbusPort {
  private buffer: Buffer = Buffer.alloc(0);
  /** The transaction in flight: id and unit, or -1. */
  private tid = -1;
  private unit = -1;
  /** Replies dropped: wrong transaction id, unit or protocol, or a length no PDU has. */
  mismatched = 0;

  write(data: Buffer): void {
    this.capture?.('tx', data);
    const pdu = data.subarray(1, data.length - CRC_LENGTH);
    const frame = Buffer.alloc(MBAP_LENGTH + pdu.length);
    this.tid = this._transactionIdWrite;
    this.unit = data[0]!;
    frame.writeUInt16BE(this.tid, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = this.unit;
    pdu.copy(frame, MBAP_LENGTH);
    // modbus-serial filed the request under this id; the next one gets the next.
    this._transactionIdWrite = (this._transactionIdWrite % 0xffff) + 1;
    this.buffer = Buffer.alloc(0);
    this.received = 0;
    this.send(frame);
  }

  protected onBytes(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= MBAP_LENGTH) {
      const length = this.buffer.readUInt16BE(4); // unit + PDU
      if (length < 2 || length > 254) {
        // Not an MBAP header: nothing after it can be trusted to be one either.
        this.mismatched++;
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.buffer.length < 6 + length) {
        if (this.buffer.length > MAX_BUFFER) this.buffer = Buffer.alloc(0);
        return;
      }
      const tid = this.buffer.readUInt16BE(0);
      const protocol = this.buffer.readUInt16BE(2);
      const unit = this.buffer[6]!;
      const body = this.buffer.subarray(6, 6 + length); // unit + PDU
      this.buffer = this.buffer.subarray(6 + length);
      if (protocol !== 0 || tid !== this.tid || unit !== this.unit) {
        this.mismatched++;
        continue;
      }
      const rtu = Buffer.alloc(body.length + CRC_LENGTH);
      body.copy(rtu);
      rtu.writeUInt16LE(crc16(body), body.length);
      this._transactionIdRead = tid;
      this.tid = -1;
      this.deliver(rtu);
    }
  }

  protected reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}
