/**
 * Instant commands (`wattline ups <device> commands | cmd`): a short-lived upsd client of
 * its own, separate from the polling session. upsd serves many clients at once, so this
 * needs no port ownership; each call opens a connection (TcpTransport unless one is
 * injected), runs STARTTLS when tls.mode is starttls (never falling back to plaintext), logs in when credentials are configured, runs one exchange with a deadline on
 * every reply (options.timeoutMs, and the caller's signal), says LOGOUT and closes.
 *
 * ERR replies reject with a NutError (`nutCode` ACCESS-DENIED, CMD-NOT-SUPPORTED,
 * UNKNOWN-UPS, USERNAME-REQUIRED, …); no reply in time with a NutUpsError 'timeout'; a
 * reply that does not parse with a NutUpsError 'protocol'; upsd unreachable with a
 * TransportError.
 */
import { FrameError, TransportError, errorMessage } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';
import { TcpTransport } from '../../transports/tcp.js';
import type { NutUpsOptions } from './config.js';
import { cmdDescRequest, instcmdRequest, LineFramer, ListReader, listCmdRequest, loginRequests, readCmdDesc, readInstcmdReply, type InstcmdAccepted } from './protocol.js';
import { NutError } from './protocol.js';
import { NutUpsError } from './session.js';
import { loadTlsUpgradeOptions, readStarttlsReply, starttlsRefused, upgradeTransport } from './tls.js';

export interface CommandClientOptions {
  /** Config name of the device, for messages. */
  device: string;
  /** The link to upsd; default a new TcpTransport to options.host:options.port. Closed afterwards either way. */
  transport?: Transport;
  signal?: AbortSignal;
}

export interface NutCommandInfo {
  name: string;
  /** From `GET CMDDESC` when asked for; undefined if upsd had none. */
  description?: string;
}

type Opts = Pick<NutUpsOptions, 'host' | 'port' | 'ups' | 'username' | 'password' | 'timeoutMs'> & {
  /** Default off (plain TCP). */
  tls?: NutUpsOptions['tls'];
};

/** `LIST CMD <ups>` (and `GET CMDDESC` for each when `descriptions`). No login needed. */
export async function listInstantCommands(options: Opts, client: CommandClientOptions & { descriptions?: boolean }): Promise<NutCommandInfo[]> {
  return withConnection(options, client, async (c) => {
    const reader = new ListReader('CMD', options.ups);
    const names = [
      ...(
        await c.request(listCmdRequest(options.ups), (line) => {
          const out = reader.push(line);
          if (!out.done) return undefined;
          if (!out.ok) throw out.error;
          return { value: out.entries };
        })
      ).keys(),
    ];
    const result: NutCommandInfo[] = [];
    for (const name of names) {
      if (!client.descriptions) {
        result.push({ name });
        continue;
      }
      const desc = await c.request(cmdDescRequest(options.ups, name), (line) => {
        const r = readCmdDesc(line, options.ups, name);
        // An older upsd without CMDDESC answers ERR; the list is still worth having.
        return { value: r.ok ? r.value : undefined };
      });
      result.push(desc === undefined ? { name } : { name, description: desc });
    }
    return result;
  });
}

/** USERNAME/PASSWORD (when configured), then `INSTCMD <ups> <cmd> [value]`; upsd's OK, or a NutError. */
export async function runInstantCommand(options: Opts, cmd: string, value: string | undefined, client: CommandClientOptions): Promise<InstcmdAccepted> {
  const request = instcmdRequest(options.ups, cmd, value);
  return withConnection(options, client, async (c) => {
    for (const login of loginRequests(options.username, options.password)) await c.request(login, okReply);
    return c.request(request, okReply);
  });
}

function okReply(line: string): { value: InstcmdAccepted } {
  const r = readInstcmdReply(line);
  if (!r.ok) throw r.error;
  return { value: r.value };
}

interface Conversation {
  request<T>(command: string, onLine: (line: string) => { value: T } | undefined): Promise<T>;
}

async function withConnection<T>(options: Opts, client: CommandClientOptions, body: (c: Conversation) => Promise<T>): Promise<T> {
  const { device, signal } = client;
  const transport = client.transport ?? new TcpTransport({ host: options.host, port: options.port, connectTimeoutMs: options.timeoutMs });
  const framer = new LineFramer();
  let pending: { onLine: (line: string) => { value: unknown } | undefined; resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error) => {
    const p = pending;
    pending = undefined;
    p?.reject(err);
  };
  const onData = (chunk: Buffer) => {
    for (const line of framer.push(chunk)) {
      const p = pending;
      if (!p) continue;
      try {
        const out = p.onLine(line);
        if (out) {
          pending = undefined;
          p.resolve(out.value);
        }
      } catch (err) {
        pending = undefined;
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };
  const onClose = () => fail(new TransportError(`${transport.key}: upsd closed the connection`, true));
  const onError = () => undefined; // the 'close' that follows is what counts
  transport.on('data', onData);
  transport.on('close', onClose);
  transport.on('error', onError);

  const conversation: Conversation = {
    async request<R>(command: string, onLine: (line: string) => { value: R } | undefined): Promise<R> {
      signal?.throwIfAborted();
      const verb = command.startsWith('PASSWORD') ? 'PASSWORD' : command;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const reply = new Promise<R>((resolve, reject) => {
        pending = { onLine, resolve: resolve as (v: unknown) => void, reject };
        timer = setTimeout(() => fail(new NutUpsError(`${device}: no reply from upsd to ${verb} in ${options.timeoutMs} ms`, device, 'timeout')), options.timeoutMs);
        onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new NutUpsError(`${device}: ${verb} aborted`, device, 'timeout'));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      reply.catch(() => undefined);
      try {
        await transport.write(Buffer.from(`${command}\n`, 'utf8'));
        return await reply;
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
        if (err instanceof FrameError) throw new NutUpsError(`${device}: ${err.message}`, device, 'protocol', [], { cause: err });
        throw err;
      } finally {
        clearTimeout(timer);
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    },
  };

  try {
    signal?.throwIfAborted();
    const tls = options.tls?.mode === 'starttls' ? await loadTlsUpgradeOptions(options.tls, device) : undefined;
    try {
      await transport.open();
    } catch (err) {
      if (err instanceof TransportError) throw err;
      throw new TransportError(`${transport.key}: cannot connect: ${errorMessage(err)}`, true, { cause: err });
    }
    if (tls) {
      try {
        await conversation.request('STARTTLS', readStarttlsReply);
      } catch (err) {
        if (err instanceof NutError) throw starttlsRefused(err.nutCode, device, transport.key, err);
        throw err;
      }
      framer.reset();
      await upgradeTransport(transport, tls, device);
    }
    const result = await body(conversation);
    // Polite goodbye; upsd closes on its own too, so its answer is not waited for long.
    await conversation.request('LOGOUT', () => ({ value: undefined })).catch(() => undefined);
    return result;
  } finally {
    fail(new TransportError(`${transport.key}: closed`, false));
    transport.off('data', onData);
    transport.off('close', onClose);
    await transport.close().catch(() => undefined);
    transport.off('error', onError);
  }
}
