/**
 * STARTTLS for upsd (NUT 2.8, upsd.conf CERTFILE): the client sends `STARTTLS`, upsd
 * answers `OK STARTTLS` (or ERR FEATURE-NOT-CONFIGURED / FEATURE-NOT-SUPPORTED), then
 * the TLS handshake runs on the same TCP connection and the protocol continues inside it.
 * Used by the session (polls and control verbs share its connection). Configured STARTTLS never
 * falls back to plaintext: every failure here is an error and the caller drops the link.
 */
import { readFile } from 'node:fs/promises';
import { FrameError, TransportError, errorMessage } from '../../core/errors.js';
import type { TlsUpgradeOptions, Transport } from '../../transports/transport.js';
import type { NutUpsOptions } from './config.js';
import { parseErr, tokenize } from './codec.js';
import { NutUpsError } from './errors.js';

type TlsOptions = NutUpsOptions['tls'];

/** The upgrade options for the transport; reads the CA file. A file that cannot be read is a NutUpsError 'tls' naming the path. */
export async function loadTlsUpgradeOptions(tls: TlsOptions, device: string): Promise<TlsUpgradeOptions> {
  const out: TlsUpgradeOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.servername !== undefined) out.servername = tls.servername;
  if (tls.ca !== undefined) {
    try {
      out.ca = await readFile(tls.ca);
    } catch (err) {
      throw new NutUpsError(`${device}: tls.ca: cannot read the CA file ${tls.ca}: ${errorMessage(err)}`, device, 'tls', [], { cause: err });
    }
  }
  return out;
}

/** Reads upsd's answer to STARTTLS: `OK STARTTLS` (upsd 2.8 may also answer a bare `OK`). */
export function readStarttlsReply(line: string): { value: true } {
  const err = parseErr(line);
  if (err) throw err;
  const words = tokenize(line);
  if (words[0] === 'OK' && (words.length === 1 || (words[1] === 'STARTTLS' && words.length === 2))) return { value: true };
  throw new FrameError(`upsd: expected OK STARTTLS, got ${JSON.stringify(line)}`, 'unexpected');
}

/** A NutError answer to STARTTLS as the NutUpsError 'tls' to show. */
export function starttlsRefused(nutCode: string, device: string, link: string, cause: unknown): NutUpsError {
  const why =
    nutCode === 'FEATURE-NOT-CONFIGURED'
      ? 'upsd has no certificate configured (CERTFILE in upsd.conf); set tls.mode: off or configure upsd'
      : nutCode === 'FEATURE-NOT-SUPPORTED'
        ? 'this upsd was built without TLS support; set tls.mode: off or use a upsd with SSL'
        : `upsd answered ERR ${nutCode}`;
  return new NutUpsError(`${device}: STARTTLS refused by upsd at ${link}: ${why}; not continuing in plaintext`, device, 'tls', [], { cause });
}

/** Runs the handshake on a transport after `OK STARTTLS`; a link that cannot carry TLS, or a failed handshake, is an error. */
export async function upgradeTransport(transport: Transport, options: TlsUpgradeOptions, device: string): Promise<void> {
  if (!transport.upgradeTls) throw new NutUpsError(`${device}: tls.mode starttls: the link ${transport.key} cannot carry TLS`, device, 'tls');
  try {
    await transport.upgradeTls(options);
  } catch (err) {
    if (err instanceof TransportError && !err.retryable) {
      throw new NutUpsError(`${device}: TLS to upsd failed: ${err.message}`, device, 'tls', [], { cause: err });
    }
    throw err;
  }
}
