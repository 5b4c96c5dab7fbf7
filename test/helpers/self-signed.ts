/**
 * A throwaway self-signed certificate for TLS tests (CN and SAN localhost, one day), made
 * with the system's openssl into a temp folder. Test-only; nothing here is a real secret.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSigned {
  key: string;
  cert: string;
  /** Path of the certificate PEM (usable as a CA file: it signs itself). */
  certPath: string;
  dir: string;
  cleanup(): void;
}

export function makeSelfSigned(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-tls-'));
  const keyPath = join(dir, 'k');
  const certPath = join(dir, 'c');
  // -addext gives a subjectAltName: Node checks names against SANs, not the CN.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
