/**
 * Modbus TCP framing (`modbus+tcp://`, Transport.framing 'mbap'): each request goes out with
 * the MBAP header — transaction id, protocol 0, length, unit — instead of RTU's CRC, and each
 * reply is taken by the length in its header and checked: protocol 0, the transaction id and
 * unit of the request in flight (a late reply to a timed-out request is dropped, not taken
 * for the next one). Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3.
 *
 * Captures get the RTU form (with a CRC computed here) of both directions, so a capture made
 * over Modbus TCP decodes like one made on a local RTU port; without a capture no RTU form is
 * made (the session passes no hook then).
 */
import { decodeReadReply, MBAP_HEADER_LENGTH, mbapFrameLength, readRequestMbap, readRequestRtu, rtuFrame } from './framer.js';
import { ModbusPort } from './link.js';

/** The longest MBAP frame: 7-byte header + 253-byte PDU (and a little slack for a bad length). */
const MAX_BUFFER = 1024;
/** Nothing buffered; one shared empty Buffer rather than a new one per request and reply. */
const EMPTY = Buffer.alloc(0);

export class TransportMbapPort extends ModbusPort {
  private buffer: Buffer = EMPTY;
  /** The transaction in flight: id and unit, or -1. */
  private tid = -1;
  private tidUnit = -1;
  private nextTid = 1;
  /** Replies dropped: wrong transaction id, unit or protocol, or a length no PDU has. */
  mismatched = 0;

  protected sendRead(start: number, count: number): void {
    this.tid = this.nextTid;
    this.tidUnit = this.unit;
    this.nextTid = (this.nextTid % 0xffff) + 1;
    if (this.capture) this.capture('tx', readRequestRtu(this.unit, start, count));
    this.buffer = EMPTY;
    this.send(readRequestMbap(this.tid, this.unit, start, count));
  }

  protected onBytes(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= MBAP_HEADER_LENGTH) {
      const length = mbapFrameLength(this.buffer);
      if (length === null) {
        // Not an MBAP header: nothing after it can be trusted to be one either.
        this.mismatched++;
        this.buffer = EMPTY;
        return;
      }
      if (this.buffer.length < length) {
        if (this.buffer.length > MAX_BUFFER) this.buffer = EMPTY;
        return;
      }
      const frame = this.buffer;
      this.buffer = frame.length === length ? EMPTY : frame.subarray(length);
      // By hand, not readUInt16BE: see framer.ts put16.
      const tid = (frame[0]! << 8) | frame[1]!;
      const protocol = (frame[2]! << 8) | frame[3]!;
      if (protocol !== 0 || tid !== this.tid || frame[6] !== this.tidUnit || this.expectedCount === 0) {
        this.mismatched++;
        continue;
      }
      this.tid = -1;
      // unit + PDU, in RTU form for the capture.
      if (this.capture) this.capture('rx', rtuFrame(frame.subarray(6, length)));
      try {
        this.settle(decodeReadReply(frame, MBAP_HEADER_LENGTH, length, this.expectedCount));
      } catch (err) {
        this.settle(err as Error);
      }
    }
  }

  protected reset(): void {
    this.buffer = EMPTY;
  }
}
