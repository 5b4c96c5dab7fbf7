import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/**
 * Free TCP ports on 127.0.0.1: bind to port 0, read what the kernel chose, close. All the
 * servers are held open together, so the ports of one call are distinct. Another process
 * may still take a port before the caller binds it; rare enough for tests.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * Free ports for a server that is stopped and started again on the same port (influxd in the
 * chaos run and the outage tests): chosen below the kernel's ephemeral range, so no outgoing
 * connection and no port-0 bind of another test can take one while the server is down (the
 * chaos run once lost its influxd that way: "bind: address already in use" at a restart).
 */
export async function restartablePorts(count: number): Promise<number[]> {
  const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const lo = 10_000;
  const hi = Number.isFinite(ephemeralLow) ? ephemeralLow : 32_768;
  if (hi - lo < 1000) return freePorts(count);
  const ports: number[] = [];
  while (ports.length < count) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  return ports;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
