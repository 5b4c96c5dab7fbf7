/**
 * Throwaway certificates for TLS tests, made with the system's openssl (Debian `openssl`) in
 * a folder the test owns: a CA, a broker certificate for 127.0.0.1 signed by it (SAN
 * IP:127.0.0.1 and DNS:localhost: Node checks names against SANs, not the CN), a client
 * certificate signed by it, and a second, unrelated CA (what a wrong `tls.ca` looks like).
 * EC P-256 keys: quick to make. One day of validity. Nothing here is a real secret.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** The CA that signed server and client (PEM paths). */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate, CN `clientCn`. */
  clientCert: string;
  clientKey: string;
  clientCn: string;
  /** A CA that signed nothing here. */
  otherCa: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`);
  }
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '1',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

function makeSigned(dir: string, name: string, cn: string, ca: string, extensions: string): void {
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

/** Make the whole set in `dir` (created if missing). */
export function makeTestPki(dir: string, clientCn = 'wattline-test-client'): TestPki {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca', 'wattline test CA');
  makeCa(dir, 'other-ca', 'some other CA');
  makeSigned(dir, 'server', '127.0.0.1', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  makeSigned(dir, 'client', clientCn, 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  const p = (f: string) => join(dir, f);
  return { dir, ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key'), clientCn, otherCa: p('other-ca.pem') };
}
