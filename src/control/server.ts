/**
 * The running worker's control endpoint: a unix socket beside the outbox (mode 0600) and a
 * random token in a 0600 file next to it. `wattline control` reaches the device through
 * here while the worker owns the port, so a command and a poll never share the wire.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { errorMessage, TimeoutError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Worker } from '../runtime/worker.js';
import { errorKind, MAX_REQUEST_BYTES, type ControlReply, type ControlWireRequest, type ControlWireResponse } from './protocol.js';

/** Where the endpoint of the worker using `outboxPath` listens, and its token file. */
export function controlPaths(outboxPath: string): { socket: string; token: string } {
  return { socket: `${outboxPath}.sock`, token: `${outboxPath}.token` };
}

/** Linux's sockaddr_un path limit (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;
const MAX_TIMEOUT_MS = 10 * 60_000;
/**
 * Open connections at most: each costs a file descriptor, and the worker needs its own for
 * ports and the outbox (under a 128-file limit, 64 leave it room).
 */
export const MAX_CONNECTIONS = 64;
/** At the cap, a connection idle this long (no request yet) makes room for a new one. */
const EVICT_IDLE_AFTER_MS = 1000;
/** How long a client may take to send its request (and to go away after the reply). */
export const IDLE_TIMEOUT_MS = 10_000;

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  /** `wattline status` reads statusReport() when the worker has one. */
  worker: Pick<Worker, 'control'> & Partial<Pick<Worker, 'statusReport'>>;
  outboxPath: string;
  log: Logger;
  /** `wattline reload`: re-read the config and apply it (throws ConfigError when refused). */
  reload?: () => Promise<ControlReply>;
  /** `wattline test`/`once` beside the worker: collect now through its port locks. */
  collect?: (devices: string[], commit: boolean, signal: AbortSignal) => Promise<ControlReply>;
  /** Tests: smaller bounds. */
  maxConnections?: number;
  idleTimeoutMs?: number;
}

