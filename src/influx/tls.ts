/**
 * `influx.tls`: the CA to trust and whether to verify the server's certificate, for both
 * writers and the /ping probe.
 *
 * The v1 writer and the probe use fetch. Node's global fetch (undici inside Node) takes a
 * custom CA only through a dispatcher, and Node does not export undici's Agent; so with
 * `influx.tls` set they use the `undici` package's own fetch and Agent together (one
 * implementation, whatever undici version the running Node bundles), imported only then: a
 * worker on plain http never loads it. The v2 writer passes the same options to its https.Agent.
 */
import { readFileSync } from 'node:fs';
import type { InfluxTlsConfig } from '../config/influx.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { untrustedCertificate } from '../core/tls.js';
import type { WriteOutcome } from './types.js';

export interface TlsOptions {
  ca?: Buffer;
  rejectUnauthorized: boolean;
}

/** The options for node:tls, the CA file read now (a missing file is a config error, named by its option). */
export function tlsOptions(tls: InfluxTlsConfig | undefined): TlsOptions | undefined {
  if (!tls) return undefined;
  if (tls.ca === undefined) return { rejectUnauthorized: tls.rejectUnauthorized };
  try {
    return { ca: readFileSync(tls.ca), rejectUnauthorized: tls.rejectUnauthorized };
  } catch (err) {
    throw new ConfigError(`influx.tls.ca: cannot read ${tls.ca}: ${errorMessage(err)}`);
  }
}

/** A fetch and what to close when done with it. */
export interface InfluxFetch {
  fetch: typeof fetch;
  close(): Promise<void>;
}

const GLOBAL: InfluxFetch = { fetch: (input, init) => fetch(input, init), close: async () => undefined };

/** The fetch to reach the server with: Node's global one, or (with tls options) undici's with its own Agent. */
export async function influxFetch(tls: TlsOptions | undefined): Promise<InfluxFetch> {
  if (!tls) return GLOBAL;
  const undici = await import('undici');
  const dispatcher = new undici.Agent({ connect: { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: tls.rejectUnauthorized } });
  return {
    // undici's Request/Response are the ones Node's fetch hands out too; only their TypeScript types differ.
    fetch: ((input: string | URL, init?: RequestInit) => undici.fetch(input, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch,
    close: () => dispatcher.close(),
  };
}

/**
 * An untrusted server certificate: no retry makes it trusted, so the points are kept and the
 * failure is reported loudly (fatal), naming the option that fixes it. Undefined for other errors.
 */
export function certificateOutcome(err: unknown, tls: InfluxTlsConfig | undefined): Extract<WriteOutcome, { kind: 'fatal' }> | undefined {
  const bad = untrustedCertificate(err);
  if (!bad) return undefined;
  const fix = tls?.ca ? `check influx.tls.ca (${tls.ca}) is the CA that signed it` : 'set influx.tls.ca to the CA that signed it';
  return { kind: 'fatal', status: null, message: `TLS: the InfluxDB server's certificate is not trusted: ${bad.text} (${bad.code}); ${fix}` };
}
