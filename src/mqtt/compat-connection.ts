/**
 * The original PowerWalker script's `$CONNECTED/<client id>`: 1 while connected, 0 once it
 * stops or dies. MQTT has one last will per connection (the main one's is `<prefix>/status` =
 * offline), so this one rides on a second, otherwise idle connection whose will is 0.
 */
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/log.js';
import { closeClient, createClient, errorLogger } from './connection.js';

export class CompatConnection {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: MqttClient,
    private readonly topic: string,
  ) {}

  static async open(cfg: MqttConfig, clientId: string, log: Logger, resolvePath: (p: string) => string): Promise<CompatConnection> {
    const topic = `$CONNECTED/${clientId}`;
    const client = await createClient(cfg, `${clientId}-compat`, { topic, payload: '0', qos: 0 }, resolvePath);
    const connection = new CompatConnection(client, topic);
    const backoff = new Backoff(cfg.reconnectMinMs, cfg.reconnectMaxMs);
    // Its own words: a broker may refuse this client id or topic while taking the main connection.
    const onError = errorLogger(log, 'mqtt compatibility connection ($CONNECTED) error');
    client.on('connect', () => {
      backoff.reset();
      onError.reset();
      client.publish(topic, '1', { qos: 0, retain: true });
    });
    client.on('error', onError);
    client.on('close', () => {
      if (connection.stopping || connection.timer) return;
      connection.timer = setTimeout(() => {
        connection.timer = undefined;
        if (!connection.stopping && !client.connected) client.reconnect();
      }, backoff.next());
    });
    return connection;
  }

  /** No reconnect from here on. */
  stop(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  async close(): Promise<void> {
    await closeClient(this.client, [{ topic: this.topic, payload: '0', qos: 0, retain: true }]);
  }
}
