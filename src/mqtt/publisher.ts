/**
 * The main broker connection and everything that gets a message onto it: reconnects with
 * backoff, the `<prefix>/status` availability (last will `offline`), and the two ways out.
 * While the broker is connected and keeps up, QoS 0 messages are written as packets straight
 * into the batch for the next socket write; otherwise they wait in a bounded queue (latest per
 * topic) and go out once the broker is back, QoS 1 at most MAX_INFLIGHT at a time. What the
 * messages are is the caller's business (output.ts, announcer.ts, report-mapper.ts).
 */
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { Backoff } from '../core/backoff.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import { closeClient, createClient, errorLogger } from './connection.js';
import { PublishBatch } from './packets.js';
import { MessageQueue, type OutMessage } from './queue.js';
import { statePayload, writeStatePayload } from './series.js';

const MAX_INFLIGHT = 64;
const DROP_LOG_INTERVAL_MS = 60_000;

export type Qos = 0 | 1 | 2;

export interface PublisherOptions {
  config: MqttConfig;
  clientId: string;
  log: Logger;
  resolvePath: (path: string) => string;
  /** After each (re)connect, once availability is reset: subscribe, announce, flush. */
  onConnect: () => void;
  onMessage: (topic: string, payload: Buffer, retain: boolean) => void;
}

export class MqttPublisher {
  readonly availabilityTopic: string;
  readonly counters = { published: 0, publishErrors: 0, connects: 0 };
  private readonly cfg: MqttConfig;
  private readonly log: Logger;
  private readonly queue: MessageQueue;
  private client: MqttClient | null = null;
  /**
   * QoS 0 packets waiting for the batch's socket write. While the broker is connected, the
   * socket takes more and nothing is queued, state goes here directly, written in place
   * (packets.ts); otherwise through the queue (latest per topic, bounded).
   */
  private readonly batch = new PublishBatch();
  private inflight = 0;
  private generation = 0;
  private flushing = false;
  /** False while the socket's buffer is full (until its drain event). */
  private writable = true;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;
  private lastDropLogMs = 0;
  private readonly clientError: ReturnType<typeof errorLogger>;

  constructor(private readonly options: PublisherOptions) {
    this.cfg = options.config;
    this.log = options.log;
    this.availabilityTopic = `${this.cfg.topicPrefix}/status`;
    this.queue = new MessageQueue(this.cfg.queueSize);
    this.backoff = new Backoff(this.cfg.reconnectMinMs, this.cfg.reconnectMaxMs);
    this.clientError = errorLogger(this.log, 'mqtt client error');
  }

  /** Load the MQTT client and start connecting (not awaited: the broker may be down for days). */
  async start(): Promise<void> {
    const client = await createClient(this.cfg, this.options.clientId, { topic: this.availabilityTopic, payload: 'offline', qos: 1 }, this.options.resolvePath);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', this.clientError);
    client.on('message', (topic, payload, packet) => this.options.onMessage(topic, payload, packet.retain));
  }

