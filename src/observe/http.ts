/**
 * GET /metrics (Prometheus) and GET /health over HTTP, for scrapers and load balancers. Read
 * only: any other method is 405. A client that dawdles is cut off (request timeout) and the
 * number of open connections is capped, so no client can hold up collection or delivery.
 * Bodies carry names, counts, states and error classes: never a secret or a server's body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseListen, type HttpConfig } from '../config/observe.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { healthChecks } from './health.js';
import { PrometheusView } from './prometheus.js';
import type { Snapshot } from './snapshot.js';

export async function startHttp(o: { config: HttpConfig; observer: { snapshot(): Snapshot; healthConfig: Parameters<typeof healthChecks>[1] }; log: Logger }): Promise<{ address: string; close(): Promise<void> }> {
  const prometheus = new PrometheusView();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const body = await prometheus.render(o.observer.snapshot());
      res.writeHead(200, { 'content-type': prometheus.contentType }).end(body);
    } else if (path === '/health') {
      const health = healthChecks(o.observer.snapshot(), o.observer.healthConfig);
      res.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health) + '\n');
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('wattline: GET /metrics (Prometheus), GET /health\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.log.warn({ err: errorMessage(err), path: req.url }, 'http request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.maxConnections = o.config.maxConnections;
  server.requestTimeout = o.config.requestTimeoutMs;
  server.headersTimeout = o.config.requestTimeoutMs;
  server.keepAliveTimeout = 5000;
  // An idle (half-open) socket is closed after the request timeout too.
  server.setTimeout(o.config.requestTimeoutMs, (socket) => socket.destroy());

  await listen(server, o.config.listen);
  const address = o.config.listen;
  o.log.info({ listen: address }, 'http endpoint listening: GET /metrics, /health');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Bind `server` to `listen`; a port in use (or not ours to take) is a config error in one line. */
function listen(server: Server, address: string): Promise<void> {
  const { host, port } = parseListen(address);
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new ConfigError(`http.listen ${address}: address already in use (another program listens there)`) : new ConfigError(`http.listen ${address}: ${err.code ?? errorMessage(err)}`));
    });
    server.listen(port, host, () => resolve());
  });
}

/**
 * For `config check`: whether `http.listen` can be bound now. In use by a wattline (its
 * /health answers as ours does) is fine: that is the running worker this config belongs to.
 */
export async function checkListen(config: HttpConfig): Promise<string> {
  const probe = createServer();
  try {
    await listen(probe, config.listen);
    return `http: GET /metrics and /health on ${config.listen}`;
  } catch (err) {
    const ours = await fetch(`http://${config.listen}/health`, { signal: AbortSignal.timeout(2000) })
      .then(async (res) => 'healthy' in ((await res.json()) as object))
      .catch(() => false);
    if (ours) return `http: GET /metrics and /health on ${config.listen} (a running wattline listens there now)`;
    throw err;
  } finally {
    probe.close(() => undefined);
  }
}
