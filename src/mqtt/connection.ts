/**
 * The MQTT.js client: imported on first use (the `mqtt` package costs memory and start-up
 * time that a worker without an mqtt section should not pay), configured from the config
 * section, reading every packet through a size cap, and ended with last words within a bound.
 */
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { UNTRUSTED_CERT_CODES } from '../core/tls.js';
import { capIncoming } from './packet-cap.js';

const STOP_TIMEOUT_MS = 1500;

/** What the broker publishes (retained) when the connection dies without a goodbye. */
export interface LastWill {
  topic: string;
  payload: string;
  qos: 0 | 1;
}

/** A client connecting in the background; reconnects are the caller's (reconnectPeriod 0). */
export async function createClient(cfg: MqttConfig, clientId: string, will: LastWill, resolvePath: (p: string) => string): Promise<MqttClient> {
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
  const client = connect(cfg.url, {
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
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: true },
    ...tlsOptions,
    // Connected below, once the socket MQTT.js builds (now and on every reconnect) reads through the cap.
    manualConnect: true,
  });
  capIncomingPackets(client);
  client.connect();
  // First in line, so every listener (the output's log) sees what a TLS failure means, not OpenSSL's code dump.
  client.prependListener('error', (err) => {
    // The same error object can come round again: rewrite it once.
    const clear = err.message.startsWith('TLS: ') ? undefined : tlsProblem(err, cfg);
    if (clear) err.message = clear;
  });
  return client;
}

/**
 * Every socket of this client read through `capIncoming` (packet-cap.ts). MQTT.js has no option
 * for a stream of our own beside its URL handling, so its stream builder (a private field) is
 * wrapped; the MQTT tests fail loudly if a version renames it.
 */
function capIncomingPackets(client: MqttClient): void {
  const c = client as unknown as { streamBuilder?: (client: MqttClient) => Duplex };
  const build = c.streamBuilder;
  if (typeof build !== 'function') throw new Error('MQTT.js: no streamBuilder to cap incoming packets with (a version this code does not know)');
  c.streamBuilder = (cl) => capIncoming(build(cl));
}

/** A TLS failure in words naming the config option to look at; undefined for other errors. */
export function tlsProblem(err: Error & { code?: unknown }, cfg: Pick<MqttConfig, 'tls'>): string | undefined {
  const code = typeof err.code === 'string' ? err.code : '';
  const text = err.message.split('\n')[0]!.trim();
  if (UNTRUSTED_CERT_CODES.has(code)) {
    const fix = cfg.tls?.ca ? `check mqtt.tls.ca (${cfg.tls.ca}) is the CA that signed the broker's certificate` : 'set mqtt.tls.ca to the CA that signed it';
    return `TLS: the broker's certificate is not trusted: ${text} (${code}); ${fix}`;
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || /alert certificate required/.test(text)) {
    return cfg.tls?.cert ? 'TLS: the broker asks for a client certificate and did not take mqtt.tls.cert' : 'TLS: the broker requires a client certificate: set mqtt.tls.cert and mqtt.tls.key';
  }
  const alert = /(?:sslv3|tlsv1\d?) alert (bad certificate|unknown ca|certificate (?:unknown|expired|revoked)|unsupported certificate)/.exec(text);
  if (alert) return `TLS: the broker refused the client certificate (${alert[1]}): check mqtt.tls.cert and mqtt.tls.key`;
  return undefined;
}

/** An 'error' listener that logs each distinct problem once (refused connections repeat every retry); reset() on connect. */
export function errorLogger(log: Logger, msg: string): ((err: Error) => void) & { reset(): void } {
  let last = '';
  const handler = (err: Error) => {
    const message = errorMessage(err);
    if (message === last) return;
    last = message;
    log.warn({ err: message }, msg);
  };
  return Object.assign(handler, { reset: () => void (last = '') });
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
