/**
 * Debian's ser2net (4.x) in front of a serial device (a socat PTY end in the tests), on a free
 * loopback port: `raw` (a plain byte stream, tcp://) or `rfc2217` (telnet with RFC 2217,
 * rfc2217://). One accepter per process: two accepters on one device would fight over it, as
 * they would on a real gateway. Started from a temporary folder with a YAML config, in the
 * foreground (-n), and stopped by its PID.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { manageServer, spawnServer, waitListening, type ManagedServer } from './server-process.js';

export interface Ser2net extends ManagedServer {
  /** tcp://127.0.0.1:<port> or rfc2217://127.0.0.1:<port>. */
  url: string;
  port: number;
  logFile: string;
}

/** `device`: the serial device ser2net opens; `settings` its initial line settings in ser2net's form (9600n81). */
export async function startSer2net(device: string, mode: 'raw' | 'rfc2217', settings = '9600n81'): Promise<Ser2net> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-ser2net-'));
  const port = await freePort();
  const config = join(dir, 'ser2net.yaml');
  const logFile = join(dir, 'ser2net.log');
  const accepter = mode === 'rfc2217' ? `telnet(rfc2217),tcp,127.0.0.1,${port}` : `tcp,127.0.0.1,${port}`;
  // `local`: no modem lines (a PTY has none).
  writeFileSync(
    config,
    `%YAML 1.1
---
connection: &device
  accepter: ${accepter}
  connector: serialdev,${device},${settings},local
  options:
    kickolduser: true
`,
  );
  const launch = async () => {
    const proc = spawnServer('ser2net', ['-n', '-c', config, '-P', join(dir, 'ser2net.pid')], logFile, dir);
    await waitListening(proc, port, { logFile, name: 'ser2net' });
    return proc;
  };
  return manageServer('ser2net', dir, 2000, launch, { url: `${mode === 'rfc2217' ? 'rfc2217' : 'tcp'}://127.0.0.1:${port}`, port, logFile });
}
