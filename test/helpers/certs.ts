/** Self-signed certificates for tests, with a chosen common name and validity window (node-forge). */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestCert {
  /** PEM private key and certificate, ready for tls.createServer / https.createServer. */
  key: string;
  cert: string;
}

const DAY_MS = 86_400_000;

// One key for every certificate: RSA generation is the slow part and the key does not matter here.
let keyPem: string | undefined;
function key(): string {
  keyPem ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return keyPem;
}

/**
 * A certificate for `cn` (also its DNS subjectAltName) valid from `notBefore` until `notAfter`.
 * Defaults: valid since yesterday for 30 days.
 */
export function makeCert(cn: string, notAfter = new Date(Date.now() + 30 * DAY_MS), notBefore = new Date(Date.now() - DAY_MS)): TestCert {
  const privateKey = forge.pki.privateKeyFromPem(key());
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${Date.now().toString(16)}`;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const subject = [{ name: 'commonName', value: cn }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'subjectAltName', altNames: [{ type: 2, value: cn }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { key: key(), cert: forge.pki.certificateToPem(cert) };
}

/** `days` from now (negative for the past), plus `extraMs`. */
export function daysFromNow(days: number, extraMs = 0): Date {
  return new Date(Date.now() + days * DAY_MS + extraMs);
}
