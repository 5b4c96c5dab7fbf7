/**
 * The MQTT.js client: imported on first use (the `mqtt` package costs memory and start-up
 * time that a worker without an mqtt section should not pay), configured from the config
 * section, and ended with last words within a bound.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, errorMessage } from '../core/errors.js';

const STOP_TIMEOUT_MS = 1500;

/** A client connecting in the background; reconnects are the caller's (reconnectPeriod 0). */
export async function createClient(cfg: MqttConfig, clientId: string, willTopic: string, resolvePath: (p: string) => string): Promise<MqttClient> {
  const tls = cfg.tls;
  const read = (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(resolvePath(path));
    } catch (err) {
      throw new ConfigError(`mqtt.tls.${what}: cannot read ${path}: ${errorMessage(err)}`);
    }
  };
  const tlsOptions = tls ? { ca: read('ca', tls.ca), cert: read('cert', tls.cert), key: read('key', tls.key), rejectUnauthorized: tls.rejectUnauthorized } : {};
  const { connect } = await import('mqtt');
  return connect(cfg.url, {
    clientId,
    // ${VAR:-} leaves an empty string: that means no credentials, not an empty user name.
    username: cfg.username || undefined,
    password: cfg.password || undefined,
    clean: true,
    keepalive: cfg.keepaliveS,
    connectTimeout: 10_000,
    // Reconnects are the output's (with backoff); MQTT.js's own retry at a fixed period.
    reconnectPeriod: 0,
    queueQoSZero: false,
    // mqtt-packet's default caches a Buffer for each of the 65536 two-byte numbers: 6.5 MB of
    // live heap that every full GC marks again (most of the MQTT output's CPU cost when a
    // worker is otherwise idle). Writing the few numbers a packet has costs nothing.
    writeCache: false,
    will: { topic: willTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...tlsOptions,
  });
}

/** Publish the last words (a clean disconnect sends no will), then disconnect; bounded in time. */
export async function closeClient(client: MqttClient, last: { topic: string; payload: string; qos: 0 | 1; retain: boolean }[]): Promise<void> {
  if (client.connected) {
    await withTimeout(Promise.all(last.map((m) => client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain }))), STOP_TIMEOUT_MS).catch(() => undefined);
  }
  await withTimeout(client.endAsync(false), STOP_TIMEOUT_MS).catch(() => client.end(true));
}

/** The broker URL for logs, without a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
