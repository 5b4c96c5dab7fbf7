/**
 * TLS failures in words: shared by every client that verifies a server's certificate (MQTT,
 * InfluxDB), so each names its own option (`mqtt.tls.ca`, `influx.tls.ca`) the same way.
 */

/** OpenSSL / Node codes meaning "this certificate is not one we trust (for this name)". */
export const UNTRUSTED_CERT_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The untrusted-certificate error in `err` or its causes (fetch wraps the socket's error:
 * `TypeError('fetch failed', { cause })`), as its first line and code; undefined for any other error.
 */
export function untrustedCertificate(err: unknown): { text: string; code: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNTRUSTED_CERT_CODES.has(code)) return { text: e.message.split('\n')[0]!.trim(), code };
    e = e.cause;
  }
  return undefined;
}
