/**
 * A real Mosquitto broker (Debian `mosquitto`) for one test file: a temp folder with its config
 * (one listener on a free loopback port, anonymous clients, no persistence) and log, started
 * and stopped by PID; ready when its port accepts a TCP connection. With `tls`, the one
 * listener speaks TLS (mqtts://) with the given PEM files, optionally requiring a client
 * certificate signed by `cafile` (its CN becomes the user name).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { manageServer, spawnServer, waitListening } from './server-process.js';

export interface MosquittoTls {
  /** CA that client certificates must chain to (mosquitto's `cafile`). */
  cafile: string;
  certfile: string;
  keyfile: string;
  /** `require_certificate true` + `use_identity_as_username true`. */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  tls?: MosquittoTls;
}

export interface Mosquitto {
  /** `mqtt://127.0.0.1:<port>`, or `mqtts://127.0.0.1:<port>` with a TLS listener */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  /** SIGTERM, wait for exit, remove the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL and wait; keeps the folder and port for restart(). Retained messages are gone (no persistence). */
  stopHard(): Promise<void>;
  restart(): Promise<void>;
}

/** Debian installs the broker in /usr/sbin, which is not on a normal user's PATH. */
export function mosquittoBinary(): string {
  for (const path of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(path)) return path;
  return 'mosquitto';
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'wattline-mosquitto-'));
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'mosquitto.log');
  const tls = options.tls;
  // Started as root, mosquitto drops to the `mosquitto` user before it reads the PEM files, which
  // then cannot open the test's private folder: stay the user that started it.
  const tlsLines = tls
    ? `user ${userInfo().username}\ncafile ${tls.cafile}\ncertfile ${tls.certfile}\nkeyfile ${tls.keyfile}\n` + (tls.requireCertificate ? 'require_certificate true\nuse_identity_as_username true\n' : '')
    : '';
  await writeFile(configFile, `listener ${port} 127.0.0.1\n${tlsLines}allow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n`);
  const launch = async () => {
    const proc = spawnServer(mosquittoBinary(), ['-c', configFile], logFile, dir);
    await waitListening(proc, port, { logFile, name: 'mosquitto' });
    return proc;
  };
  return manageServer('mosquitto', dir, 3000, launch, { url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, port, logFile });
}