interface Client {
  socket: Socket;
  /** A whole request arrived: the verb runs (or ran), so this connection is not idle. */
  busy: boolean;
  since: number;
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socket: socketPath, token: tokenPath } = controlPaths(options.outboxPath);
  const log = options.log;
  const maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`control socket path is longer than ${MAX_SOCKET_PATH} bytes: ${socketPath} (move the outbox to a shorter path)`);
  }
  await removeStaleSocket(socketPath);
  const token = randomBytes(24).toString('hex');
  writeTokenFile(tokenPath, token);

  // allowHalfOpen: a client that sends its request and half-closes still gets the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => admit(socket));
  // Oldest first, so the longest-idle connection is the one to make room.
  const clients: Client[] = [];
  let atCap = false;

  function admit(socket: Socket): void {
    socket.on('error', () => undefined);
    if (clients.length >= maxConnections) {
      const idle = clients.find((c) => !c.busy && Date.now() - c.since >= EVICT_IDLE_AFTER_MS);
      if (!atCap) {
        atCap = true;
        log.warn(
          { connections: clients.length, max: maxConnections },
          idle ? 'control endpoint: connection cap reached; closing the longest-idle connection for each new one' : 'control endpoint: connection cap reached and no connection is idle; refusing new ones',
        );
      }
      if (!idle) {
        socket.destroy();
        return;
      }
      idle.socket.destroy();
      clients.splice(clients.indexOf(idle), 1);
    } else if (atCap && clients.length < maxConnections - 1) {
      atCap = false;
      log.info({ connections: clients.length }, 'control endpoint: below the connection cap again');
    }
    handle(socket);
  }

  function handle(socket: Socket): void {
    const client: Client = { socket, busy: false, since: Date.now() };
    clients.push(client);
    socket.on('close', () => {
      const at = clients.indexOf(client);
      if (at >= 0) clients.splice(at, 1);
    });
    socket.setTimeout(idleTimeoutMs, () => {
      if (!client.busy || socket.writableEnded) socket.destroy();
    });
    let buffered = '';
    socket.setEncoding('utf8');
    const take = (line: string) => {
      client.busy = true;
      socket.removeAllListeners('data');
      socket.on('data', () => undefined); // the rest is discarded
      void serve(socket, line);
    };
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl >= 0) take(buffered.slice(0, nl));
      else if (buffered.length > MAX_REQUEST_BYTES) {
        client.busy = true;
        socket.removeAllListeners('data');
        socket.on('data', () => undefined);
        reply(socket, { ok: false, kind: 'input', error: `control request longer than ${MAX_REQUEST_BYTES} bytes` });
      }
    });
    // Half-closed after a request without its newline: that was the request.
    socket.on('end', () => {
      if (client.busy) return;
      if (buffered.trim()) take(buffered);
      else socket.end();
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
    const what = request.op === 'control' ? { device: request.device, verb: request.verb } : { op: request.op };
    if (!sameToken(request.token, token)) {
      log.warn(what, 'control request with a wrong token refused');
      reply(socket, { ok: false, kind: 'auth', error: `control endpoint ${socketPath}: wrong token (read it from ${tokenPath})` });
      return;
    }
    // `wattline status`: the worker's own verb (no device).
    if (request.op === 'control' && request.device === '' && request.verb === 'status' && options.worker.statusReport) {
      reply(socket, { ok: true, summary: 'status', message: 'running', data: options.worker.statusReport() });
      return;
    }
    const signal = AbortSignal.timeout(request.timeoutMs);
    const label = request.op === 'control' ? `${request.device} ${request.verb}` : request.op;
    try {
      reply(socket, { ok: true, ...(await carryOut(request, signal)) });
    } catch (err) {
      const e = signal.aborted && !(err instanceof TimeoutError) ? new TimeoutError(`${label}: no result within ${request.timeoutMs} ms`) : err;
      // A refused reload was logged by the reloader itself, in the words config check uses.
      if (request.op !== 'reload') log.warn({ ...what, err: errorMessage(e) }, 'control request failed');
      reply(socket, { ok: false, kind: errorKind(e), error: errorMessage(e) });
    }
  }

  async function carryOut(request: ControlWireRequest, signal: AbortSignal): Promise<ControlReply> {
    switch (request.op) {
      case 'control': {
        const { request: prepared, result } = await options.worker.control(request.device, request.verb, request.args, signal);
        return { summary: prepared.summary, message: result.message, ...(result.data ? { data: result.data } : {}) };
      }
      case 'reload':
        if (!options.reload) throw new Error('this worker cannot reload its config');
        return options.reload();
      case 'collect':
        if (!options.collect) throw new Error('this worker cannot collect on request');
        return options.collect(request.devices, request.commit, signal);
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
        for (const c of clients) c.socket.destroy();
        server.close(() => {
          for (const p of [tokenPath]) if (existsSync(p)) unlinkSync(p);
          resolve();
        });
      }),
  };
}

function reply(socket: Socket, response: ControlWireResponse): void {
  if (socket.destroyed || socket.writableEnded) return;
  socket.end(JSON.stringify(response) + '\n');
}

/**
 * Write the token to a fresh 0600 file beside the path and rename it over the path: a file
 * left with looser permissions is replaced (not rewritten), and a symlink there is replaced
 * itself, its target never touched (O_EXCL does not follow links; rename replaces the entry).
 */
export function writeTokenFile(path: string, token: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, token + '\n');
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw new Error(`control token file ${path}: cannot replace it: ${errorMessage(err)}`);
  }
}

function parseRequest(line: string): ControlWireRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error('control request is not JSON');
  }
  const r = value as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error('control request is not a JSON object');
  if (typeof r.token !== 'string') throw new Error('control request needs a token (a string)');
  const timeoutMs = typeof r.timeoutMs === 'number' && r.timeoutMs > 0 ? Math.min(r.timeoutMs, MAX_TIMEOUT_MS) : 30_000;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((a) => typeof a === 'string');
  const op = r.op ?? 'control';
  if (op === 'reload') return { op, token: r.token, timeoutMs };
  if (op === 'collect') {
    if (!strings(r.devices) || typeof r.commit !== 'boolean') throw new Error('control request collect needs devices (a list of strings) and commit (true or false)');
    return { op, token: r.token, devices: r.devices, commit: r.commit, timeoutMs };
  }
  if (op !== 'control') throw new Error(`control request: unknown op ${JSON.stringify(op)} (control, reload or collect)`);
  if (typeof r.device !== 'string' || typeof r.verb !== 'string') throw new Error('control request needs token, device and verb as strings');
  if (!strings(r.args)) throw new Error('control request: args must be a list of strings');
  return { op, token: r.token, device: r.device, verb: r.verb, args: r.args, timeoutMs };
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
