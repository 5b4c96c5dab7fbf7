/**
 * QoS 0 PUBLISH packets (MQTT 3.1.1 §3.3, as the client connects), written in place one after
 * another into one buffer for one socket write. Written here rather than through MQTT.js's
 * publish(): its per-message path (store checks, debug calls, a cork, five stream writes and
 * an uncork) was half of the MQTT output's CPU time in a worker that publishes ~45 messages a
 * second (README, mqtt-cpu). Writing the topic and the payload's pieces straight into the
 * buffer also spares the payload string, its UTF-8 copy and the message object: most of what
 * the output allocated (a heap profile: ~50 KB/s of a worker's ~800 KB/s). A QoS 0 packet has
 * no message id and no acknowledgement, so no state of the client is bypassed. Checked byte by
 * byte against the specification's layout (test/unit/mqtt.test.ts) and, in the integration
 * tests, decoded by a real Mosquitto and a real MQTT.js subscriber.
 */

/** §2.2.3: the remaining length is at most four 7-bit digits. */
const MAX_REMAINING_LENGTH = 268_435_455;
const MAX_TOPIC_BYTES = 65_535;
/** Room left for the remaining length while a packet is written: two digits, up to 16,383 bytes (nearly every message). */
const LENGTH_ROOM = 2;
const INITIAL_BYTES = 16 * 1024;

/** Where a state payload is written: piece by piece, as text. */
export interface TextSink {
  text(s: string): void;
}

/** Packets written back to back. begin(), text()..., end(); take() hands the bytes over. */
export class PublishBatch implements TextSink {
  private buf: Buffer | null = null;
  private at = 0;
  private packetStart = 0;
  private topicStart = 0;
  private payloadStart = 0;
  /** Packets in the batch. */
  count = 0;

  get length(): number {
    return this.at;
  }

  /** Start a packet: fixed header, room for the remaining length, the topic. */
  begin(topic: string, retain: boolean): void {
    this.reserve(1 + LENGTH_ROOM + 2);
    this.packetStart = this.at;
    this.buf![this.at] = retain ? 0x31 : 0x30; // PUBLISH, QoS 0, DUP 0, RETAIN bit
    this.topicStart = this.at + 1 + LENGTH_ROOM;
    this.at = this.topicStart + 2;
    this.text(topic);
    this.payloadStart = this.at;
  }

  /** Text as UTF-8: a loop for ASCII (most of it: keys, numbers, topics), Buffer.write for the rest. */
  text(s: string): void {
    const n = s.length;
    this.reserve(n * 3);
    const buf = this.buf!;
    const start = this.at;
    if (n > 64) {
      this.at = start + buf.write(s, start);
      return;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.at = start + buf.write(s, start);
        return;
      }
      buf[start + i] = c;
    }
    this.at = start + n;
  }

  /**
   * Finish the packet begun last. A packet MQTT cannot carry (empty or over-long topic, over
   * 256 MB) is taken out again; the answer says why. Undefined: it is in.
   */
  end(): string | undefined {
    const topicBytes = this.payloadStart - this.topicStart - 2;
    if (topicBytes === 0 || topicBytes > MAX_TOPIC_BYTES) return this.undo(`a topic of ${topicBytes} bytes (MQTT allows 1 to ${MAX_TOPIC_BYTES})`);
    let remaining = this.at - this.topicStart;
    if (remaining > MAX_REMAINING_LENGTH) return this.undo(`a ${remaining}-byte packet (MQTT allows ${MAX_REMAINING_LENGTH})`);
    const digits = lengthBytes(remaining);
    if (digits !== LENGTH_ROOM) {
      // Rare: a packet under 128 bytes or over 16 KB; move its body to fit the length.
      this.reserve(digits - LENGTH_ROOM);
      this.buf!.copyWithin(this.topicStart + digits - LENGTH_ROOM, this.topicStart, this.at);
      this.at += digits - LENGTH_ROOM;
    }
    const buf = this.buf!;
    buf.writeUInt16BE(topicBytes, this.topicStart + digits - LENGTH_ROOM);
    let at = this.packetStart + 1;
    do {
      const digit = remaining & 0x7f;
      remaining >>>= 7;
      buf[at++] = remaining > 0 ? digit | 0x80 : digit;
    } while (remaining > 0);
    this.count++;
    return undefined;
  }

  /** The packets so far, for one write; the batch starts empty (a new buffer: the socket may keep this one a while). */
  take(): Buffer {
    const out = this.buf ? this.buf.subarray(0, this.at) : Buffer.alloc(0);
    this.buf = null;
    this.at = 0;
    this.count = 0;
    return out;
  }

  private undo(why: string): string {
    this.at = this.packetStart;
    return why;
  }

  private reserve(bytes: number): void {
    const buf = this.buf;
    if (buf && this.at + bytes <= buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(INITIAL_BYTES, (buf?.length ?? 0) * 2, this.at + bytes));
    buf?.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}

function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}
