/**
 * The running worker's control endpoint: a unix socket beside the outbox (mode 0600) and a
 * random token in a 0600 file next to it. `wattline control` reaches the device through
 * here while the worker owns the port, so a command and a poll never share the wire.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { errorMessage, TimeoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Worker } from '../worker.js';
import { errorKind, MAX_LINE_BYTES, type ControlWireRequest, type ControlWireResponse } from './protocol.js';

/** Where the endpoint of the worker using `outboxPath` listens, and its token file. */
export function controlPaths(outboxPath: string): { socket: string; token: string } {
  return { socket: `${outboxPath}.sock`, token: `${outboxPath}.token` };
}

/** Linux's sockaddr_un path limit (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;
const MAX_TIMEOUT_MS = 10 * 60_000;

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export async function startControlServer(options: { worker: Pick<Worker, 'control'> & Partial<Pick<Worker, 'statusReport'>>; outboxPath: string; log: Logger }): Promise<ControlServer> {
  const { socket: socketPath, token: tokenPath } = controlPaths(options.outboxPath);
  const log = options.log;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`control socket path is longer than ${MAX_SOCKET_PATH} bytes: ${socketPath} (move the outbox to a shorter path)`);
  }
  await removeStaleSocket(socketPath);
  const token = randomBytes(24).toString('hex');
  writeFileSync(tokenPath, token + '\n', { mode: 0o600 });

  const server: Server = createServer((socket) => handle(socket));
  const pending = new Set<Socket>();

  function handle(socket: Socket): void {
    pending.add(socket);
    socket.on('close', () => pending.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > MAX_LINE_BYTES) reply(socket, { ok: false, kind: 'input', error: 'control request too long' });
        return;
      }
      socket.removeAllListeners('data');
      void serve(socket, buffered.slice(0, nl));
    });
  }

  async function serve(socket: Socket, line: string): Promise<void> {
    let request: ControlWireRequest;
    try {
      request = parseRequest(line);
    } catch (err) {
      reply(socket, { ok: false, kind: 'input', error: errorMessage(err) });
      return;
    }
    if (!sameToken(request.token, token)) {
      log.warn({ device: request.device, verb: request.verb }, 'control request with a wrong token refused');
      reply(socket, { ok: false, kind: 'auth', error: `control endpoint ${socketPath}: wrong token (read it from ${tokenPath})` });
      return;
    }
    // `wattline status`: the worker's own verb (no device).
    if (request.device === '' && request.verb === 'status' && options.worker.statusReport) {
      reply(socket, { ok: true, summary: 'status', message: 'running', data: options.worker.statusReport() });
      return;
    }
    const signal = AbortSignal.timeout(request.timeoutMs);
    try {
      const { request: prepared, result } = await options.worker.control(request.device, request.verb, request.args, signal);
      reply(socket, { ok: true, summary: prepared.summary, message: result.message, ...(result.data ? { data: result.data } : {}) });
    } catch (err) {
      const e = signal.aborted && !(err instanceof TimeoutError) ? new TimeoutError(`${request.device} ${request.verb}: no result within ${request.timeoutMs} ms`) : err;
      log.warn({ device: request.device, verb: request.verb, err: errorMessage(e) }, 'control request failed');
      reply(socket, { ok: false, kind: errorKind(e), error: errorMessage(e) });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  log.debug({ socket: socketPath }, 'control endpoint listening');

  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of pending) s.destroy();
        server.close(() => {
          for (const p of [tokenPath]) if (existsSync(p)) unlinkSync(p);
          resolve();
        });
      }),
  };
}

function reply(socket: Socket, response: ControlWireResponse): void {
  if (socket.destroyed) return;
  socket.end(JSON.stringify(response) + '\n');
}

function parseRequest(line: string): ControlWireRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error('control request is not JSON');
  }
  const r = value as Partial<ControlWireRequest>;
  if (typeof r !== 'object' || r === null) throw new Error('control request is not a JSON object');
  if (typeof r.token !== 'string' || typeof r.device !== 'string' || typeof r.verb !== 'string') throw new Error('control request needs token, device and verb as strings');
  if (!Array.isArray(r.args) || !r.args.every((a) => typeof a === 'string')) throw new Error('control request: args must be a list of strings');
  const timeoutMs = typeof r.timeoutMs === 'number' && r.timeoutMs > 0 ? Math.min(r.timeoutMs, MAX_TIMEOUT_MS) : 30_000;
  return { token: r.token, device: r.device, verb: r.verb, args: r.args, timeoutMs };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A socket file left by a worker that died: remove it unless something still answers there. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another wattline worker already listens on ${path} (one worker per outbox)`);
  unlinkSync(path);
}

/** The token a client needs, or null when no worker wrote one. */
export function readControlToken(tokenPath: string): string | null {
  try {
    return readFileSync(tokenPath, 'utf8').trim();
  } catch {
    return null;
  }
}
