/** Database DSNs: the original `user:pass@tcp(host:port)/db?params`, `mysql://` URLs and `sqlite:PATH`. */

export type Dsn =
  | { engine: 'mysql'; user: string; password: string; host: string; port: number; database: string; params: Record<string, string> }
  | { engine: 'sqlite'; path: string };

const GO_DSN = /^(?:([^:@/]*)(?::([^@]*))?@)?(?:(tcp|unix)\(([^)]*)\))?\/([^?]*)(?:\?(.*))?$/;

export function parseDsn(dsn: string): Dsn {
  const s = dsn.trim();
  if (s.startsWith('sqlite:')) {
    const path = s.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new Error(`bad DSN ${JSON.stringify(dsn)}: sqlite:PATH needs a file path`);
    return { engine: 'sqlite', path };
  }
  if (s.startsWith('mysql://')) {
    const u = new URL(s);
    return {
      engine: 'mysql',
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: u.port ? Number(u.port) : 3306,
      database: decodeURIComponent(u.pathname.replace(/^\//, '')),
      params: Object.fromEntries(u.searchParams),
    };
  }
  const m = GO_DSN.exec(s);
  if (!m || !m[5]) {
    throw new Error(
      `bad DSN ${JSON.stringify(dsn)}: allowed: user:password@tcp(host:port)/dbname, mysql://user:password@host:port/dbname or sqlite:/path/file.db`,
    );
  }
  const [, user = '', password = '', proto, addr = '', database, query] = m;
  if (proto === 'unix') throw new Error(`bad DSN ${JSON.stringify(dsn)}: unix sockets are not supported; use tcp(host:port)`);
  const colon = addr.lastIndexOf(':');
  const host = (colon >= 0 ? addr.slice(0, colon) : addr).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = colon >= 0 ? Number(addr.slice(colon + 1)) : 3306;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad DSN ${JSON.stringify(dsn)}: port must be 1..65535`);
  return { engine: 'mysql', user, password, host, port, database, params: Object.fromEntries(new URLSearchParams(query ?? '')) };
}

/** The DSN with its password masked, for logs and messages. */
export function redactDsn(dsn: string): string {
  return dsn.replace(/^(mysql:\/\/[^:@/]*:)[^@]*@/, '$1***@').replace(/^([^:@/]*:)[^@]*@tcp/, '$1***@tcp');
}
