/**
 * `ssl_expire` check: a TLS handshake (certificate deliberately not verified: an expiring or self-signed
 * certificate is exactly what this check must still see) and the leaf certificate's days left.
 */
import { isIP } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { lookupBudgetMs, ParamError, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';
import { errorText, object, optionalNumber, requiredHostPort, since, type HostPort } from './params';

export interface SslExpireParams extends HostPort {
  /** Offline unless more than this many whole days are left. */
  days: number;
}

const HANDSHAKE_TIMEOUT_MS = 15_000;
const DAY_MS = 86_400_000;

function parse(data: unknown): SslExpireParams {
  const o = object(data);
  const days = optionalNumber(o, 'days');
  if (!Number.isInteger(days)) throw new ParamError(`parameter "days" must be a whole number, got ${days}`);
  return { ...requiredHostPort(o, 'address'), days };
}

function handshake(p: SslExpireParams, address: string, timeoutMs: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    // SNI only for names (RFC 6066 does not allow IP literals). Old protocol versions and ciphers are
    // allowed: nothing is sent over this connection, and a legacy server's certificate expires too.
    const socket: TLSSocket = connect({
      host: address,
      port: p.port,
      servername: isIP(p.host) ? undefined : p.host,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake timed out after ${HANDSHAKE_TIMEOUT_MS / 1000} s`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert || Object.keys(cert).length === 0) reject(new Error('no peer certificates found'));
      else resolve(cert);
    });
  });
}

/** The subject CN (several CNs are joined), or the first subjectAltName when there is none. */
function commonName(cert: PeerCertificate): string {
  const cn: unknown = cert.subject?.CN;
  if (Array.isArray(cn)) return cn.join(', ');
  if (typeof cn === 'string' && cn) return cn;
  return cert.subjectaltname?.split(',')[0]?.replace(/^\w+:/, '').trim() ?? '';
}

async function run(p: SslExpireParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  let cert: PeerCertificate;
  try {
    // Resolved off libuv's thread pool, within a part of the deadline (see net/resolver.ts).
    const [{ address }] = await resolverOf(ctx).lookup(p.host, { timeoutMs: lookupBudgetMs(HANDSHAKE_TIMEOUT_MS) });
    cert = await handshake(p, address, Math.max(1, HANDSHAKE_TIMEOUT_MS - since(t0)));
  } catch (err) {
    return { status: 'offline', message: `TLS connection error: ${errorText(err)}`, durationMs: since(t0) };
  }
  const notAfter = new Date(cert.valid_to);
  const cn = commonName(cert);
  if (Number.isNaN(notAfter.getTime())) {
    return { status: 'offline', message: `certificate (${cn}) has an unreadable expiry date: ${cert.valid_to}`, durationMs: since(t0) };
  }
  // Whole days, rounded down: 0.9 days left is 0, and an expired certificate has negative days.
  const daysLeft = Math.floor((notAfter.getTime() - Date.now()) / DAY_MS);
  const message = `certificate (${cn}) expires in ${daysLeft} days`;
  return {
    status: daysLeft > p.days ? 'online' : 'offline',
    message,
    durationMs: since(t0),
    facts: { cn, notAfter: notAfter.toISOString(), daysLeft, issuer: cert.issuer?.CN ?? '' },
  };
}

/** The parameters `parse` reads (flags of `gobearmon check add ssl_expire`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'address', kind: 'string', required: true, help: 'host:port' },
  { key: 'days', kind: 'number', help: 'offline when the certificate expires within this many days' },
];

export const sslExpireCheck: CheckType<SslExpireParams> = { name: 'ssl_expire', params: PARAMS, parse, run, deadlineMs: () => HANDSHAKE_TIMEOUT_MS };
