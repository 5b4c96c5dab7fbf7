/**
 * QoS 0 PUBLISH packets (MQTT 3.1.1 §3.3, as the client connects) for one socket write.
 * Written here rather than through MQTT.js's publish(): its per-message path (store checks,
 * debug calls, a cork, five stream writes and an uncork) was half of the MQTT output's CPU
 * time in a worker that publishes ~45 messages a second (README, mqtt-cpu). A QoS 0 packet has
 * no message id and no acknowledgement, so no state of the client is bypassed. Checked
 * byte by byte against the specification's layout (test/unit/mqtt.test.ts) and, in the
 * integration tests, decoded by a real Mosquitto and a real MQTT.js subscriber.
 */
import type { OutMessage } from './queue.js';

/** §2.2.3: the remaining length is at most four 7-bit digits. */
const MAX_REMAINING_LENGTH = 268_435_455;
const MAX_TOPIC_BYTES = 65_535;

/**
 * One buffer holding a PUBLISH (QoS 0, DUP 0) per message, in order. A message MQTT cannot
 * carry (empty or over-long topic, over 256 MB) is left out and handed to `reject` with why.
 */
export function encodePublishes(messages: readonly OutMessage[], reject: (message: OutMessage, why: string) => void = () => {}): Buffer {
  const topicBytes = new Array<number>(messages.length);
  // 0: left out
  const remaining = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const t = Buffer.byteLength(m.topic);
    let r = 2 + t + Buffer.byteLength(m.payload);
    if (t === 0 || t > MAX_TOPIC_BYTES) {
      reject(m, `a topic of ${t} bytes (MQTT allows 1 to ${MAX_TOPIC_BYTES})`);
      r = 0;
    } else if (r > MAX_REMAINING_LENGTH) {
      reject(m, `a ${r}-byte packet (MQTT allows ${MAX_REMAINING_LENGTH})`);
      r = 0;
    } else total += 1 + lengthBytes(r) + r;
    topicBytes[i] = t;
    remaining[i] = r;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    let r = remaining[i]!;
    if (r === 0) continue;
    const m = messages[i]!;
    out[at++] = m.retain ? 0x31 : 0x30; // PUBLISH, QoS 0, RETAIN bit
    do {
      const digit = r & 0x7f;
      r >>>= 7;
      out[at++] = r > 0 ? digit | 0x80 : digit;
    } while (r > 0);
    out.writeUInt16BE(topicBytes[i]!, at);
    at += 2;
    at += out.write(m.topic, at, 'utf8');
    at += out.write(m.payload, at, 'utf8');
  }
  return out;
}

function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}
