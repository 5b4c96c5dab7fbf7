/**
 * The local control endpoint's wire format: one JSON object per line each way, one request
 * per connection. Kept tiny on purpose: the only clients are `wattline control` and tests.
 */
import { ConfigError, DeviceError, InputError, TimeoutError, TransportError, WattlineError } from '../core/errors.js';

export interface ControlWireRequest {
  token: string;
  device: string;
  verb: string;
  args: string[];
  /** How long the caller waits; the worker gives up at the same time. */
  timeoutMs: number;
}

export type ControlWireResponse =
  | { ok: true; summary: string; message: string; data?: Record<string, unknown> }
  | { ok: false; kind: ErrorKind; error: string };

type ErrorKind = 'config' | 'input' | 'device' | 'timeout' | 'transport' | 'auth' | 'internal';

/** Requests are a few hundred bytes; anything this long is not a client of ours. */
export const MAX_LINE_BYTES = 64 * 1024;

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
