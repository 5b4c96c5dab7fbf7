/**
 * The local control endpoint's wire format: one JSON object per line each way, one request
 * per connection. Kept tiny on purpose: the only clients are `wattline control` and tests.
 */
import { ConfigError, DeviceError, InputError, TimeoutError, TransportError, WattlineError } from '../core/errors.js';

/**
 * `op` (default control): `control` a device verb; `reload` the config (SIGHUP's work);
 * `collect` devices now through the worker's port locks (`wattline test`/`once` beside it).
 */
export type ControlWireRequest = { token: string; /** How long the caller waits; the worker gives up at the same time. */ timeoutMs: number } & (
  { op: 'control'; device: string; verb: string; args: string[] } | { op: 'reload' } | { op: 'collect'; devices: string[]; commit: boolean }
);

/** What every verb answers with when it went well. */
export interface ControlReply {
  summary: string;
  message: string;
  data?: Record<string, unknown>;
}

export type ControlWireResponse = ({ ok: true } & ControlReply) | { ok: false; kind: ErrorKind; error: string };

type ErrorKind = 'config' | 'input' | 'device' | 'timeout' | 'transport' | 'auth' | 'internal';

/** Requests are a few hundred bytes; anything this long is not a client of ours (the rest is discarded). */
export const MAX_REQUEST_BYTES = 16 * 1024;
/** Replies carry collected lines (`wattline test` through the worker): a bound, but a roomy one. */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export function errorKind(err: unknown): ErrorKind {
  if (err instanceof ConfigError) return 'config';
  if (err instanceof WattlineError && err.code === 'input') return 'input';
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof TransportError) return 'transport';
  if (err instanceof DeviceError) return 'device';
  return 'internal';
}

/** Rebuild the typed error on the client side, so exit codes match a direct run. */
export function errorFromWire(kind: ErrorKind, message: string, device: string): Error {
  switch (kind) {
    case 'config':
    case 'auth':
      return new ConfigError(message);
    case 'input':
      return new InputError(message);
    case 'timeout':
      return new TimeoutError(message);
    case 'transport':
      return new TransportError(message, true);
    default:
      return new DeviceError(message, device);
  }
}
