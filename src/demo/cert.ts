/**
 * A self-signed TLS certificate made with node:crypto alone, for the demo's "expires soon" target.
 * Node can sign but not build certificates, so the few DER structures an X.509 v3 certificate
 * needs are written here: no openssl binary and no node-forge (a devDependency) at run time.
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export interface DemoCert {
  key: string;
  cert: string;
  notAfter: Date;
}

// ---- DER --------------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
/** A BIT STRING with no unused bits. */
const bits = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
/** `[n] EXPLICIT`. */
const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps it positive). */
function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const groups: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime (years 1950–2049) or GeneralizedTime, to the second, in UTC. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2025-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const COMMON_NAME = '2.5.4.3';
const BASIC_CONSTRAINTS = '2.5.29.19';
const SUBJECT_ALT_NAME = '2.5.29.17';

function ipBytes(ip: string): Buffer {
  if (isIP(ip) !== 4) throw new Error(`only IPv4 addresses are supported here, got ${ip}`);
  return Buffer.from(ip.split('.').map(Number));
}

/**
 * An ECDSA P-256 key and a self-signed certificate for `cn` (also its DNS subjectAltName, plus
 * the given IPv4 addresses), valid from a day ago until `notAfter`.
 */
export function selfSignedCert(cn: string, notAfter: Date, ips: string[] = ['127.0.0.1']): DemoCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = seq(set(seq(oid(COMMON_NAME), utf8(cn))));
  const notBefore = new Date(Date.now() - 86_400_000);
  // X.509 has no milliseconds: round down so the certificate says exactly when it ends.
  const end = new Date(Math.floor(notAfter.getTime() / 1000) * 1000);
  const altNames = seq(tlv(0x82, Buffer.from(cn, 'ascii')), ...ips.map((ip) => tlv(0x87, ipBytes(ip))));
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ECDSA_SHA256,
    name,
    seq(time(notBefore), time(end)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(
      seq(oid(BASIC_CONSTRAINTS), bool(true), octets(seq())),
      seq(oid(SUBJECT_ALT_NAME), octets(altNames)),
    )),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  const der = seq(tbs, ECDSA_SHA256, bits(signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  // Parse it back: a mistake here must fail loudly at start, not as a puzzling TLS error later.
  const parsed = new X509Certificate(pem);
  if (!parsed.verify(publicKey)) throw new Error('generated certificate does not verify');
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: pem, notAfter: end };
}
