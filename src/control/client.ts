/**
 * Client side of the control endpoint. `null` means no worker is listening (no socket,
 * or a socket nobody answers on): the caller then opens the port itself.
 */
import { createConnection } from 'node:net';
import { ConfigError, TimeoutError } from '../core/errors.js';
import { errorFromWire, MAX_REPLY_BYTES, type ControlReply, type ControlWireRequest, type ControlWireResponse } from './protocol.js';
import { controlPaths, readControlToken } from './server.js';

export type RemoteControlResult = ControlReply;

/** Distributes Omit over the request kinds. */
type WithoutToken<T> = T extends unknown ? Omit<T, 'token'> : never;

export async function sendToRunningWorker(outboxPath: string, request: { device: string; verb: string; args: readonly string[]; timeoutMs: number }): Promise<RemoteControlResult | null> {
  return askRunningWorker(outboxPath, { op: 'control', ...request, args: [...request.args] }, `${request.device} ${request.verb}`, request.device);
}

/**
 * Send one request to the worker that owns `outboxPath`; null when none listens. Errors come
 * back typed as the worker raised them (ConfigError → exit 2, device errors → exit 1).
 */
export async function askRunningWorker(outboxPath: string, request: WithoutToken<ControlWireRequest>, what: string, device = ''): Promise<ControlReply | null> {
  const { socket: socketPath, token: tokenPath } = controlPaths(outboxPath);
  const socket = createConnection(socketPath);
  const connected = await new Promise<boolean>((resolve, reject) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false);
      else reject(new ConfigError(`control endpoint ${socketPath}: ${err.message}`));
    });
  });
  if (!connected) {
    socket.destroy();
    return null;
  }
  const token = readControlToken(tokenPath);
  if (token === null) {
    socket.destroy();
    throw new ConfigError(`a worker listens on ${socketPath} but its token file ${tokenPath} cannot be read (run as the worker's user)`);
  }
  socket.setEncoding('utf8');
  socket.write(JSON.stringify({ token, ...request }) + '\n');
  const line = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    // The worker bounds the request by timeoutMs; allow it a moment to say so itself.
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`${what}: the running worker did not answer within ${request.timeoutMs} ms`));
    }, request.timeoutMs + 2000);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REPLY_BYTES) socket.destroy(new Error('control reply too long'));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new ConfigError(`control endpoint ${socketPath}: ${err.message}`));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      const nl = buffered.indexOf('\n');
      if (nl < 0) reject(new ConfigError(`control endpoint ${socketPath}: connection closed without a reply`));
      else resolve(buffered.slice(0, nl));
    });
  });
  const response = JSON.parse(line) as ControlWireResponse;
  if (!response.ok) throw errorFromWire(response.kind, response.error, device);
  return { summary: response.summary, message: response.message, ...(response.data ? { data: response.data } : {}) };
}