  get started(): boolean {
    return this.client !== null;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Messages waiting in the queue (not the batch). */
  get queued(): number {
    return this.queue.size;
  }

  stats(): Record<string, number> {
    return {
      queued: this.queue.size,
      batched: this.batch.count,
      inflight: this.inflight,
      dropped: this.queue.dropped,
      superseded: this.queue.superseded,
      connected: this.client?.connected ? 1 : 0,
      waitingForDrain: this.writable ? 0 : 1,
    };
  }

  /** No reconnect from here on (the last messages still go out in close()). */
  stop(): void {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** The batch's last packets, then availability `offline` and a clean disconnect. */
  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (client.connected && this.writable) this.writeBatch(client);
    await closeClient(client, [{ topic: this.availabilityTopic, payload: 'offline', qos: 1, retain: true }]);
  }

  subscribe(topics: string[]): void {
    this.client?.subscribe(topics, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: errorMessage(err) }, 'mqtt: subscribe failed');
    });
  }

  /** Through the queue, whatever the connection's state (discovery, availability, removals: QoS 1). */
  enqueue(topic: string, payload: string, retain: boolean, qos: Qos = this.cfg.qos, done?: () => void): void {
    const message: OutMessage & { done?: () => void } = { topic, payload, retain, qos };
    if (done) message.done = done;
    const dropped = this.queue.dropped;
    this.queue.push(message);
    if (this.queue.dropped !== dropped && Date.now() - this.lastDropLogMs > DROP_LOG_INTERVAL_MS) {
      this.lastDropLogMs = Date.now();
      this.log.warn({ dropped: this.queue.dropped, queueSize: this.cfg.queueSize }, 'mqtt queue full: dropping the oldest messages');
    }
  }

  /** A message: at QoS 0 into the batch when it may go directly, else through the queue. */
  send(topic: string, payload: string, retain: boolean, qos: Qos = this.cfg.qos): void {
    if (qos === 0 && this.direct()) this.appendPlain(topic, payload, retain);
    else this.enqueue(topic, payload, retain, qos);
  }

  /** A point's state message, like send(): written into the batch piece by piece when it may go directly. */
  sendState(topic: string, point: Point, sharedTags: ReadonlySet<string>): void {
    if (this.cfg.qos === 0 && this.direct()) {
      this.batch.begin(topic, this.cfg.retain);
      writeStatePayload(this.batch, point, sharedTags);
      this.ended(topic);
    } else this.enqueue(topic, statePayload(point, sharedTags), this.cfg.retain);
  }

  flush(): void {
    const client = this.client;
    if (this.flushing || !client) return;
    this.flushing = true;
    try {
      while (client.connected && this.writable && this.inflight < MAX_INFLIGHT) {
        const message = this.queue.shift() as (OutMessage & { done?: () => void }) | undefined;
        if (!message) break;
        if (message.qos === 0 && !message.done) {
          this.appendPlain(message.topic, message.payload, message.retain);
          continue;
        }
        // Written before this one, so the broker sees everything in queue order.
        this.writeBatch(client);
        this.inflight++;
        const generation = this.generation;
        client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (err) => {
          // Callbacks of a connection that has closed meanwhile were already written off.
          if (generation !== this.generation) return;
          this.inflight--;
          if (err) this.counters.publishErrors++;
          else {
            this.counters.published++;
            message.done?.();
          }
          if (!this.flushing && this.queue.size > 0) setImmediate(() => this.flush());
        });
      }
    } finally {
      if (client.connected && this.writable) this.writeBatch(client);
      this.flushing = false;
    }
  }

  /** Whether a QoS 0 message may go straight into the batch: connected, the socket takes more, nothing queued before it. */
  private direct(): boolean {
    return this.writable && this.queue.size === 0 && this.client !== null && this.client.connected;
  }

  /** A QoS 0 message into the batch (its packet written in place). */
  private appendPlain(topic: string, payload: string, retain: boolean): void {
    this.batch.begin(topic, retain);
    this.batch.text(payload);
    this.ended(topic);
  }

  /** After a packet's end(): a message MQTT cannot carry is counted as a publish error and logged; the rest go. */
  private ended(topic: string): void {
    const why = this.batch.end();
    if (why === undefined) return;
    this.counters.publishErrors++;
    this.log.warn({ topic: topic.slice(0, 200) }, `mqtt: message not sent: ${why}`);
  }

  /**
   * The batch's QoS 0 packets (state, results, compatibility topics: all messages but
   * discovery and availability) as one socket write (why: packets.ts). A full socket buffer
   * pauses flushing and the direct path until drain.
   */
  private writeBatch(client: MqttClient): void {
    if (this.batch.count === 0) return;
    this.counters.published += this.batch.count;
    const stream = client.stream;
    if (stream.write(this.batch.take())) return;
    this.writable = false;
    const generation = this.generation;
    stream.once('drain', () => {
      if (generation !== this.generation) return;
      this.writable = true;
      this.flush();
    });
  }

  private onConnect(): void {
    this.counters.connects++;
    this.clientError.reset();
    this.backoff.reset();
    this.log.info({ clientId: this.options.clientId }, this.counters.connects === 1 ? 'mqtt connected' : 'mqtt reconnected');
    this.options.onConnect();
  }

  private onClose(): void {
    // Publishes in flight on the old connection are written off (their messages were state: the next poll brings newer).
    this.generation++;
    this.inflight = 0;
    this.writable = true;
    if (this.stopping || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.log.warn({ retryInMs: delay }, 'mqtt broker not reachable; collection and InfluxDB go on');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) this.client?.reconnect();
    }, delay);
  }
}
