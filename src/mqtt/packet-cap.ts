/**
 * A cap on the MQTT packets the worker receives (issue 23: every reader bounded). Under MQTT.js,
 * mqtt-packet keeps a packet's bytes until the whole packet is there, whatever length its header
 * declares (MQTT allows 256 MB), and MQTT.js compares a packet with a maximum size only after
 * that, and only for MQTT 5. The worker subscribes to commands of a few bytes, so anyone who may
 * publish on a command topic could otherwise make it hold hundreds of megabytes.
 *
 * `capIncoming` sits between the socket and MQTT.js. Packets up to the cap pass untouched. A
 * PUBLISH above it reaches MQTT.js as the same message (topic, flags, packet id: acknowledged
 * as usual, so the broker does not send it again) whose payload is a short marker
 * (`droppedPayloadBytes` reads it), and its bytes are discarded as they arrive. Any other packet
 * above the cap can only come from a broken broker: the connection is dropped (the output
 * reconnects). MQTT 3.1.1 only (what createClient speaks: an MQTT 5 PUBLISH has properties).
 */
import { Duplex } from 'node:stream';

/** Far above any command or Home Assistant status message; what a reader may hold per packet. */
export const MAX_INCOMING_PACKET_BYTES = 64 * 1024;

const PUBLISH = 3;
const MARKER = '\u0000wattline: payload dropped unread, bytes: ';

/** The size of a payload the cap dropped (the marker it left), or null for an ordinary payload. */
export function droppedPayloadBytes(payload: Buffer): number | null {
  if (payload.length > 64 || payload.length <= MARKER.length || payload.toString('latin1', 0, MARKER.length) !== MARKER) return null;
  const n = Number(payload.toString('latin1', MARKER.length));
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The byte stream from the broker, packet by packet: what to pass on to the MQTT parser.
 * Pure (no I/O): `feed` takes what the socket read and returns what MQTT.js should see;
 * it throws for an oversized packet that is not a PUBLISH.
 */
export class IncomingPacketCap {
  /** Fixed header bytes read so far (type byte and up to 4 length bytes), or a big PUBLISH's variable header. */
  private head: Buffer[] = [];
  private headBytes = 0;
  private state: 'header' | 'pass' | 'publish-head' | 'skip' = 'header';
  /** Bytes of the current packet still to come (pass, skip) or its remaining length (publish-head). */
  private left = 0;
  private firstByte = 0;
  /** A big PUBLISH's topic length, once its two bytes are in (-1 before). */
  private topicLength = -1;

  constructor(private readonly maxBytes = MAX_INCOMING_PACKET_BYTES) {}

  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'pass' || this.state === 'skip') {
        const n = Math.min(this.left, chunk.length - at);
        if (this.state === 'pass') out.push(chunk.subarray(at, at + n));
        at += n;
        this.left -= n;
        if (this.left === 0) this.state = 'header';
      } else if (this.state === 'header') {
        at = this.readHeader(chunk, at, out);
      } else {
        at = this.readPublishHead(chunk, at, out);
      }
    }
    return out;
  }

  /** One byte of a fixed header at a time (they are at most 5); at its end, decide the packet's fate. */
  private readHeader(chunk: Buffer, at: number, out: Buffer[]): number {
    const byte = chunk[at]!;
    this.head.push(chunk.subarray(at, at + 1));
    this.headBytes++;
    if (this.headBytes === 1) {
      this.firstByte = byte;
      return at + 1;
    }
    if (byte & 0x80) {
      if (this.headBytes === 5) throw new Error('mqtt: malformed packet length from the broker');
      return at + 1;
    }
    const header = Buffer.concat(this.head);
    let remaining = 0;
    for (let i = header.length - 1; i >= 1; i--) remaining = remaining * 128 + (header[i]! & 0x7f);
    this.head = [];
    this.headBytes = 0;
    if (remaining <= this.maxBytes) {
      out.push(header);
      this.left = remaining;
      this.state = remaining > 0 ? 'pass' : 'header';
    } else if (this.firstByte >> 4 === PUBLISH) {
      this.left = remaining;
      this.state = 'publish-head';
    } else {
      throw new Error(`mqtt: a packet of ${remaining} bytes from the broker (type ${this.firstByte >> 4}), over the ${this.maxBytes}-byte cap`);
    }
    return at + 1;
  }

  /** A big PUBLISH: keep its topic and packet id (at most 64 KiB + 4), then pass on the marked message and skip the rest. */
  private readPublishHead(chunk: Buffer, at: number, out: Buffer[]): number {
    const n = Math.min(this.wanted() - this.headBytes, chunk.length - at);
    this.head.push(chunk.subarray(at, at + n));
    this.headBytes += n;
    if (this.headBytes === 2 && this.topicLength < 0) {
      this.topicLength = Buffer.concat(this.head).readUInt16BE(0);
      if (this.wanted() > this.left) throw new Error('mqtt: malformed PUBLISH from the broker (its topic is longer than the packet)');
    }
    if (this.headBytes < this.wanted()) return at + n;
    const variable = Buffer.concat(this.head);
    const payload = Buffer.from(`${MARKER}${this.left - variable.length}`, 'latin1');
    out.push(Buffer.concat([Buffer.from([this.firstByte]), remainingLength(variable.length + payload.length), variable, payload]));
    this.left -= variable.length;
    this.head = [];
    this.headBytes = 0;
    this.topicLength = -1;
    this.state = this.left > 0 ? 'skip' : 'header';
    return at + n;
  }

  /** Bytes of a big PUBLISH's variable header: the topic's length, then the topic and (QoS 1 or 2) the packet id. */
  private wanted(): number {
    return this.topicLength < 0 ? 2 : 2 + this.topicLength + (((this.firstByte >> 1) & 3) > 0 ? 2 : 0);
  }
}

/** MQTT's variable-length "remaining length". */
function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

/**
 * The socket as MQTT.js sees it: writes go straight through, reads pass the cap. Errors and
 * the end of the socket reach MQTT.js as its own stream's would.
 */
export function capIncoming(socket: Duplex, maxBytes = MAX_INCOMING_PACKET_BYTES): Duplex {
  const cap = new IncomingPacketCap(maxBytes);
  const afterDrain = (cb: (err?: Error | null) => void, flushed: boolean) => (flushed ? cb() : socket.once('drain', () => cb()));
  const capped = new Duplex({
    readableHighWaterMark: socket.readableHighWaterMark,
    writableHighWaterMark: socket.writableHighWaterMark,
    write(chunk: Buffer, encoding, cb) {
      afterDrain(cb, socket.write(chunk, encoding));
    },
    writev(chunks, cb) {
      // MQTT.js corks the stream for the pieces of one packet: they leave together.
      socket.cork();
      let flushed = true;
      for (const { chunk, encoding } of chunks) flushed = socket.write(chunk, encoding as BufferEncoding) && flushed;
      socket.uncork();
      afterDrain(cb, flushed);
    },
    final(cb) {
      socket.end();
      cb();
    },
    read() {
      socket.resume();
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    let pieces: Buffer[];
    try {
      pieces = cap.feed(chunk);
    } catch (err) {
      capped.destroy(err as Error);
      return;
    }
    let more = true;
    for (const piece of pieces) more = capped.push(piece) && more;
    if (!more) socket.pause();
  });
  socket.on('end', () => capped.push(null));
  socket.on('error', (err) => capped.destroy(err));
  socket.on('close', () => capped.destroy());
  return capped;
}
