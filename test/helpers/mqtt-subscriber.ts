/**
 * A real MQTT subscriber for tests (MQTT.js against the test's Mosquitto): records every
 * message with its retain flag and arrival time, and waits (bounded) for one that matches.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  atMs: number;
}

export interface Subscriber {
  readonly client: MqttClient;
  readonly messages: Received[];
  /** The first message (at or after `sinceMs`) that matches, or a timeout error naming what was awaited. */
  waitFor(match: (m: Received) => boolean, what: string, options?: { timeoutMs?: number; sinceMs?: number }): Promise<Received>;
  /** The latest payload seen on a topic. */
  last(topic: string): Received | undefined;
  publish(topic: string, payload: string, options?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
  close(): Promise<void>;
}

/** TLS for mqtts:// brokers: PEM contents (not paths), as MQTT.js / tls.connect take them. */
export interface SubscriberTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export async function subscribe(url: string, topics: string[], tls: SubscriberTls = {}): Promise<Subscriber> {
  const client = mqtt.connect(url, { clientId: `test-sub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 200, connectTimeout: 5000, ...tls });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, atMs: Date.now() });
    for (const w of waiters) w();
  });
  // Subscriptions are renewed on every (re)connect.
  client.on('connect', () => client.subscribe(topics, { qos: 1 }));
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Stop retrying, or the client keeps the test process alive.
      client.end(true);
      reject(new Error(`test subscriber: no connection to ${url}`));
    }, 10_000);
    client.once('connect', () => {
      clearTimeout(timer);
      client.subscribe(topics, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  });
  return {
    client,
    messages,
    waitFor(match, what, options = {}) {
      const since = options.sinceMs ?? 0;
      const find = () => messages.find((m) => m.atMs >= since && match(m));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise<Received>((resolve, reject) => {
        const check = () => {
          const m = find();
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what} (${messages.length} messages seen)`));
        }, options.timeoutMs ?? 15_000);
        waiters.add(check);
      });
    },
    last(topic) {
      for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.topic === topic) return messages[i];
      return undefined;
    },
    async publish(topic, payload, options = {}) {
      await client.publishAsync(topic, payload, { retain: options.retain ?? false, qos: options.qos ?? 1 });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
