/**
 * Where a device's bytes go: a local serial device path, or a network address in `port.path`
 * (docs/network.md): `tcp://host:port` (a raw byte stream: ser2net raw, P1 Wi-Fi readers,
 * transparent RS-485 gateways), `rfc2217://host:port` (telnet with RFC 2217 COM-port control:
 * the serial settings are sent to the remote port) and `modbus+tcp://host[:502]` (Modbus TCP,
 * MBAP framing). Pure: parsing only.
 */

export type NetworkScheme = 'tcp' | 'rfc2217' | 'modbus+tcp';

export interface NetworkAddress {
  scheme: NetworkScheme;
  host: string;
  port: number;
}

const DEFAULT_PORTS: Partial<Record<NetworkScheme, number>> = { 'modbus+tcp': 502 };
const SCHEMES: readonly NetworkScheme[] = ['tcp', 'rfc2217', 'modbus+tcp'];

/** True when `path` is meant as a URL (has a scheme), so it must parse as one. */
export function isNetworkPath(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path);
}

/** `tcp://gateway:4001` → its parts, or a one-line reason why it is not a usable address. */
export function parseNetworkPath(path: string): NetworkAddress | string {
  let url: URL;
  try {
    url = new URL(path);
  } catch {
    return `not a URL: "${path}"`;
  }
  const scheme = url.protocol.slice(0, -1) as NetworkScheme;
  if (!SCHEMES.includes(scheme)) return `unknown scheme "${scheme}://" (use ${SCHEMES.map((s) => `${s}://`).join(', ')} or a device path)`;
  if (url.username || url.password) return 'no user or password in a device address';
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) return `only host and port: "${path}"`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return `no host in "${path}"`;
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];
  if (port === undefined) return `no port in "${path}" (${scheme}://host:port)`;
  return { scheme, host, port };
}
